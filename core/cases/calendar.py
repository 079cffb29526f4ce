"""The office's closed days: days the SLA clock skips besides weekends, public holidays and
cuti bersama (regional holidays, office closures), kept by administrators.

A closed day counts for every deadline computed after the change, and the running working-day
deadlines of open cases that it crosses are moved at once, in the same transaction as the
change (keyset batches of `BATCH` cases, so memory stays bounded however many cases are open).

Reading the days. A stored deadline (filing, verification, the recompute) reads the closed
days in its own transaction (`office_sla`). What is only shown (the inbox's "working days
left") asks a per-process copy (`ClosedDaysCache`), which the process that changed the days
drops at once and every other process (serve, bot, scheduler) re-reads within `MAX_AGE`.
Either way a computation reads the set once and counts in memory: no query per day.

The table is its own audit trail: a removed day keeps its row with who removed it and when,
beside who added it and when.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.access import Actor, Permission
from core.cases.models import Case, CaseStatus, ClosedDay
from core.cases.sla import SlaPolicy, WorkCalendar, cuti_bersama_days, end_of_local_day
from core.people.models import AppUser
from core.shared.clock import utcnow
from core.shared.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 200
BATCH = 500  # cases loaded at once when deadlines are moved
MAX_AGE = 30.0  # seconds another process may go on showing yesterday's list of closed days
PAST_LIMIT = timedelta(days=366)  # how far back a closed day may be entered
FUTURE_LIMIT = timedelta(days=3 * 366)  # and how far ahead


# Reading ------------------------------------------------------------------------------------


def standing_closed_days(session: Session) -> frozenset[date]:
    """Every closed day that has not been removed (one query; the list is short)."""
    rows = session.exec(select(col(ClosedDay.day)).where(col(ClosedDay.removed_at).is_(None)))
    return frozenset(rows.all())


def office_sla(session: Session, sla: SlaPolicy) -> SlaPolicy:
    """`sla` with the closed days as this transaction sees them: for deadlines that are
    stored (they must not depend on a per-process copy)."""
    return sla.with_closed_days(standing_closed_days(session))


class _Generation:
    """Bumped in this process when a change to the closed days commits."""

    value = 0
    lock = threading.Lock()

    @classmethod
    def bump(cls) -> None:
        with cls.lock:
            cls.value += 1


class ClosedDaysCache:
    """The closed days for what is shown, per process: re-read when this process changed
    them, and at least every `max_age` seconds (another process may have)."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_age: float = MAX_AGE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._max_age = max_age
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._days: frozenset[date] | None = None
        self._read_at = 0.0
        self._generation = -1

    def __call__(self) -> frozenset[date]:
        with self._lock:
            generation = _Generation.value
            fresh = self._monotonic() - self._read_at < self._max_age
            if self._days is None or generation != self._generation or not fresh:
                with Session(self._engine) as session:
                    self._days = standing_closed_days(session)
                self._read_at = self._monotonic()
                self._generation = generation
            return self._days


@dataclass(frozen=True)
class ClosedDayView:
    id: int
    day: date
    description: str
    created_by: str | None  # the admin's username
    created_at: datetime


def list_closed_days(
    session: Session, *, actor: Actor, since: date | None = None
) -> list[ClosedDayView]:
    """The standing closed days from `since` (all when None), by date."""
    actor.require(Permission.MANAGE_CALENDAR)
    stmt = (
        select(ClosedDay, AppUser.username)
        .join(AppUser, col(AppUser.id) == col(ClosedDay.created_by_id), isouter=True)
        .where(col(ClosedDay.removed_at).is_(None))
        .order_by(col(ClosedDay.day))
    )
    if since is not None:
        stmt = stmt.where(col(ClosedDay.day) >= since)
    views = []
    for row, username in session.exec(stmt).all():
        assert row.id is not None
        views.append(ClosedDayView(row.id, row.day, row.description, username, row.created_at))
    return views


@dataclass(frozen=True)
class NationalDayOff:
    day: date
    name: str  # in Indonesian, as `holidays` names it
    cuti_bersama: bool


def national_days_off(since: date, until: date, sla: SlaPolicy) -> list[NationalDayOff]:
    """Public holidays and (when counted) cuti bersama between two dates, for the admins'
    page: what the clock already skips without them."""
    import holidays  # local: only this page needs the names

    found: list[NationalDayOff] = []
    for year in range(since.year, until.year + 1):
        leave = cuti_bersama_days(year, sla.country) if sla.cuti_bersama else {}
        categories = ("public", "government") if sla.cuti_bersama else ("public",)
        try:
            named = holidays.country_holidays(
                sla.country, years=year, categories=categories, language="id"
            )
        except NotImplementedError:
            named = holidays.country_holidays(sla.country, years=year)
        for day, name in sorted(named.items()):
            if since <= day <= until:
                found.append(NationalDayOff(day, str(name), day in leave))
    return found


def coming_year_without_cuti_bersama(today: date, sla: SlaPolicy) -> int | None:
    """The coming year when its cuti bersama are not known yet (decided late each year),
    from October on; else None."""
    if not sla.cuti_bersama or today.month < 10:
        return None
    year = today.year + 1
    return None if cuti_bersama_days(year, sla.country) else year


def warn_missing_cuti_bersama(sla: SlaPolicy, *, now: datetime) -> int | None:
    """Log a warning (for the admins) when the coming year's cuti bersama are not known
    yet; returns that year, or None."""
    year = coming_year_without_cuti_bersama(now.astimezone(sla.tz).date(), sla)
    if year is not None:
        log.warning(
            "the cuti bersama of %d are not known yet: once the SKB 3 Menteri is out, update "
            "the holidays package or add the days as closed days (console: Hari libur)",
            year,
        )
    return year


# Changing ---------------------------------------------------------------------------------


def _description(text: str) -> str:
    value = " ".join(text.split())
    if not value:
        raise InvalidInput(
            "describe the closed day (e.g. a regional holiday)",
            why="case.closed_day_no_description",
        )
    if len(value) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"the description must be at most {MAX_DESCRIPTION} characters",
            why="case.closed_day_too_long",
            max=MAX_DESCRIPTION,
        )
    return value


def _check_day(day: date, sla: SlaPolicy, today: date) -> None:
    if day < today - PAST_LIMIT or day > today + FUTURE_LIMIT:
        raise InvalidInput(
            "a closed day must be within a year back and three years ahead",
            why="case.closed_day_out_of_range",
        )
    if day.weekday() >= 5:
        raise InvalidInput(
            f"{day.isoformat()} is a weekend day: the clock skips it already",
            why="case.closed_day_weekend",
        )
    if not WorkCalendar(sla.country, sla.cuti_bersama).is_working_day(day):
        raise InvalidInput(
            f"{day.isoformat()} is a national holiday or cuti bersama: the clock skips it already",
            why="case.closed_day_national",
        )


def _after_commit(session: Session) -> None:
    event.listen(session, "after_commit", lambda _s: _Generation.bump(), once=True)


def add_closed_day(
    session: Session,
    day: date,
    description: str,
    sla: SlaPolicy,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> tuple[ClosedDay, int]:
    """Close the office on `day`; returns the entry and how many running deadlines moved."""
    now = now or utcnow()
    actor.require(Permission.MANAGE_CALENDAR)
    text = _description(description)
    _check_day(day, sla, now.astimezone(sla.tz).date())
    before = standing_closed_days(session)
    taken = Conflict(f"{day.isoformat()} is already a closed day", why="case.closed_day_taken")
    if day in before:
        raise taken
    entry = ClosedDay(day=day, description=text, created_by_id=actor.user_id, created_at=now)
    try:
        with session.begin_nested():  # another admin may add the same day at the same time
            session.add(entry)
    except IntegrityError:
        raise taken from None
    moved = _move_running_deadlines(session, sla, before, before | {day}, day)
    _after_commit(session)
    log.info(
        "closed day %s (%s) added by %s; %d running deadlines moved",
        day.isoformat(), text, actor.username, moved,
    )  # fmt: skip
    return entry, moved


def remove_closed_day(
    session: Session,
    day: date,
    sla: SlaPolicy,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> tuple[ClosedDay, int]:
    """Open the office again on a closed day; returns the entry and how many running
    deadlines moved (back)."""
    now = now or utcnow()
    actor.require(Permission.MANAGE_CALENDAR)
    entry = session.exec(
        select(ClosedDay).where(ClosedDay.day == day, col(ClosedDay.removed_at).is_(None))
    ).first()
    if entry is None:
        raise NotFound(
            f"{day.isoformat()} is not a closed day of the office", why="case.closed_day_not_found"
        )
    before = standing_closed_days(session)
    entry.removed_at = now
    entry.removed_by_id = actor.user_id
    session.add(entry)
    session.flush()
    moved = _move_running_deadlines(session, sla, before, before - {entry.day}, entry.day)
    _after_commit(session)
    log.info(
        "closed day %s removed by %s; %d running deadlines moved",
        entry.day.isoformat(), actor.username, moved,
    )  # fmt: skip
    return entry, moved


# Moving running deadlines -------------------------------------------------------------------


def _move_running_deadlines(
    session: Session, sla: SlaPolicy, before: frozenset[date], after: frozenset[date], day: date
) -> int:
    """Move the working-day deadlines still running (verification of an unverified case,
    the unit's follow-up of a verified one) that `day` can change: each by the difference
    between its deadline by the new and by the old calendar, so the time a case spent paused
    (already added to it) stays added. The resolution deadline counts calendar days: it
    does not move. Rows are read and written by primary key in batches (no ORM objects)."""
    old, new = sla.calendar(before), sla.calendar(after)
    day_starts = end_of_local_day(day - timedelta(days=1), sla.tz)
    day_ends = end_of_local_day(day, sla.tz)
    waiting = (CaseStatus.received.value, CaseStatus.waiting_citizen.value)
    unverified = [
        col(Case.status).in_(waiting),
        col(Case.verified_at).is_(None),
        col(Case.received_at) < day_ends,
        col(Case.verify_due_at) > day_starts,
    ]
    verified = [
        Case.status == CaseStatus.verified.value,
        col(Case.verified_at) < day_ends,
        col(Case.followup_due_at) > day_starts,
    ]

    def verify_shift(start: datetime) -> timedelta:
        return sla.verify_due(start, calendar=new) - sla.verify_due(start, calendar=old)

    def followup_shift(start: datetime) -> timedelta:
        return sla.followup_due(start, calendar=new) - sla.followup_due(start, calendar=old)

    moved = _in_batches(
        session, unverified, col(Case.received_at), col(Case.verify_due_at), verify_shift
    )
    moved += _in_batches(
        session, verified, col(Case.verified_at), col(Case.followup_due_at), followup_shift
    )
    return moved


def _in_batches(
    session: Session,
    where: list[Any],
    start_column: Any,
    due_column: Any,
    shift: Callable[[datetime], timedelta],
) -> int:
    """Shift `due_column` of the matching cases by `shift(start)`, and the running deadline
    (`due_at`) with it: the earlier of it and the resolution deadline, unless paused."""
    moved = 0
    last_id = 0
    due_name = due_column.key
    while True:
        rows = session.execute(
            sa_select(Case.id, Case.status, start_column, due_column, Case.resolve_due_at)  # type: ignore[call-overload]
            .where(*where, col(Case.id) > last_id)
            .order_by(col(Case.id))
            .limit(BATCH)
        ).all()
        if not rows:
            return moved
        changes: list[dict[str, Any]] = []
        for case_id, status, start, due, resolve_due in rows:
            delta = shift(start)
            if not delta:
                continue
            new_due = due + delta
            change: dict[str, Any] = {"id": case_id, due_name: new_due}
            if status != CaseStatus.waiting_citizen.value:  # a paused clock has no due_at
                change["due_at"] = min(new_due, resolve_due)
            changes.append(change)
        if changes:
            session.execute(update(Case), changes)
        moved += len(changes)
        last_id = rows[-1][0]
