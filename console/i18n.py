"""The console's texts (Babel catalogs in console/locales) and how it writes times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal

from core.cases import queries
from core.shared.errors import Conflict, DomainError, Forbidden, NotFound
from core.shared.i18n import LANGUAGES, normalise_language, translate

LOCALES_DIR = Path(__file__).resolve().parent / "locales"

__all__ = [
    "LANGUAGES",
    "LOCALES_DIR",
    "long_time",
    "normalise_language",
    "refusal",
    "short_time",
    "shown_count",
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


# What is said for a refusal core gives no rule key for, by its kind.
_KIND_KEYS: tuple[tuple[type[DomainError], str], ...] = (
    (NotFound, "why.not_found"),
    (Forbidden, "why.forbidden"),
    (Conflict, "why.conflict"),
)


def refusal(lang: str, exc: DomainError) -> str:
    """Why core refused, in the user's language: the catalog's words for the rule core
    names (`exc.why`), with its values (a status by its label). For a refusal without a
    rule key, the words for its kind; the English message is added only to the generic
    "not accepted" (it is better than nothing, and is logged by no one else)."""
    if exc.why:
        params: dict[str, object] = dict(exc.params)
        if "status" in params:
            params["status"] = t(lang, f"status.{params['status']}")
        try:
            return t(lang, f"why.{exc.why}", **params)
        except (KeyError, IndexError, ValueError):  # words and values out of step
            return exc.message
    for kind, key in _KIND_KEYS:
        if isinstance(exc, kind):
            return t(lang, key)
    return t(lang, "why.invalid", detail=exc.message)


def shown_count(number: int, lang: str, *, searched: bool = False) -> str:
    """A view's count as the language writes it ("1.234" / "1,234"); under a text search,
    past core's cap, "200+" (core stops counting there)."""
    cap = queries.COUNT_CAP
    if searched and number > cap:
        return f"{format_decimal(cap, locale=normalise_language(lang))}+"
    return format_decimal(number, locale=normalise_language(lang))


def long_time(moment: datetime | None, lang: str, tz: ZoneInfo, zone: str) -> str:
    if moment is None:
        return "-"
    text = format_datetime(moment, _LONG[normalise_language(lang)], tzinfo=tz, locale=lang)
    return f"{text} {zone}"


@lru_cache(maxsize=4)
def _short_months(lang: str) -> dict[int, str]:
    """The language's abbreviated month names ("Des" / "Dec"), from Babel's locale data."""
    return dict(Locale.parse(lang).months["format"]["abbreviated"])


def short_time(moment: datetime | None, lang: str, tz: ZoneInfo, zone: str) -> str:
    """`_SHORT` written directly (an inbox page shows 100 of them: Babel's general formatter
    took a fifth of the page's time); tests hold it equal to Babel's."""
    if moment is None:
        return "-"
    lang = normalise_language(lang)
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz)
    sep = "." if lang == "id" else ":"
    month = _short_months(lang)[local.month]
    return f"{local.day} {month} {local.year} {local.hour:02d}{sep}{local.minute:02d} {zone}"
