"""A unit's survey comments for integrations (the API): `unit_comments` paged by an opaque
position that gives away no time.

`unit_comments` pages by (time, id); its cursor token holds the exact time of a comment. The
API says no more than the local day a comment was given, so its position is the id of the
last comment shown, and the time is looked up here, only among the unit's own comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from core.access import Actor
from core.shared.errors import InvalidInput, NotFound
from core.surveys.comments import PAGE_SIZE, Cursor, unit_comments
from core.surveys.models import SurveyResponse

MAX_POSITION_DIGITS = 18


@dataclass(frozen=True)
class FeedComment:
    day: date  # the local day it was given; never the time
    service_name: str | None
    text: str


@dataclass(frozen=True)
class FeedPage:
    comments: list[FeedComment]
    next: str | None  # the `after` of the next page; None: this is the last page


def _position(session: Session, unit_id: int, token: str) -> Cursor:
    token = token.strip()
    if not (token.isascii() and token.isdigit()) or len(token) > MAX_POSITION_DIGITS:
        raise InvalidInput("the page position is not valid", why="bad_cursor")
    row = session.get(SurveyResponse, int(token))
    if row is None or row.unit_id != unit_id or not (row.comment or "").strip():
        raise InvalidInput("the page position is not valid", why="bad_cursor")
    return Cursor(row.created_at, int(token))


def comment_feed(
    session: Session,
    unit_id: int,
    tz: ZoneInfo,
    *,
    actor: Actor,
    text: str = "",
    after: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = PAGE_SIZE,
) -> FeedPage:
    """The unit's comments, newest first, as the API gives them (see `unit_comments`)."""
    if not actor.can_see_unit(unit_id):
        raise NotFound(f"unit {unit_id} does not exist")
    cursor = _position(session, unit_id, after) if after else None
    page = unit_comments(
        session,
        unit_id,
        actor=actor,
        text=text,
        after=cursor,
        since=since,
        until=until,
        limit=limit,
    )
    return FeedPage(
        comments=[
            FeedComment(c.created_at.astimezone(tz).date(), c.service_name, c.text)
            for c in page.comments
        ],
        next=str(page.next.response_id) if page.next else None,
    )
