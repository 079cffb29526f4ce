"""Citizens' survey comments on a unit, newest first, paged: what the unit's people said, without
who said it (no citizen, no officer, no channel identity) and without a time finer than the
day."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from admin_api.deps import CurrentActor, SessionDep, SettingsDep
from core.masterdata.service import visible_unit
from core.shared.clock import local_day_bounds_utc
from core.shared.errors import InvalidInput
from core.surveys.comment_feed import comment_feed
from core.surveys.comments import MAX_PAGE_SIZE, MAX_SEARCH, PAGE_SIZE
from core.surveys.unit_scores import check_day

router = APIRouter(tags=["scores"])


class CommentOut(BaseModel):
    day: date = Field(description="the local day the comment was given (no time is kept here)")
    service_name: str | None
    text: str


class CommentPageOut(BaseModel):
    unit_code: str
    comments: list[CommentOut]
    next: str | None = Field(description="pass as `after` for the next page; null: last page")


@router.get("/scores/units/{code}/comments", response_model=CommentPageOut)
def unit_comment_page(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    code: str,
    q: Annotated[str, Query(max_length=MAX_SEARCH, description="text to search for")] = "",
    start: Annotated[date | None, Query(description="first local day")] = None,
    end: Annotated[date | None, Query(description="last local day, inclusive")] = None,
    after: Annotated[str, Query(max_length=20, description="`next` of the page before")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> CommentPageOut:
    """The unit's survey comments, newest first (only a unit the caller may see)."""
    unit = visible_unit(session, code, actor=actor)
    assert unit.id is not None
    for day, what in ((start, "start"), (end, "end")):
        if day is not None:
            check_day(day, what)
    if start is not None and end is not None and end < start:
        raise InvalidInput("end lies before start")
    since = until = None
    if start is not None:
        since, _ = local_day_bounds_utc(start, start, settings.tz)
    if end is not None:
        _, until = local_day_bounds_utc(end, end, settings.tz)
    page = comment_feed(
        session,
        unit.id,
        settings.tz,
        actor=actor,
        text=q,
        after=after,
        since=since,
        until=until,
        limit=limit,
    )
    return CommentPageOut(
        unit_code=unit.code,
        comments=[
            CommentOut(day=c.day, service_name=c.service_name, text=c.text) for c in page.comments
        ],
        next=page.next,
    )
