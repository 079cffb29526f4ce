"""The console's texts (Babel catalogs in console/locales) and how it writes times."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from core.shared.i18n import LANGUAGES, normalise_language, translate

LOCALES_DIR = Path(__file__).resolve().parent / "locales"

__all__ = [
    "LANGUAGES",
    "LOCALES_DIR",
    "long_time",
    "normalise_language",
    "short_time",
    "shown_deadline",
    "t",
]

# "Senin, 30 November 2026 14.05 WITA" / "Monday, 30 November 2026 14:05 WITA"
_LONG = {"id": "EEEE, d MMMM y HH.mm", "en": "EEEE, d MMMM y HH:mm"}
# "30 Nov 14.05" / "30 Nov 14:05": in lists, where the year is this year's
_SHORT = {"id": "d MMM y HH.mm", "en": "d MMM y HH:mm"}


def shown_deadline(due_at: datetime, tz: ZoneInfo) -> datetime:
    """A deadline at local midnight ends the day before: shown as that day's last minute
    ("Rabu ... 23.59", not "Kamis ... 00.00", which reads as a day later)."""
    local = due_at.astimezone(tz)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return due_at - timedelta(minutes=1)
    return due_at


def t(lang: str, key: str, **params: object) -> str:
    return translate(LOCALES_DIR, "console", lang, key, **params)


def long_time(moment: datetime | None, lang: str, tz: ZoneInfo, zone: str) -> str:
    if moment is None:
        return "-"
    text = format_datetime(moment, _LONG[normalise_language(lang)], tzinfo=tz, locale=lang)
    return f"{text} {zone}"


def short_time(moment: datetime | None, lang: str, tz: ZoneInfo, zone: str) -> str:
    if moment is None:
        return "-"
    text = format_datetime(moment, _SHORT[normalise_language(lang)], tzinfo=tz, locale=lang)
    return f"{text} {zone}"
