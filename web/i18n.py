"""The public site's texts (a Babel catalog in web/locales) and how it writes numbers."""

from __future__ import annotations

from pathlib import Path

from core.shared.i18n import LANGUAGES, normalise_language, translate

LOCALES_DIR = Path(__file__).resolve().parent / "locales"

__all__ = ["LANGUAGES", "LOCALES_DIR", "normalise_language", "t"]


def t(lang: str, key: str, **params: object) -> str:
    return translate(LOCALES_DIR, "web", lang, key, **params)
