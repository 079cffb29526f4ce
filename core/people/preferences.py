"""What a staff member sets for themselves: the language of the console, digests and
reminders; when they last saw their inbox (to mark what is new)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.access import Actor
from core.people.models import AppUser, Language
from core.shared.clock import utcnow
from core.shared.errors import InvalidInput, NotFound


def set_own_language(session: Session, language: str, *, actor: Actor) -> None:
    if language not in {lang.value for lang in Language}:
        raise InvalidInput("language must be id or en")
    user = session.get(AppUser, actor.user_id)
    if user is None or not user.active:
        raise NotFound("your account does not exist or is inactive")
    user.language = language
    session.add(user)
    session.flush()


def mark_inbox_seen(
    session: Session, *, actor: Actor, now: datetime | None = None
) -> datetime | None:
    """Record that the actor's inbox was shown now; returns when it was shown before (None
    the first time), so that cases received since then can be marked new."""
    now = now or utcnow()
    user = session.get(AppUser, actor.user_id)
    if user is None or not user.active:
        raise NotFound("your account does not exist or is inactive")
    before = user.inbox_seen_at
    user.inbox_seen_at = now
    session.add(user)
    session.flush()
    return before
