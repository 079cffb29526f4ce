"""Where people are reached: a citizen's or a staff account's contacts, as outbox addresses."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists
from sqlmodel import Session, col, select

from core.people.models import Address, AppUser, Channel, Contact


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
    """The staff account's contact on `channel` (Telegram for digests and reminders)."""
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
