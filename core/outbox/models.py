"""Tables and enums of outbox. Times are naive UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    LargeBinary,
    Text,
)
from sqlmodel import Field, SQLModel

from core.people.models import Language
from core.shared.clock import utcnow


class OutboundMessage(SQLModel, table=True):
    """The outbox: a message to a person, written in the transaction that caused it."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_message_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbound_message_chat_id_status_id", "chat_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    language: str = Field(default=Language.id.value, max_length=5)
    template: str = Field(max_length=40)  # rendered by the bot in the recipient's language
    params: str = Field(default="{}", sa_type=Text)
    status: str = Field(default="pending", max_length=10)  # pending, sent, failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    locked_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    case_event_id: int | None = Field(default=None, foreign_key="case_event.id")
    telegram_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    photo: bytes | None = Field(default=None, sa_type=LargeBinary)  # a PNG sent with the text
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
