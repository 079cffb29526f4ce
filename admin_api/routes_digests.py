"""Staff accounts' Telegram link codes, and digest preview / send-now for admins."""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session, col, select

from admin_api.deps import CurrentActor, EngineDep, SessionDep, SettingsDep
from core.access import Actor
from core.config import Settings
from core.digests import (
    DigestData,
    IsoWeek,
    build_digest,
    render_chart,
    render_digest,
    send_unit_digest,
)
from core.i18n import LANGUAGES
from core.links import create_link_code
from core.masterdata import get_unit_by_code
from core.models import AppUser, Unit, UserUnit
from core.workers import worker_name

log = logging.getLogger(__name__)
router = APIRouter()


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    active: bool
    unit_codes: list[str]
    telegram_linked: bool


class LinkCodeOut(BaseModel):
    code: str
    expires_at: datetime
    instruction: str


class DigestOut(BaseModel):
    unit_code: str
    week: str
    language: str
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


@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(actor: CurrentActor, session: SessionDep) -> list[UserOut]:
    actor.require_admin()
    users = session.exec(select(AppUser).order_by(col(AppUser.username))).all()
    links = session.exec(
        select(UserUnit.user_id, Unit.code).join(Unit, col(Unit.id) == col(UserUnit.unit_id))
    ).all()
    codes: dict[int, list[str]] = {}
    for user_id, code in links:
        codes.setdefault(user_id, []).append(code)
    return [
        UserOut(
            id=u.id or 0,
            username=u.username,
            role=u.role,
            active=u.active,
            unit_codes=sorted(codes.get(u.id or 0, [])),
            telegram_linked=u.telegram_chat_id is not None,
        )
        for u in users
    ]


@router.post(
    "/users/{user_id}/link-codes", response_model=LinkCodeOut, status_code=201, tags=["users"]
)
def new_link_code(actor: CurrentActor, session: SessionDep, user_id: int) -> LinkCodeOut:
    """A one-time code (24 hours) the user sends to the bot as `/link CODE`."""
    code, expires = create_link_code(session, actor, user_id)
    return LinkCodeOut(code=code, expires_at=expires, instruction=f"/link {code}")


def _digest(
    actor: Actor, session: Session, settings: Settings, code: str, week: str
) -> tuple[Unit, DigestData]:
    """The unit and its digest for the week, for an admin's preview."""
    actor.require_admin()
    unit = get_unit_by_code(session, code)
    data = build_digest(
        session, unit, _week(week), settings.tz, settings.default_service_population
    )
    return unit, data


@router.get("/digests/{code}/{week}", response_model=DigestOut, tags=["digests"])
def preview_digest(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    code: str,
    week: str,
    lang: str = "id",
) -> DigestOut:
    unit, data = _digest(actor, session, settings, code, week)
    language = _lang(lang)
    return DigestOut(
        unit_code=unit.code,
        week=str(data.week),
        language=language,
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
    code: str,
    week: str,
    lang: str = "id",
) -> Response:
    _, data = _digest(actor, session, settings, code, week)
    return Response(render_chart(data, _lang(lang)), media_type="image/png")


@router.post("/digests/{code}/{week}/send", response_model=SendOut, tags=["digests"])
def send_digest_now(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
    code: str,
    week: str,
) -> SendOut:
    """Queue the unit's digest for the week now. A week already sent is not sent again."""
    actor.require_admin()
    unit = get_unit_by_code(session, code)
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
    )
    if queued is None:
        raise HTTPException(
            409, "this unit's digest for that week was already sent (or is being sent)"
        )
    log.info("digest of %s for %s: %d message(s) queued by %s", code, week, queued, actor.username)
    return SendOut(queued_messages=queued)
