"""What a staff member sets for themselves: the language of the console, digests and
reminders."""

from __future__ import annotations

from sqlmodel import Session

from core.access import Actor
from core.people.models import AppUser, Language
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
