"""Translation catalogs (gettext .po files read with Babel); every user-facing text lives there."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


@lru_cache(maxsize=len(LANGUAGES))
def catalog(lang: str) -> Translations:
    """The compiled catalog of a language (compiled in memory: no build step needed)."""
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "bot.po").open("rb") as fh:
        po = read_po(fh, locale=lang, domain="bot")
    buf = io.BytesIO()
    write_mo(buf, po)
    buf.seek(0)
    return Translations(buf, domain="bot")


def normalise_language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(lang: str, key: str, **params: object) -> str:
    text: str = catalog(normalise_language(lang)).gettext(key)
    return text.format(**params) if params else text
