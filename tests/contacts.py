"""Telegram identities in tests: a citizen or a staff account and their Telegram contact."""

from __future__ import annotations

from sqlmodel import Session, col, select

from core.outbox.addresses import staff_address
from core.outbox.models import OutboundMessage
from core.people.citizens import get_citizen, get_or_create_citizen
from core.people.models import Address, AppUser, Channel, Citizen, Contact

TG = Channel.telegram


def chat(chat_id: int) -> Address:
    return Address(TG, str(chat_id))


def telegram_citizen(session: Session, user_id: int) -> Citizen:
    """The citizen of this Telegram user, created as their first message would."""
    return get_or_create_citizen(session, TG, str(user_id))


def citizen_of(session: Session, user_id: int) -> Citizen | None:
    return get_citizen(session, TG, str(user_id))


def link_telegram(session: Session, user: AppUser, chat_id: int) -> None:
    """Give a staff account a Telegram chat, as `/link` would."""
    assert user.id is not None
    session.add(Contact(channel=TG.value, address=str(chat_id), user_id=user.id))
    session.flush()


def telegram_chat_of(session: Session, user: AppUser) -> int | None:
    assert user.id is not None
    found = staff_address(session, user.id)
    return None if found is None else int(found.address)


def telegram_user_of(session: Session, citizen: Citizen) -> int:
    contact = session.exec(
        select(Contact).where(Contact.citizen_id == citizen.id, Contact.channel == TG.value)
    ).one()
    return int(contact.address)


def messages_to(session: Session, chat_id: int) -> list[OutboundMessage]:
    return list(
        session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.channel == TG.value, OutboundMessage.address == str(chat_id))
            .order_by(col(OutboundMessage.id))
        ).all()
    )


def chat_of(message: OutboundMessage) -> int:
    return int(message.address)


def outbound(chat_id: int, **fields: object) -> OutboundMessage:
    """An outbox row to a Telegram chat."""
    return OutboundMessage(channel=TG.value, address=str(chat_id), **fields)  # type: ignore[arg-type]
