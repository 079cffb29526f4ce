"""Where people are reached: a citizen's or a staff account's contacts, as outbox addresses.

A staff account chooses where its alerts, reminders and digests go (`AppUser.notify_channel`):
its Telegram chat (linked with `/link`) or an e-mail address it enters in the console;
`staff_notice_address` and `has_staff_notice_contact` follow that choice, while
`staff_address` and `has_staff_contact` answer for one channel (Telegram by default: whether
the account's chat is linked)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists
from sqlmodel import Session, col, select

from core.access import Actor
from core.people.models import Address, AppUser, Channel, Contact
from core.shared.clock import utcnow
from core.shared.errors import Conflict, InvalidInput, NotFound

# Channels a staff account may choose for its notices.
STAFF_CHANNELS = (Channel.telegram, Channel.email)
MAX_EMAIL = 254
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def citizen_addresses(session: Session, citizen_id: int) -> list[Address]:
    """Every contact of the citizen, oldest first (none once erased)."""
    contacts = session.exec(
        select(Contact).where(Contact.citizen_id == citizen_id).order_by(col(Contact.id))
    ).all()
    return [Address(Channel(c.channel), c.address) for c in contacts]


def citizen_address(session: Session, citizen_id: int) -> Address | None:
    """Where the citizen is reached: their first contact (None once erased)."""
    addresses = citizen_addresses(session, citizen_id)
    return addresses[0] if addresses else None


def staff_address(
    session: Session, user_id: int, channel: Channel = Channel.telegram
) -> Address | None:
    """The staff account's contact on `channel` (Telegram: its linked chat)."""
    contact = session.exec(
        select(Contact)
        .where(Contact.user_id == user_id, Contact.channel == channel.value)
        .order_by(col(Contact.id).desc())
    ).first()
    return None if contact is None else Address(channel, contact.address)


def has_staff_contact(channel: Channel = Channel.telegram) -> ColumnElement[bool]:
    """A WHERE clause on `AppUser`: the account has a contact on `channel`."""
    return exists().where(
        and_(col(Contact.user_id) == col(AppUser.id), col(Contact.channel) == channel.value)
    )


def notice_channel(user: AppUser) -> Channel:
    """The channel the account chose for its alerts, reminders and digests."""
    try:
        channel = Channel(user.notify_channel)
    except ValueError:
        return Channel.telegram
    return channel if channel in STAFF_CHANNELS else Channel.telegram


def staff_notice_address(session: Session, user_id: int) -> Address | None:
    """Where the account's alerts, reminders and digests go: its contact on the channel it
    chose (None when it has none there: nothing is sent until it links or enters one)."""
    user = session.get(AppUser, user_id)
    if user is None:
        return None
    return staff_address(session, user_id, notice_channel(user))


def has_staff_notice_contact() -> ColumnElement[bool]:
    """A WHERE clause on `AppUser`: the account has a contact on the channel it chose."""
    return exists().where(
        and_(
            col(Contact.user_id) == col(AppUser.id),
            col(Contact.channel) == col(AppUser.notify_channel),
        )
    )


def normalise_staff_email(text: str) -> str | None:
    """An e-mail address as typed (its domain in lower case); None when blank."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_EMAIL or not _EMAIL_RE.fullmatch(cleaned):
        raise InvalidInput(f"{cleaned[:60]!r} is not an e-mail address", why="notify.email_bad")
    local, domain = cleaned.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def set_staff_notices(
    session: Session,
    *,
    email: str,
    channel: Channel,
    actor: Actor,
    now: datetime | None = None,
) -> None:
    """The acting account's own e-mail address for notices (blank: none) and the channel its
    alerts, reminders and digests go to. E-mail needs an address; an address already
    another account's is refused (each account's notices are its own)."""
    if channel not in STAFF_CHANNELS:
        raise InvalidInput(f"notices go by {channel.value}?", why="notify.channel_bad")
    user = session.get(AppUser, actor.user_id)
    if user is None:
        raise NotFound(f"user {actor.user_id} does not exist")
    address = normalise_staff_email(email)
    if channel is Channel.email and address is None:
        raise InvalidInput("enter the e-mail address notices go to", why="notify.email_needed")
    current = session.exec(
        select(Contact).where(Contact.user_id == user.id, Contact.channel == Channel.email.value)
    ).all()
    if address is not None:
        taken = session.exec(
            select(Contact.id).where(
                Contact.channel == Channel.email.value,
                Contact.address == address,
                col(Contact.user_id).is_not(None),
                Contact.user_id != user.id,
            )
        ).first()
        if taken is not None:
            raise Conflict(
                "that e-mail address receives another account's notices",
                why="notify.email_taken",
            )
    for contact in current:
        if contact.address != address:
            session.delete(contact)
    if address is not None and all(c.address != address for c in current):
        session.add(
            Contact(
                channel=Channel.email.value,
                address=address,
                user_id=user.id,
                created_at=now or utcnow(),
            )
        )
    user.notify_channel = channel.value
    session.add(user)
    session.flush()
