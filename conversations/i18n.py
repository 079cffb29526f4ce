"""The bot's translation catalog; every text the bot shows lives there."""

from __future__ import annotations

from pathlib import Path

from core.shared.i18n import DEFAULT_LANGUAGE, LANGUAGES, normalise_language, translate

LOCALES_DIR = Path(__file__).resolve().parent / "locales"

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "LOCALES_DIR", "normalise_language", "t"]


def t(lang: str, key: str, **params: object) -> str:
    return translate(LOCALES_DIR, "conversations", lang, key, **params)
