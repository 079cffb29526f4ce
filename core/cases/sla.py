"""The SLA clock: working days in the configured zone, Indonesian public holidays excluded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
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


_EXACT_SPAN = 400  # days counted one by one; beyond them, five in seven (holidays aside)


def working_days_between(start: date, end: date, country: str = "ID") -> int:
    """How many working days come after `start` up to and including `end` (0 if none).
    Exact over the next 400 days; a deadline further away (imported data) is estimated."""
    count = 0
    current = start
    last = min(end, start + timedelta(days=_EXACT_SPAN))
    while current < last:
        current += timedelta(days=1)
        if is_working_day(current, country):
            count += 1
    return count + max(0, (end - last).days) * 5 // 7


def due_day(due_at: datetime, tz: ZoneInfo) -> date:
    """The local day a deadline falls on: a deadline at the end of a local day (midnight
    after it, as `end_of_local_day` makes them) belongs to that day."""
    return (due_at - timedelta(microseconds=1)).astimezone(tz).date()


def working_days_left(due_at: datetime, policy: SlaPolicy, *, now: datetime) -> int:
    """Working days left before a deadline, in the policy's zone: 0 when it falls today (or
    on a day off before the next working day), 1 when on the next working day, and so on;
    negative once it has passed (-1, whatever the delay)."""
    if due_at <= now:
        return -1
    today = now.astimezone(policy.tz).date()
    return working_days_between(today, due_day(due_at, policy.tz), policy.country)


class Urgency(StrEnum):
    """How close a running deadline is, as the inbox's badges say it."""

    overdue = "overdue"  # passed
    today = "today"  # falls on today's local date
    soon = "soon"  # within one working day
    later = "later"


@dataclass(frozen=True)
class TimeLeft:
    urgency: Urgency
    working_days: int  # working days left (see `working_days_left`)


def time_left(due_at: datetime, policy: SlaPolicy, *, now: datetime) -> TimeLeft:
    """The badge of a running deadline: overdue, due today (local date), due within one
    working day, or later, with the working days left."""
    days = working_days_left(due_at, policy, now=now)
    if days < 0:
        return TimeLeft(Urgency.overdue, days)
    if due_day(due_at, policy.tz) == now.astimezone(policy.tz).date():
        return TimeLeft(Urgency.today, 0)
    if days <= 1:
        return TimeLeft(Urgency.soon, days)
    return TimeLeft(Urgency.later, days)
