"""gettext catalogs (.po files read with Babel, compiled in memory: no build step).

Core has its own small catalog for the texts it writes to people (digests, reminders);
the bot has its own for its conversations. Both use this loader.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
CORE_LOCALES = Path(__file__).resolve().parent / "locales"


def normalise_language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@lru_cache(maxsize=16)
def load_catalog(locales_dir: Path, domain: str, lang: str) -> Translations:
    with (locales_dir / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as fh:
        po = read_po(fh, locale=lang, domain=domain)
    buf = io.BytesIO()
    write_mo(buf, po)
    buf.seek(0)
    return Translations(buf, domain=domain)


def translate(locales_dir: Path, domain: str, lang: str, key: str, **params: object) -> str:
    text: str = load_catalog(locales_dir, domain, normalise_language(lang)).gettext(key)
    return text.format(**params) if params else text


def ct(lang: str, key: str, **params: object) -> str:
    """A text of core's own catalog (digests, reminders)."""
    return translate(CORE_LOCALES, "core", lang, key, **params)
