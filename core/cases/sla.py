"""The SLA clock: working days in the configured zone. Not working days: weekends, Indonesian
public holidays, the collective leave days (cuti bersama) of the yearly joint decree, and the
office's own closed days (an administrator's list, `core.cases.calendar`).

Every computation asks the policy for its closed days once (`SlaPolicy.calendar`) and then
counts in memory: no query per day."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from core.shared.config import Settings

# Where `holidays` keeps the cuti bersama of the SKB 3 Menteri (for ID: "government").
CUTI_BERSAMA_CATEGORY = "government"


@lru_cache(maxsize=128)
def _holidays(country: str, year: int, cuti_bersama: bool = True) -> frozenset[date]:
    days = set(holidays.country_holidays(country, years=year).keys())
    if cuti_bersama:
        days.update(cuti_bersama_days(year, country))
    return frozenset(days)


def cuti_bersama_days(year: int, country: str = "ID") -> dict[date, str]:
    """The collective leave days `holidays` knows for `year` (empty: not decided yet)."""
    try:
        found = holidays.country_holidays(country, years=year, categories=(CUTI_BERSAMA_CATEGORY,))
    except NotImplementedError:
        return {}
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days: weekdays that are not a public holiday, not a cuti
    bersama day (unless switched off) and not one of the office's closed days."""

    country: str = "ID"
    cuti_bersama: bool = True
    closed: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and day not in self.closed
            and day not in _holidays(self.country, day.year, self.cuti_bersama)
        )

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself does not count)."""
        current = start
        remaining = days
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days come after `start` up to and including `end` (0 if none).
        Exact over the next 400 days; a deadline further away (imported data) is estimated."""
        count = 0
        current = start
        last = min(end, start + timedelta(days=_EXACT_SPAN))
        while current < last:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count + max(0, (end - last).days) * 5 // 7


def is_working_day(day: date, country: str = "ID") -> bool:
    """A working day by the national calendar (holidays and cuti bersama; no office days)."""
    return WorkCalendar(country).is_working_day(day)


def add_working_days(start: date, days: int, country: str = "ID") -> date:
    """The date `days` working days after `start` by the national calendar."""
    return WorkCalendar(country).add_working_days(start, days)


def end_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    """The instant the local day ends (midnight after it), as an aware datetime."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


class ResolveFrom(StrEnum):
    """The event that starts the resolution clock (`SLA_RESOLVE_FROM`)."""

    received = "received"  # the day the complaint arrived
    complete = "complete"  # the day its file is complete: verification (Perpres 76/2013)


ClosedDays = Callable[[], frozenset[date]]


def no_closed_days() -> frozenset[date]:
    return frozenset()


@dataclass(frozen=True)
class FixedClosedDays:
    """A closed-day source that always answers the same set (read once for one job)."""

    days: frozenset[date]

    def __call__(self) -> frozenset[date]:
        return self.days


@dataclass(frozen=True)
class SlaPolicy:
    tz: ZoneInfo
    verify_working_days: int = 3
    followup_working_days: int = 5
    resolve_days: int = 60
    country: str = "ID"
    cuti_bersama: bool = True
    resolve_from: ResolveFrom = ResolveFrom.complete
    # The office's closed days: a process-wide cache (core.cases.calendar) or a fixed set.
    closed_days: ClosedDays = field(default=no_closed_days, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaPolicy:
        return cls(
            tz=settings.tz,
            verify_working_days=settings.sla_verify_working_days,
            followup_working_days=settings.sla_followup_working_days,
            resolve_days=settings.sla_resolve_days,
            cuti_bersama=settings.sla_cuti_bersama,
            resolve_from=ResolveFrom(settings.sla_resolve_from),
        )

    def with_closed_days(self, days: frozenset[date]) -> SlaPolicy:
        """This policy with exactly these office closed days (read in the caller's
        transaction, for deadlines that are stored)."""
        return replace(self, closed_days=FixedClosedDays(frozenset(days)))

    def calendar(self, closed: frozenset[date] | None = None) -> WorkCalendar:
        """The working-day calendar of one computation (the closed days are read once)."""
        days = self.closed_days() if closed is None else closed
        return WorkCalendar(self.country, self.cuti_bersama, days)

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def verify_due(
        self, received_at: datetime, *, calendar: WorkCalendar | None = None
    ) -> datetime:
        cal = calendar or self.calendar()
        day = cal.add_working_days(self._local_day(received_at), self.verify_working_days)
        return end_of_local_day(day, self.tz)

    def followup_due(
        self, verified_at: datetime, *, calendar: WorkCalendar | None = None
    ) -> datetime:
        cal = calendar or self.calendar()
        day = cal.add_working_days(self._local_day(verified_at), self.followup_working_days)
        return end_of_local_day(day, self.tz)

    def resolve_due(self, start: datetime) -> datetime:
        """`resolve_days` calendar days after `start` (see `resolve_start`)."""
        day = self._local_day(start) + timedelta(days=self.resolve_days)
        return end_of_local_day(day, self.tz)

    def resolves_from_verification(self) -> bool:
        """The resolution clock starts when the file is complete (at verification)."""
        return self.resolve_from is ResolveFrom.complete


_EXACT_SPAN = 400  # days counted one by one; beyond them, five in seven (holidays aside)


def working_days_between(start: date, end: date, country: str = "ID") -> int:
    """How many working days come after `start` up to and including `end`, by the national
    calendar (see `WorkCalendar.working_days_between`)."""
    return WorkCalendar(country).working_days_between(start, end)


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
    return policy.calendar().working_days_between(today, due_day(due_at, policy.tz))


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
