"""Tables and enums of chat. Times are naive UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Text,
)
from sqlmodel import Field, SQLModel

from core.shared.clock import utcnow


class ConversationState(SQLModel, table=True):
    """The bot's per-chat step and half-filled answers, written at every step."""

    __tablename__ = "conversation_state"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    step: str = Field(default="", max_length=40)
    data: str = Field(default="{}", sa_type=Text)
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    updated_at: datetime = Field(default_factory=utcnow)


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled, so a redelivered update is ignored."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: datetime = Field(default_factory=utcnow, index=True)


class InboundUpdate(SQLModel, table=True):
    """A Telegram update stored before it is acknowledged (webhook 200 / next poll offset),
    so an update Telegram considers delivered survives a crash; processed ones are those in
    `processed_update`."""

    __tablename__ = "inbound_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: str = Field(sa_type=Text)
    received_at: datetime = Field(default_factory=utcnow, index=True)
