"""Tables of conversations: adapter state kept by core for every channel. Times are naive
UTC. A conversation is keyed by its channel and the channel's address for it (a Telegram
private chat id, a WhatsApp phone number), and an inbound message by its channel and the
channel's own id for it (a Telegram update id, a WhatsApp `wamid....`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from core.shared.clock import utcnow


class ConversationState(SQLModel, table=True):
    """A conversation's step and half-filled answers, written at every step."""

    __tablename__ = "conversation_state"

    channel: str = Field(sa_column=Column(String(20), primary_key=True))
    address: str = Field(sa_column=Column(String(320), primary_key=True))
    step: str = Field(default="", max_length=40)
    data: str = Field(default="{}", sa_type=Text)
    # The channel's id of the last screen shown (Telegram edits it in place).
    screen_message_id: str | None = Field(default=None, max_length=100)
    # The answer to the last message handled (its screens, as JSON), kept so that a message
    # delivered again after a crash, whose answer never went out, is answered again.
    reply_to: str | None = Field(default=None, max_length=100)
    reply: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow)
    # When the citizen last wrote (WhatsApp's 24-hour window: core.chat.window).
    last_inbound_at: datetime | None = None


class ProcessedMessage(SQLModel, table=True):
    """Inbound message ids already handled, so a redelivered message is ignored."""

    __tablename__ = "processed_message"

    channel: str = Field(sa_column=Column(String(20), primary_key=True))
    message_id: str = Field(sa_column=Column(String(100), primary_key=True))
    processed_at: datetime = Field(default_factory=utcnow, index=True)


class InboundMessage(SQLModel, table=True):
    """An inbound message stored before it is acknowledged (Telegram's webhook 200 or next
    poll offset, WhatsApp's webhook 200), so a message the channel considers delivered
    survives a crash; handled ones are those in `processed_message`. Replayed in `id`
    order, which is arrival order."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        Index("ix_inbound_message_channel_message_id", "channel", "message_id", unique=True),
        Index("ix_inbound_message_channel_address", "channel", "address"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    message_id: str = Field(max_length=100)
    # The conversation it belongs to (erasing a citizen deletes what is still stored).
    address: str | None = Field(default=None, max_length=320)
    payload: str = Field(sa_type=Text)
    received_at: datetime = Field(default_factory=utcnow, index=True)
