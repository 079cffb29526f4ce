"""One-time codes that link a staff account to the Telegram chat that receives digests."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.access import Actor
from core.clock import utcnow
from core.errors import DomainError, NotFound
from core.models import AppUser, LinkCode

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
VALID_FOR = timedelta(hours=24)


class LinkRefused(DomainError):
    """`reason` is one of unknown, expired, used, inactive, taken."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"link code refused: {reason}")
        self.reason = reason


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def create_link_code(
    session: Session, actor: Actor, user_id: int, now: datetime | None = None
) -> tuple[str, datetime]:
    """A new code for `user_id` (shown once; only its hash is stored)."""
    actor.require_admin()
    user = session.get(AppUser, user_id)
    if user is None or not user.active:
        raise NotFound(f"active user {user_id} does not exist")
    now = now or utcnow()
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    expires = now + VALID_FOR
    session.add(
        LinkCode(
            user_id=user_id,
            code_hash=_hash(raw),
            expires_at=expires,
            created_by=actor.user_id or None,
            created_at=now,
        )
    )
    session.flush()
    return f"{raw[:4]}-{raw[4:]}", expires


def redeem_link_code(
    session: Session, code: str, chat_id: int, language: str = "id", now: datetime | None = None
) -> AppUser:
    """Link the chat to the code's user, once. Raises LinkRefused with the reason."""
    now = now or utcnow()
    if len(_normalise(code)) != CODE_LENGTH:
        raise LinkRefused("unknown")
    link = session.exec(select(LinkCode).where(LinkCode.code_hash == _hash(code))).first()
    if link is None:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        raise LinkRefused("used")
    if link.expires_at <= now:
        raise LinkRefused("expired")
    user = session.get(AppUser, link.user_id)
    if user is None or not user.active:
        raise LinkRefused("inactive")
    other = session.exec(
        select(AppUser).where(AppUser.telegram_chat_id == chat_id, AppUser.id != user.id)
    ).first()
    if other is not None:
        raise LinkRefused("taken")
    link.used_at = now
    user.telegram_chat_id = chat_id
    user.language = language if language in ("id", "en") else "id"
    session.add(link)
    session.add(user)
    session.flush()
    return user
