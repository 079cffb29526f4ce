"""The office's closed days (admins): the days the SLA clock skips besides weekends, public
holidays and cuti bersama. Adding or removing one moves the running deadlines it crosses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from admin_api.deps import CurrentActor, PoliciesDep, SessionDep
from core.cases.calendar import (
    MAX_DESCRIPTION,
    ClosedDayView,
    add_closed_day,
    list_closed_days,
    remove_closed_day,
)
from core.cases.models import ClosedDay
from core.people.models import AppUser

router = APIRouter(tags=["calendar"])


class ClosedDayIn(BaseModel):
    day: date = Field(description="the local date the office is closed (YYYY-MM-DD)")
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)


class ClosedDayOut(BaseModel):
    id: int
    day: date
    description: str
    created_by: str | None = None
    created_at: datetime


class ClosedDayChangeOut(BaseModel):
    closed_day: ClosedDayOut
    moved: int = Field(description="running deadlines of open cases that moved")


def _out(view: ClosedDayView) -> ClosedDayOut:
    return ClosedDayOut(
        id=view.id,
        day=view.day,
        description=view.description,
        created_by=view.created_by,
        created_at=view.created_at,
    )


def _entry_out(entry: ClosedDay, username: str | None) -> ClosedDayOut:
    assert entry.id is not None
    return ClosedDayOut(
        id=entry.id,
        day=entry.day,
        description=entry.description,
        created_by=username,
        created_at=entry.created_at,
    )


@router.get("/closed-days", response_model=list[ClosedDayOut])
def list_closed_days_route(
    actor: CurrentActor,
    session: SessionDep,
    policies: PoliciesDep,
    since: Annotated[
        date | None, Query(description="from this date (default: today, local time)")
    ] = None,
) -> list[ClosedDayOut]:
    start = since or policies.now().astimezone(policies.cases.sla.tz).date()
    return [_out(v) for v in list_closed_days(session, actor=actor, since=start)]


@router.post("/closed-days", response_model=ClosedDayChangeOut, status_code=201)
def add_closed_day_route(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, body: ClosedDayIn
) -> ClosedDayChangeOut:
    entry, moved = add_closed_day(
        session, body.day, body.description, policies.cases.sla, actor=actor, now=policies.now()
    )
    return ClosedDayChangeOut(closed_day=_entry_out(entry, actor.username), moved=moved)


@router.delete("/closed-days/{day}", response_model=ClosedDayChangeOut)
def remove_closed_day_route(
    actor: CurrentActor,
    session: SessionDep,
    policies: PoliciesDep,
    day: Annotated[date, Path(description="the closed day (YYYY-MM-DD)")],
) -> ClosedDayChangeOut:
    entry, moved = remove_closed_day(
        session, day, policies.cases.sla, actor=actor, now=policies.now()
    )
    creator = session.get(AppUser, entry.created_by_id) if entry.created_by_id else None
    return ClosedDayChangeOut(
        closed_day=_entry_out(entry, creator.username if creator else None), moved=moved
    )
