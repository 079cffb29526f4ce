"""The supervisor's case list: filters, sorting and keyset (cursor) pagination, in SQL; the
inbox's views and their counts (one query); which cases have an undelivered notice; who a
case may be assigned to."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from core.access import Actor, Permission, roles_with, visible_cases_clause
from core.cases.models import OPEN_STATUSES, Case, CaseEvent, CaseStatus, Privacy
from core.masterdata.models import Officer, Unit
from core.outbox.models import OutboundMessage, OutboxStatus
from core.people.models import AppUser, UserUnit
from core.shared.clock import local_day_bounds_utc, utcnow
from core.shared.errors import InvalidInput
from core.surveys.unit_scores import EARLIEST_DAY, LATEST_DAY, check_day

MAX_PAGE = 200
# Under a text search, each view is counted up to this many (a word may be in half of a
# mature database's cases: counting them all would read the text of every case of the
# scope); more is shown as "more than COUNT_CAP". Without a search, counts are exact.
COUNT_CAP = 200
MAX_ID = 2**63 - 1  # ids are 64-bit signed integers in the database


class CaseSort(StrEnum):
    newest = "newest"  # received_at descending
    due = "due"  # running deadline ascending: most overdue first (clock running only)
    urgent = "urgent"  # running deadline ascending, then the paused or finished (no deadline)


class InboxView(StrEnum):
    """The staff inbox's views; each is a condition over the cases the actor may open."""

    verify = "verify"  # received: to verify
    overdue = "overdue"  # open and past its running deadline
    handling = "handling"  # verified or in progress
    waiting = "waiting"  # waiting for the citizen
    rating = "rating"  # resolved, not yet rated by the citizen
    mine = "mine"  # open and assigned to the actor
    misdirected = "misdirected"  # open and marked "salah alamat" (admins only)
    all = "all"


# The order of a view's list: the open views most urgent first.
VIEW_SORT: dict[InboxView, CaseSort] = {
    InboxView.verify: CaseSort.due,
    InboxView.overdue: CaseSort.due,
    InboxView.handling: CaseSort.due,
    InboxView.waiting: CaseSort.newest,
    InboxView.rating: CaseSort.newest,
    InboxView.mine: CaseSort.urgent,
    InboxView.misdirected: CaseSort.urgent,
    InboxView.all: CaseSort.newest,
}


@dataclass(frozen=True)
class CaseFilter:
    statuses: Sequence[CaseStatus] = ()
    unit_id: int | None = None
    officer_id: int | None = None
    category: str | None = None
    overdue: bool | None = None
    text: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    assignee_id: int | None = None
    privacy: str | None = None  # a Privacy value
    misdirected: bool | None = None  # marked "salah alamat" (True) or not (False)


@dataclass(frozen=True)
class CaseSummary:
    """One line of a case list: what a supervisor scans, selected without loading cases."""

    id: int
    reference: str
    status: str
    privacy: str
    unit_id: int
    unit_code: str
    category: str
    excerpt: str
    officer_id: int | None
    officer_name: str | None
    received_at: datetime
    due_at: datetime | None


@dataclass
class CasePage:
    items: list[CaseSummary] = field(default_factory=list)
    next_cursor: str | None = None


def summary_select() -> Select[Any]:
    """The columns of a CaseSummary. Unit code and officer name come from correlated
    subqueries, evaluated only for the rows returned (a join lets SQLite's planner start
    from the unit table and sort every case of the scope: 100x slower on 1M cases)."""
    unit_code = sa_select(col(Unit.code)).where(col(Unit.id) == col(Case.unit_id))
    officer_name = sa_select(col(Officer.name)).where(col(Officer.id) == col(Case.officer_id))
    return sa_select(
        col(Case.id),
        col(Case.reference),
        col(Case.status),
        col(Case.privacy),
        col(Case.unit_id),
        unit_code.scalar_subquery(),
        col(Case.category),
        func.substr(col(Case.description), 1, 140),
        col(Case.officer_id),
        officer_name.scalar_subquery(),
        col(Case.received_at),
        col(Case.due_at),
    )


def summaries(session: Session, stmt: Select[Any]) -> list[CaseSummary]:
    return [CaseSummary(*row) for row in session.execute(stmt).all()]


def _encode_cursor(sort: CaseSort, case: CaseSummary) -> str:
    key = case.received_at if sort is CaseSort.newest else case.due_at
    assert (key is not None or sort is CaseSort.urgent) and case.id is not None
    raw = json.dumps([sort.value, key.isoformat() if key else None, case.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_urgent_cursor(cursor: str) -> tuple[datetime | None, int]:
    """An `urgent` cursor: its moment is None once the list has reached the cases without a
    running deadline."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, key, case_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if kind == CaseSort.urgent.value and key is None:
            if type(case_id) is not int or not 1 <= case_id <= MAX_ID:
                raise ValueError
            return None, case_id
    except (ValueError, TypeError, OverflowError):
        raise InvalidInput("the cursor is invalid; start again without it") from None
    return _decode_cursor(CaseSort.urgent, cursor)


def _decode_cursor(sort: CaseSort, cursor: str) -> tuple[datetime, int]:
    """The (moment, case id) a cursor of `_encode_cursor` holds. Anything else, however it
    is malformed (wrong types, ids past 64 bits, moments at the ends of the calendar), is
    refused with one message."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, key, case_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(key)
        if (
            kind != sort.value
            or type(case_id) is not int  # bool is an int too
            or not 1 <= case_id <= MAX_ID
            or moment.tzinfo is None
        ):
            raise ValueError
        moment = moment.astimezone(UTC)
        check_day(moment.date())
    except (ValueError, TypeError, OverflowError, InvalidInput):
        raise InvalidInput("the cursor is invalid; start again without it") from None
    return moment, case_id


def _check_filters(filters: CaseFilter) -> None:
    ids = (
        ("unit_id", filters.unit_id),
        ("officer_id", filters.officer_id),
        ("assignee_id", filters.assignee_id),
    )
    for name, value in ids:
        if value is not None and not -MAX_ID <= value <= MAX_ID:
            raise InvalidInput(f"{name} is out of range")
    if filters.received_from is not None:
        check_day(filters.received_from, "received_from")
    if filters.received_to is not None:
        check_day(filters.received_to, "received_to")
    if (
        filters.received_from
        and filters.received_to
        and filters.received_to < filters.received_from
    ):
        raise InvalidInput("received_to must not be before received_from")
    if filters.privacy is not None and filters.privacy not in {p.value for p in Privacy}:
        raise InvalidInput("privacy must be biasa, anonim or rahasia")


def _filter_conditions(filters: CaseFilter, tz: ZoneInfo, now: datetime) -> list[Any]:
    where: list[Any] = []
    if filters.statuses:
        where.append(col(Case.status).in_([s.value for s in filters.statuses]))
    if filters.unit_id is not None:
        where.append(Case.unit_id == filters.unit_id)
    if filters.officer_id is not None:
        where.append(Case.officer_id == filters.officer_id)
    if filters.assignee_id is not None:
        where.append(Case.assignee_id == filters.assignee_id)
    if filters.category:
        where.append(Case.category == filters.category)
    if filters.privacy:
        where.append(Case.privacy == filters.privacy)
    if filters.misdirected is True:
        where.append(col(Case.misdirected_at).is_not(None))
    elif filters.misdirected is False:
        where.append(col(Case.misdirected_at).is_(None))
    if filters.overdue is True:
        where.append(col(Case.due_at) < now)
    elif filters.overdue is False:
        where.append(or_(col(Case.due_at).is_(None), col(Case.due_at) >= now))
    if filters.text:
        like = f"%{filters.text.strip().lower()}%"
        where.append(
            or_(
                func.lower(Case.description).like(like),
                func.lower(Case.reference).like(like),
                func.lower(col(Case.lapor_id)).like(like),
            )
        )
    if filters.received_from or filters.received_to:
        lo, hi = local_day_bounds_utc(
            filters.received_from or EARLIEST_DAY, filters.received_to or LATEST_DAY, tz
        )
        where.extend([Case.received_at >= lo, Case.received_at < hi])
    return where


def _open() -> Any:
    return col(Case.status).in_([s.value for s in OPEN_STATUSES])


def view_conditions(view: InboxView, *, actor: Actor, now: datetime) -> list[Any]:
    """The SQL conditions of an inbox view (on top of the actor's visible cases)."""
    match view:
        case InboxView.verify:
            return [Case.status == CaseStatus.received.value]
        case InboxView.overdue:
            return [_open(), col(Case.due_at) < now]
        case InboxView.handling:
            return [col(Case.status).in_([CaseStatus.verified.value, CaseStatus.in_progress.value])]
        case InboxView.waiting:
            return [Case.status == CaseStatus.waiting_citizen.value]
        case InboxView.rating:
            return [Case.status == CaseStatus.resolved.value, col(Case.rated_at).is_(None)]
        case InboxView.mine:
            return [_open(), Case.assignee_id == actor.user_id]
        case InboxView.misdirected:
            return [_open(), col(Case.misdirected_at).is_not(None)]
        case InboxView.all:
            return []


def views_for(*, actor: Actor) -> list[InboxView]:
    """The views an actor's inbox offers: "Perlu dialihkan" (misdirected) is the admins'."""
    return [v for v in InboxView if v is not InboxView.misdirected or actor.is_admin]


def count_views(
    session: Session,
    filters: CaseFilter,
    tz: ZoneInfo,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> dict[InboxView, int]:
    """How many cases each of the actor's views holds under `filters`, in one query over
    the cases the actor may open (never a number from a case they could not open). Under a
    text search, a view stops counting past COUNT_CAP (it then holds COUNT_CAP + 1)."""
    _check_filters(filters)
    now = now or utcnow()
    views = views_for(actor=actor)
    where = visible_cases_clause(actor=actor) + _filter_conditions(filters, tz, now)
    # One count per view, each a subquery of the same statement, so that each is answered
    # from the index that fits its view ((unit, status) for the status views, (unit, status,
    # deadline) for "overdue", (assignee, status) for "mine"), mostly without reading a row.
    columns: list[Any] = []
    for view in views:
        conditions = view_conditions(view, actor=actor, now=now)
        if filters.text:
            hits = sa_select(col(Case.id)).where(*where, *conditions).limit(COUNT_CAP + 1)
            counted = sa_select(func.count()).select_from(hits.subquery())
        else:
            counted = sa_select(func.count()).select_from(Case).where(*where, *conditions)
        columns.append(counted.scalar_subquery())
    row = session.execute(sa_select(*columns)).one()
    return {view: int(value) for view, value in zip(views, row, strict=True)}


def list_cases(
    session: Session,
    filters: CaseFilter,
    tz: ZoneInfo,
    *,
    actor: Actor,
    view: InboxView | None = None,
    sort: CaseSort = CaseSort.newest,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> CasePage:
    """A page of the cases the actor may open, under `filters` (and an inbox view)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE}")
    _check_filters(filters)
    now = now or utcnow()
    where = visible_cases_clause(actor=actor) + _filter_conditions(filters, tz, now)
    if view is not None:
        if view not in views_for(actor=actor):
            raise InvalidInput(f"the view {view.value} is not offered to you")
        where += view_conditions(view, actor=actor, now=now)

    # The page's ids are chosen first, from the sort's index alone where the conditions allow
    # (most views: unit, status and deadline are in one index), and only its rows are read:
    # choosing among 9,000 overdue cases by reading each row took 170 ms on 1M cases.
    stmt = sa_select(col(Case.id)).where(*where)
    order: list[Any]
    if sort is CaseSort.newest:
        order = [col(Case.received_at).desc(), col(Case.id).desc()]
        if cursor:
            at, last_id = _decode_cursor(sort, cursor)
            stmt = stmt.where(
                or_(
                    col(Case.received_at) < at,
                    and_(col(Case.received_at) == at, col(Case.id) < last_id),
                )
            )
    elif sort is CaseSort.due:
        order = [col(Case.due_at).asc(), col(Case.id).asc()]
        stmt = stmt.where(col(Case.due_at).is_not(None))
        if cursor:
            at, last_id = _decode_cursor(sort, cursor)
            stmt = stmt.where(
                or_(col(Case.due_at) > at, and_(col(Case.due_at) == at, col(Case.id) > last_id))
            )
    else:
        no_deadline = col(Case.due_at).is_(None)
        order = [no_deadline, col(Case.due_at).asc(), col(Case.id).asc()]
        if cursor:
            due, last_id = _decode_urgent_cursor(cursor)
            if due is None:
                stmt = stmt.where(no_deadline, col(Case.id) > last_id)
            else:
                stmt = stmt.where(
                    or_(
                        col(Case.due_at) > due,
                        and_(col(Case.due_at) == due, col(Case.id) > last_id),
                        no_deadline,
                    )
                )
    chosen = stmt.order_by(*order).limit(limit + 1)
    page_rows = summary_select().where(col(Case.id).in_(chosen)).order_by(*order)
    rows = summaries(session, page_rows)
    page = CasePage(items=rows[:limit])
    if len(rows) > limit:
        page.next_cursor = _encode_cursor(sort, rows[limit - 1])
    return page


def cases_with_failed_notice(session: Session, case_ids: Sequence[int]) -> set[int]:
    """Which of these cases have a notice to the citizen that could not be delivered."""
    if not case_ids:
        return set()
    stmt = (
        sa_select(col(CaseEvent.case_id))
        .join(OutboundMessage, col(OutboundMessage.case_event_id) == col(CaseEvent.id))
        .where(
            col(OutboundMessage.status) == OutboxStatus.failed.value,
            col(CaseEvent.case_id).in_(list(case_ids)),
        )
        .distinct()
    )
    return {int(case_id) for case_id in session.execute(stmt).scalars()}


@dataclass(frozen=True)
class Handler:
    """A staff account a case may be assigned to (core's `assign` checks each case)."""

    id: int
    name: str


def assignable_users(session: Session, *, actor: Actor) -> list[Handler]:
    """Active accounts that may handle cases in the actor's units (for admins: every such
    account, admins too)."""
    roles = [role.value for role in roles_with(Permission.HANDLE_CASES)]
    stmt = sa_select(col(AppUser.id), col(AppUser.username), col(AppUser.display_name)).where(
        col(AppUser.active).is_(True), col(AppUser.role).in_(roles)
    )
    scope = actor.unit_scope()
    if scope is not None:
        in_scope = sa_select(col(UserUnit.user_id)).where(col(UserUnit.unit_id).in_(scope or {-1}))
        stmt = stmt.where(col(AppUser.id).in_(in_scope))
    rows = session.execute(stmt.order_by(col(AppUser.username))).all()
    return [Handler(int(uid), name or username) for uid, username, name in rows]
