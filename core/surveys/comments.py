"""Citizens' comments on a unit's SKM questionnaires, newest first, with keyset paging.

A comment is shown with the service it rates and when it was given, never with anything that
identifies who gave it (no citizen, no respondent key, no channel identity, no officer). Only
for a unit the actor may view (`Actor.can_see_unit`): outside it, NotFound as for an unknown
unit, so that the page does not tell whether the unit exists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from core.access import Actor
from core.masterdata.models import Service
from core.shared.errors import InvalidInput, NotFound
from core.surveys.models import SurveyResponse

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_SEARCH = 200  # characters of a search text


def _utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC time (the database may hand back naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: strictly older than (created_at, id)."""

    created_at: datetime
    response_id: int

    def token(self) -> str:
        return f"{_utc(self.created_at).strftime('%Y%m%d%H%M%S%f')}-{self.response_id}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        """A cursor from `token`; InvalidInput for anything else (a tampered URL)."""
        stamp, _, rid = token.strip().partition("-")
        try:
            if len(stamp) != 20 or not stamp.isdigit() or not rid.isdigit() or len(rid) > 10:
                raise ValueError(token)
            moment = datetime.strptime(stamp, "%Y%m%d%H%M%S%f").replace(tzinfo=UTC)
            return cls(moment, int(rid))
        except ValueError:
            raise InvalidInput("the page position is not valid", why="bad_cursor") from None


@dataclass(frozen=True)
class Comment:
    response_id: int
    created_at: datetime  # aware UTC
    service_name: str | None
    text: str


@dataclass(frozen=True)
class CommentPage:
    comments: list[Comment]
    next: Cursor | None  # None: this is the last page


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def unit_comments(
    session: Session,
    unit_id: int,
    *,
    actor: Actor,
    text: str = "",
    after: Cursor | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = PAGE_SIZE,
) -> CommentPage:
    """The unit's non-empty comments, newest first; `text` searches them (case-insensitive,
    a plain substring: % and _ are literal); `since`/`until` bound created_at (UTC, [since,
    until)); `after` continues a previous page."""
    if not actor.can_see_unit(unit_id):
        raise NotFound(f"unit {unit_id} does not exist")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must lie between 1 and {MAX_PAGE_SIZE}")
    needle = text.strip().lower()
    if len(needle) > MAX_SEARCH:
        raise InvalidInput(
            f"the search text is longer than {MAX_SEARCH} characters", why="search_too_long"
        )
    comment = col(SurveyResponse.comment)
    stmt = (
        select(SurveyResponse.id, SurveyResponse.created_at, Service.name, comment)
        .outerjoin(Service, col(Service.id) == col(SurveyResponse.service_id))
        .where(SurveyResponse.unit_id == unit_id, comment.is_not(None), comment != "")
    )
    if needle:
        stmt = stmt.where(func.lower(comment).like(f"%{_escape_like(needle)}%", escape="\\"))
    if since is not None:
        stmt = stmt.where(SurveyResponse.created_at >= since)
    if until is not None:
        stmt = stmt.where(SurveyResponse.created_at < until)
    if after is not None:
        created = col(SurveyResponse.created_at)
        stmt = stmt.where(
            or_(
                created < _utc(after.created_at),
                and_(created == _utc(after.created_at), col(SurveyResponse.id) < after.response_id),
            )
        )
    stmt = stmt.order_by(
        col(SurveyResponse.created_at).desc(), col(SurveyResponse.id).desc()
    ).limit(limit + 1)
    rows = session.exec(stmt).all()
    comments = [
        Comment(
            response_id=int(r[0] or 0), created_at=_utc(r[1]), service_name=r[2], text=str(r[3])
        )
        for r in rows[:limit]
    ]
    last = comments[-1] if len(rows) > limit else None
    cursor = Cursor(last.created_at, last.response_id) if last else None
    return CommentPage(comments=comments, next=cursor)
