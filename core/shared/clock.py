"""Time helpers: everything is stored in UTC (aware datetimes) and shown in the configured zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).date()


def local_day_bounds_utc(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC [from, to) covering the local calendar days start..end inclusive."""
    lo = datetime.combine(start, time.min, tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return lo, hi
