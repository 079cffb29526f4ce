"""The SLA clock: working days in the configured zone, Indonesian public holidays excluded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_working_day(day: date, country: str = "ID") -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def add_working_days(start: date, days: int, country: str = "ID") -> date:
    """The date `days` working days after `start` (start itself does not count)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current, country):
            remaining -= 1
    return current


def end_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    """The instant the local day ends (midnight after it), as an aware datetime."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


@dataclass(frozen=True)
class SlaPolicy:
    tz: ZoneInfo
    verify_working_days: int = 3
    followup_working_days: int = 5
    resolve_days: int = 60
    country: str = "ID"

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def verify_due(self, received_at: datetime) -> datetime:
        day = add_working_days(self._local_day(received_at), self.verify_working_days, self.country)
        return end_of_local_day(day, self.tz)

    def followup_due(self, verified_at: datetime) -> datetime:
        day = add_working_days(
            self._local_day(verified_at), self.followup_working_days, self.country
        )
        return end_of_local_day(day, self.tz)

    def resolve_due(self, received_at: datetime) -> datetime:
        day = self._local_day(received_at) + timedelta(days=self.resolve_days)
        return end_of_local_day(day, self.tz)
