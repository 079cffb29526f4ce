"""Tables and enums of outbox. Times are naive UTC."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Index,
    LargeBinary,
    Text,
)
from sqlmodel import Field, SQLModel

from core.people.models import Channel, Language
from core.shared.clock import utcnow


class OutboxStatus(StrEnum):
    pending = "pending"  # waiting to be sent (or to be retried)
    sent = "sent"  # the channel accepted it
    failed = "failed"  # failed for good (blocked bot, bad request)


class MessageTemplate(StrEnum):
    """How an outbox message's text is made (see docs/architecture.md, "Messages to people").

    `plain`: a text for staff, rendered by core from its catalog; params are {"text": ...}.
    Every other member is a case notice to a citizen: params ({"ref", "body", "outcome"})
    that each channel renders in the citizen's language from its own catalog.
    `web_follow_up_link` is the exception: {"ref", "code"}, the follow-up link of a web
    report sent once to its reporter's e-mail; its code is a secret, dropped from the row
    once the message is sent or failed for good (`SECRET_PARAMS`).
    """

    plain = "plain"
    case_verified = "case_verified"
    case_rejected = "case_rejected"
    case_in_progress = "case_in_progress"
    case_info_requested = "case_info_requested"
    case_resolved = "case_resolved"
    case_closed = "case_closed"
    case_reopened = "case_reopened"
    web_follow_up_link = "web_follow_up_link"

    @property
    def is_case_notice(self) -> bool:
        return self is not MessageTemplate.plain


# Parameters that must not stay at rest in the outbox: dropped once a message is done.
SECRET_PARAMS: dict[MessageTemplate, frozenset[str]] = {
    MessageTemplate.web_follow_up_link: frozenset({"code"}),
}


def without_secrets(template: str, params: str) -> str | None:
    """The params (JSON) of a finished message without its template's secret parameters;
    None when there are none to drop."""
    try:
        secret = SECRET_PARAMS.get(MessageTemplate(template), frozenset())
    except ValueError:
        return None
    if not secret:
        return None
    try:
        loaded = json.loads(params)
    except ValueError:
        return "{}"
    if not isinstance(loaded, dict):
        return "{}"
    kept = {k: v for k, v in loaded.items() if k not in secret}
    return json.dumps(kept, ensure_ascii=False)


__all__ = ["SECRET_PARAMS", "Channel", "MessageTemplate", "OutboundMessage", "OutboxStatus"]


class OutboundMessage(SQLModel, table=True):
    """The outbox: a message to a person, written in the transaction that caused it."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_message_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbound_message_address_status_id", "channel", "address", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)  # a Channel: whose sender sends it
    address: str = Field(max_length=320)  # the channel's address (a Telegram chat id, ...)
    language: str = Field(default=Language.id.value, max_length=5)
    template: str = Field(max_length=40)  # a MessageTemplate
    params: str = Field(default="{}", sa_type=Text)
    status: str = Field(default=OutboxStatus.pending.value, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    locked_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    case_event_id: int | None = Field(default=None, foreign_key="case_event.id")
    # The channel's id of the sent message (Telegram's message id, WhatsApp's wamid).
    external_id: str | None = Field(default=None, max_length=100)
    photo: bytes | None = Field(default=None, sa_type=LargeBinary)  # a PNG sent with the text
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # What the channel reported after accepting it (WhatsApp: sent, delivered, read or
    # failed; whatsapp.statuses), and when.
    delivery_status: str | None = Field(default=None, max_length=10)
    delivery_status_at: datetime | None = None


# WhatsApp's delivery statuses find their row by the channel's id of the message.
Index(
    "ix_outbound_message_channel_external_id",
    OutboundMessage.__table__.c.channel,  # type: ignore[attr-defined]
    OutboundMessage.__table__.c.external_id,  # type: ignore[attr-defined]
)
