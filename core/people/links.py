"""One-time codes that link a staff account to the Telegram chat that receives digests, and
removing that link (`unlink_telegram`: one's own, or, for an account manager, anyone's).

Wrong codes are throttled per chat: after `LINK_ATTEMPTS` refused codes, each within
`LINK_WINDOW` of the one before, the chat waits `LINK_WINDOW`, even with the right code. The
streak is kept in `login_throttle` (wrong credentials, shared by every process) under the
name `tg-link:<chat id>` and the address `telegram`: no account has such a name (see
USERNAME_RE in core.people.users) and no API client such an address, so logins and these never
count against each other."""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from core.access import Actor, Permission
from core.outbox.models import MessageTemplate, OutboundMessage, OutboxStatus
from core.people.models import Address, AppUser, Channel, Contact, LinkCode, LoginThrottle
from core.people.users import audit_account_change
from core.shared.clock import utcnow
from core.shared.errors import DomainError, Forbidden, NotFound

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
VALID_FOR = timedelta(hours=24)
LINK_ATTEMPTS = 5  # refused codes in a streak, then the chat waits LINK_WINDOW
LINK_WINDOW = timedelta(hours=1)
THROTTLE_ADDRESS = "telegram"


class LinkRefused(DomainError):
    """`reason` is one of unknown, expired, used, inactive, taken, throttled (then
    `retry_after` says in how many seconds the chat may try again)."""

    def __init__(self, reason: str, retry_after: int = 0) -> None:
        super().__init__(f"link code refused: {reason}")
        self.reason = reason
        self.retry_after = retry_after


def _throttle_key(to: Address) -> str:
    return f"link:{to.channel.value}:{to.address}"


def _throttle(session: Session, to: Address) -> LoginThrottle | None:
    return session.get(LoginThrottle, (_throttle_key(to), THROTTLE_ADDRESS))


def link_retry_after(session: Session, to: Address, *, now: datetime | None = None) -> int:
    """Seconds until the chat may send a code again, or 0 when it may now."""
    now = now or utcnow()
    row = _throttle(session, to)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return max(1, math.ceil((row.locked_until - now).total_seconds()))


def _count_refusal(session: Session, to: Address, now: datetime) -> None:
    row = _throttle(session, to) or LoginThrottle(
        username=_throttle_key(to), address=THROTTLE_ADDRESS, updated_at=now
    )
    if row.updated_at < now - LINK_WINDOW:  # a quiet hour forgets the streak
        row.failures = 0
    row.failures += 1
    row.updated_at = now
    if row.failures >= LINK_ATTEMPTS:
        row.failures = 0
        row.locked_until = now + LINK_WINDOW
    session.add(row)
    session.flush()


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def create_link_code(
    session: Session, user_id: int, *, actor: Actor, now: datetime | None = None
) -> tuple[str, datetime]:
    """A new code for `user_id` (shown once; only its hash is stored)."""
    actor.require_admin()
    return _issue(session, user_id, actor=actor, now=now)


def create_own_link_code(
    session: Session, *, actor: Actor, now: datetime | None = None
) -> tuple[str, datetime]:
    """A new code for the actor's own account: every staff member links their own chat."""
    return _issue(session, actor.user_id, actor=actor, now=now)


# `/start link_ABCD2345`: what a deep link (t.me/<bot>?start=...) sends when a QR code is
# scanned; the bot handles it as `/link ABCD2345`. Telegram cannot prefill any other text.
LINK_PAYLOAD_PREFIX = "link_"


def link_payload(code: str) -> str:
    """The deep-link payload of a code (A-Z and digits only, as deep links allow)."""
    return LINK_PAYLOAD_PREFIX + _normalise(code)


def link_deep_link(bot_username: str, code: str) -> str:
    """The t.me link that opens the bot and links the chat with `code` in one tap."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={link_payload(code)}"


def _issue(
    session: Session, user_id: int, *, actor: Actor, now: datetime | None
) -> tuple[str, datetime]:
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
    session: Session, code: str, to: Address, language: str = "id", *, now: datetime | None = None
) -> AppUser:
    """Make `to` (a Telegram chat) the contact of the code's user, once. Raises LinkRefused
    with the reason; a refused code counts against the address's attempts."""
    now = now or utcnow()
    wait = link_retry_after(session, to, now=now)
    if wait:
        raise LinkRefused("throttled", retry_after=wait)
    try:
        user = _redeem(session, code, to, language, now)
    except LinkRefused:
        _count_refusal(session, to, now)
        raise
    row = _throttle(session, to)
    if row is not None:
        session.delete(row)
        session.flush()
    return user


def _redeem(session: Session, code: str, to: Address, language: str, now: datetime) -> AppUser:
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
    holders = session.exec(
        select(Contact).where(
            Contact.channel == to.channel.value,
            Contact.address == to.address,
            col(Contact.user_id).is_not(None),
        )
    ).all()
    if any(holder.user_id != user.id for holder in holders):
        raise LinkRefused("taken")
    link.used_at = now
    for old in session.exec(
        select(Contact).where(Contact.user_id == user.id, Contact.channel == to.channel.value)
    ).all():
        session.delete(old)  # one chat per account and channel: the newest link wins
    session.flush()
    session.add(Contact(channel=to.channel.value, address=to.address, user_id=user.id))
    user.language = language if language in ("id", "en") else "id"
    session.add(link)
    session.add(user)
    session.flush()
    return user


UNLINKED_ERROR = "the account's Telegram link was removed before it was sent"


def unlink_telegram(
    session: Session, user_id: int, *, actor: Actor, now: datetime | None = None
) -> bool:
    """Remove the Telegram link of `user_id`'s account; False when it had none.

    Anyone may unlink their own account; another account's link (a lost phone, a chat that
    changed hands) only one who may manage accounts (`Permission.MANAGE_USERS`, as every
    other change to an account). Digests and reminders find their recipients through the
    account's contact, so none goes to that chat from now on; staff messages still waiting
    in the outbox for it are not sent either (marked failed, with the reason). Audited as a
    change to the account (`user_changed`); the chat id itself is not written down."""
    if user_id != actor.user_id and not actor.may(Permission.MANAGE_USERS):
        raise Forbidden(
            "only an admin may remove another account's Telegram link",
            why="users.unlink_other",
        )
    user = session.get(AppUser, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    now = now or utcnow()
    contacts = session.exec(
        select(Contact).where(Contact.user_id == user_id, Contact.channel == Channel.telegram.value)
    ).all()
    if not contacts:
        return False
    chats = [contact.address for contact in contacts]
    for contact in contacts:
        session.delete(contact)
    session.execute(
        update(OutboundMessage)
        .where(
            col(OutboundMessage.channel) == Channel.telegram.value,
            col(OutboundMessage.address).in_(chats),
            col(OutboundMessage.status) == OutboxStatus.pending.value,
            col(OutboundMessage.template) == MessageTemplate.plain.value,
        )
        .values(status=OutboxStatus.failed.value, last_error=UNLINKED_ERROR)
    )
    own = user_id == actor.user_id
    detail = "own Telegram link removed" if own else "Telegram link removed"
    audit_account_change(session, user, detail, actor=actor, now=now)
    session.flush()
    return True
