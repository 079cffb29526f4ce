"""Canned responses: reusable texts for the staff's actions (a standard request for the
location, a standard resolution), in Indonesian and English, with the placeholders {ref}
(the case's reference) and {unit} (its unit's name). Admins (MANAGE_TEXTS) create, edit and
deactivate them; every handler is offered the active ones of an action, filled in."""

from __future__ import annotations

import string
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from core.access import Actor, Permission
from core.cases.models import CannedResponse
from core.cases.policy import MAX_TEXT
from core.shared.clock import utcnow
from core.shared.errors import InvalidInput, NotFound

# The actions whose form has a text: the reason, question, resolution or note it fills.
CANNED_ACTIONS = ("reject", "request_info", "resolve", "reopen", "note", "misdirected")
PLACEHOLDERS = frozenset({"ref", "unit"})
MAX_TITLE = 120


def _check_action(action: str) -> str:
    if action not in CANNED_ACTIONS:
        raise InvalidInput(f"unknown action {action!r}; use one of {', '.join(CANNED_ACTIONS)}")
    return action


def _check_body(text: str, what: str, *, required: bool) -> str:
    text = text.strip()
    if not text:
        if required:
            raise InvalidInput(f"{what} must not be empty", why="canned.body_empty")
        return ""
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"{what} must be at most {MAX_TEXT} characters",
            why="text.too_long",
            max=MAX_TEXT,
            length=len(text),
        )
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        raise InvalidInput(
            f"{what} has an unmatched brace; use {{ref}} and {{unit}}", why="canned.brace"
        ) from None
    unknown = fields - PLACEHOLDERS
    if unknown:
        names = ", ".join(sorted(f"{{{name}}}" for name in unknown))
        raise InvalidInput(
            f"{what} uses unknown placeholders {names}; use {{ref}} and {{unit}}",
            why="canned.placeholders",
            names=names,
        )
    return text


def _check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("the title must not be empty", why="canned.title_empty")
    if len(title) > MAX_TITLE:
        raise InvalidInput(
            f"the title must be at most {MAX_TITLE} characters",
            why="canned.title_too_long",
            max=MAX_TITLE,
        )
    return title


def list_canned(
    session: Session, *, action: str | None = None, active_only: bool = False
) -> Sequence[CannedResponse]:
    stmt = select(CannedResponse)
    if action is not None:
        stmt = stmt.where(CannedResponse.action == action)
    if active_only:
        stmt = stmt.where(CannedResponse.active == True)  # noqa: E712
    return session.exec(
        stmt.order_by(col(CannedResponse.action), col(CannedResponse.title), col(CannedResponse.id))
    ).all()


def get_canned(session: Session, canned_id: int) -> CannedResponse:
    found = session.get(CannedResponse, canned_id)
    if found is None:
        raise NotFound(f"canned response {canned_id} does not exist")
    return found


def create_canned(
    session: Session,
    *,
    action: str,
    title: str,
    body_id: str,
    body_en: str = "",
    actor: Actor,
    now: datetime | None = None,
) -> CannedResponse:
    actor.require(Permission.MANAGE_TEXTS)
    now = now or utcnow()
    canned = CannedResponse(
        action=_check_action(action),
        title=_check_title(title),
        body_id=_check_body(body_id, "the Indonesian text", required=True),
        body_en=_check_body(body_en, "the English text", required=False),
        created_at=now,
        updated_at=now,
    )
    session.add(canned)
    session.flush()
    return canned


def update_canned(
    session: Session,
    canned_id: int,
    *,
    action: str,
    title: str,
    body_id: str,
    body_en: str = "",
    active: bool = True,
    actor: Actor,
    now: datetime | None = None,
) -> CannedResponse:
    """Edit a text (and deactivate it with `active=False`, or bring it back)."""
    actor.require(Permission.MANAGE_TEXTS)
    canned = get_canned(session, canned_id)
    canned.action = _check_action(action)
    canned.title = _check_title(title)
    canned.body_id = _check_body(body_id, "the Indonesian text", required=True)
    canned.body_en = _check_body(body_en, "the English text", required=False)
    canned.active = active
    canned.updated_at = now or utcnow()
    session.add(canned)
    session.flush()
    return canned


def set_canned_active(
    session: Session, canned_id: int, active: bool, *, actor: Actor, now: datetime | None = None
) -> CannedResponse:
    actor.require(Permission.MANAGE_TEXTS)
    canned = get_canned(session, canned_id)
    canned.active = active
    canned.updated_at = now or utcnow()
    session.add(canned)
    session.flush()
    return canned


def fill_canned(canned: CannedResponse, language: str, *, reference: str, unit: str) -> str:
    """The text in `language` (Indonesian when it has no English), placeholders filled."""
    text = canned.body_en if language == "en" and canned.body_en else canned.body_id
    return text.replace("{ref}", reference).replace("{unit}", unit)
