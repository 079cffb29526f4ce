"""Staff accounts' Telegram link codes, and digest preview / send-now (`MANAGE_DIGESTS`)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from admin_api.deps import CurrentActor, EngineDep, PoliciesDep, SessionDep, SettingsDep
from core.access import Actor, Permission, actor_for, may_open_every_case
from core.digests.service import (
    DigestData,
    IsoWeek,
    build_digest,
    render_chart,
    render_digest,
    send_unit_digest,
)
from core.masterdata.models import Unit
from core.masterdata.service import get_unit_by_code
from core.people.links import create_link_code
from core.shared.config import Settings
from core.shared.i18n import LANGUAGES
from core.shared.workers import worker_name

log = logging.getLogger(__name__)
router = APIRouter()


class LinkCodeOut(BaseModel):
    code: str
    expires_at: datetime
    instruction: str


class DigestOut(BaseModel):
    unit_code: str
    week: str
    language: str
    as_username: str = Field(description="whose view of the cases the figures count")
    nothing_new: bool
    text: str


class SendOut(BaseModel):
    queued_messages: int


def _week(text: str) -> IsoWeek:
    try:
        return IsoWeek.parse(text)
    except ValueError:
        raise HTTPException(422, "week must look like 2026-W47") from None


def _lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise HTTPException(422, "lang must be id or en")
    return lang


@router.post(
    "/users/{user_id}/link-codes", response_model=LinkCodeOut, status_code=201, tags=["users"]
)
def new_link_code(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, user_id: int
) -> LinkCodeOut:
    """A one-time code (24 hours) the user sends to the bot as `/link CODE`."""
    code, expires = create_link_code(session, user_id, actor=actor, now=policies.now())
    return LinkCodeOut(code=code, expires_at=expires, instruction=f"/link {code}")


AsUser = Annotated[
    int | None,
    Query(ge=1, description="preview as this user: the figures count only their cases"),
]


def _reader(session: Session, actor: Actor, unit: Unit, as_user: int | None) -> Actor:
    """Whose view the preview counts: the caller's own, or (`as_user`) a recipient's. A
    caller to whom some case of the unit is hidden may only preview their own view."""
    if as_user is None or as_user == actor.user_id:
        return actor
    assert unit.id is not None
    if not may_open_every_case([unit.id], actor=actor):
        raise HTTPException(403, "you may preview a digest only as yourself")
    reader = actor_for(session, as_user)
    if reader is None:
        raise HTTPException(404, f"user {as_user} does not exist or is not active")
    return reader


def _digest(
    actor: Actor,
    session: Session,
    settings: Settings,
    code: str,
    week: str,
    now: datetime,
    as_user: int | None = None,
) -> tuple[Unit, DigestData, Actor]:
    """The unit and its digest for the week, as the caller (or `as_user`) may see it."""
    actor.require(Permission.MANAGE_DIGESTS)
    unit = get_unit_by_code(session, code)
    assert unit.id is not None
    actor.require(Permission.MANAGE_DIGESTS, unit.id)
    reader = _reader(session, actor, unit, as_user)
    data = build_digest(
        session,
        unit,
        _week(week),
        settings.tz,
        settings.default_service_population,
        actor=reader,
        now=now,
        min_responses=settings.ikm_min_responses,
    )
    return unit, data, reader


@router.get("/digests/{code}/{week}", response_model=DigestOut, tags=["digests"])
def preview_digest(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    code: str,
    week: str,
    as_user: AsUser = None,
    lang: str = "id",
) -> DigestOut:
    """The digest as the caller sees it (an admin: every case), or with `as_user` as that
    recipient receives it (figures over the cases they may open)."""
    unit, data, reader = _digest(actor, session, settings, code, week, policies.now(), as_user)
    language = _lang(lang)
    return DigestOut(
        unit_code=unit.code,
        week=str(data.week),
        language=language,
        as_username=reader.username,
        nothing_new=data.nothing_new,
        text=render_digest(data, language),
    )


@router.get(
    "/digests/{code}/{week}/chart.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    tags=["digests"],
)
def digest_chart(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    code: str,
    week: str,
    lang: str = "id",
) -> Response:
    _, data, _ = _digest(actor, session, settings, code, week, policies.now())
    return Response(render_chart(data, _lang(lang)), media_type="image/png")


@router.post("/digests/{code}/{week}/send", response_model=SendOut, tags=["digests"])
def send_digest_now(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
    policies: PoliciesDep,
    code: str,
    week: str,
) -> SendOut:
    """Queue the unit's digest for the week now, each recipient's over the cases they may
    open. A week already sent is not sent again (409); a unit with no unit head linked to
    Telegram is refused (409, reason `digest.no_recipient`) and nothing is marked sent."""
    actor.require(Permission.MANAGE_DIGESTS)
    unit = get_unit_by_code(session, code)
    actor.require(Permission.MANAGE_DIGESTS, unit.id)
    # The digest run commits recipient by recipient in its own transactions: end this
    # request's transaction first (on SQLite it holds the write lock).
    session.commit()
    queued = send_unit_digest(
        engine,
        unit.id or 0,
        _week(week),
        settings.tz,
        settings.default_service_population,
        worker=worker_name(),  # a killed API worker's claim is then taken over at once
        now=policies.now(),
        min_responses=settings.ikm_min_responses,
    )
    if queued is None:
        raise HTTPException(
            409, "this unit's digest for that week was already sent (or is being sent)"
        )
    log.info("digest of %s for %s: %d message(s) queued by %s", code, week, queued, actor.username)
    return SendOut(queued_messages=queued)
