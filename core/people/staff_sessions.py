"""Sessions of the staff console: opened at login, resumed per request, ended at logout,
after the idle time, or when the account changes (`AppUser.token_version`)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from core.access import Actor, actor_for
from core.people.models import AppUser, StaffSession
from core.shared.errors import NotFound

# A session's last-seen time is written at most this often (a write per request would
# queue every page behind SQLite's one writer); the idle limit is counted from it.
TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ResumedSession:
    actor: Actor
    session_id: int
    csrf_token: str
    display_name: str
    language: str
    needs_touch: bool  # last seen long enough ago to write the time again


def open_staff_session(session: Session, user_id: int, *, now: datetime) -> tuple[str, str]:
    """A new session for the active account `user_id`; returns the cookie's token and the
    CSRF token."""
    user = session.get(AppUser, user_id)
    if user is None or user.id is None or not user.active:
        raise NotFound("the account does not exist or is inactive")
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=_hash(token),
            user_id=user.id,
            token_version=user.token_version,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return token, csrf


def resume_staff_session(
    session: Session, token: str, idle: timedelta, *, now: datetime
) -> ResumedSession | None:
    """The live session of this cookie token (read only), or None: unknown, idle too long,
    the account deactivated or changed since."""
    if not token or len(token) > 100:
        return None
    row = session.exec(
        select(StaffSession, AppUser)
        .join(AppUser, col(AppUser.id) == col(StaffSession.user_id))
        .where(StaffSession.token_hash == _hash(token))
    ).first()
    if row is None:
        return None
    staff_session, user = row
    last_seen = _aware(staff_session.last_seen_at)
    if not user.active or user.token_version != staff_session.token_version:
        return None
    if now - last_seen > idle:
        return None
    actor = actor_for(session, staff_session.user_id)
    if actor is None or staff_session.id is None:
        return None
    return ResumedSession(
        actor=actor,
        session_id=staff_session.id,
        csrf_token=staff_session.csrf_token,
        display_name=user.display_name or user.username,
        language=user.language,
        needs_touch=now - last_seen >= TOUCH_EVERY,
    )


def touch_staff_session(session: Session, session_id: int, *, now: datetime) -> None:
    session.execute(
        update(StaffSession).where(col(StaffSession.id) == session_id).values(last_seen_at=now)
    )


def end_staff_session(session: Session, token: str) -> None:
    session.execute(delete(StaffSession).where(col(StaffSession.token_hash) == _hash(token)))


def prune_staff_sessions(session: Session, idle: timedelta, *, now: datetime) -> int:
    """Delete sessions idle longer than `idle`, and those of changed or inactive accounts."""
    stale = session.execute(delete(StaffSession).where(col(StaffSession.last_seen_at) < now - idle))
    dead = session.execute(
        delete(StaffSession).where(
            col(StaffSession.user_id).in_(
                select(AppUser.id).where(
                    (col(AppUser.active) == False)  # noqa: E712
                    | (col(AppUser.token_version) != col(StaffSession.token_version))
                )
            )
        )
    )
    return int(stale.rowcount or 0) + int(dead.rowcount or 0)  # type: ignore[attr-defined]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
