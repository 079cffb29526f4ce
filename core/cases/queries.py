"""The supervisor's case list: filters, sorting and keyset (cursor) pagination, in SQL."""

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

from core.access import Actor, visible_cases_clause
from core.cases.models import Case, CaseStatus
from core.masterdata.models import Officer, Unit
from core.shared.clock import local_day_bounds_utc, utcnow
from core.shared.errors import InvalidInput
from core.surveys.unit_scores import EARLIEST_DAY, LATEST_DAY, check_day

MAX_PAGE = 200
MAX_ID = 2**63 - 1  # ids are 64-bit signed integers in the database


class CaseSort(StrEnum):
    newest = "newest"  # received_at descending
    due = "due"  # running deadline ascending: most overdue first (clock running only)


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
    assert key is not None and case.id is not None
    raw = json.dumps([sort.value, key.isoformat(), case.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


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
    for name, value in (("unit_id", filters.unit_id), ("officer_id", filters.officer_id)):
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


def list_cases(
    session: Session,
    filters: CaseFilter,
    tz: ZoneInfo,
    *,
    actor: Actor,
    sort: CaseSort = CaseSort.newest,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> CasePage:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE}")
    _check_filters(filters)
    now = now or utcnow()
    where = visible_cases_clause(actor=actor)
    if filters.statuses:
        where.append(col(Case.status).in_([s.value for s in filters.statuses]))
    if filters.unit_id is not None:
        where.append(Case.unit_id == filters.unit_id)
    if filters.officer_id is not None:
        where.append(Case.officer_id == filters.officer_id)
    if filters.category:
        where.append(Case.category == filters.category)
    if filters.overdue is True:
        where.append(col(Case.due_at) < now)
    elif filters.overdue is False:
        where.append(or_(col(Case.due_at).is_(None), col(Case.due_at) >= now))
    if filters.text:
        like = f"%{filters.text.strip().lower()}%"
        where.append(
            or_(func.lower(Case.description).like(like), func.lower(Case.reference).like(like))
        )
    if filters.received_from or filters.received_to:
        lo, hi = local_day_bounds_utc(
            filters.received_from or EARLIEST_DAY, filters.received_to or LATEST_DAY, tz
        )
        where.extend([Case.received_at >= lo, Case.received_at < hi])

    stmt = summary_select().where(*where)
    if sort is CaseSort.newest:
        stmt = stmt.order_by(col(Case.received_at).desc(), col(Case.id).desc())
        if cursor:
            at, last_id = _decode_cursor(sort, cursor)
            stmt = stmt.where(
                or_(
                    col(Case.received_at) < at,
                    and_(col(Case.received_at) == at, col(Case.id) < last_id),
                )
            )
    else:
        stmt = stmt.where(col(Case.due_at).is_not(None)).order_by(
            col(Case.due_at).asc(), col(Case.id).asc()
        )
        if cursor:
            at, last_id = _decode_cursor(sort, cursor)
            stmt = stmt.where(
                or_(col(Case.due_at) > at, and_(col(Case.due_at) == at, col(Case.id) > last_id))
            )
    rows = summaries(session, stmt.limit(limit + 1))
    page = CasePage(items=rows[:limit])
    if len(rows) > limit:
        page.next_cursor = _encode_cursor(sort, rows[limit - 1])
    return page
