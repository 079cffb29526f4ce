"""The bot's conversation state, persisted at every step, and processed update ids."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import DateTime, bindparam, text
from sqlmodel import Session

from core.shared.clock import utcnow

# These run for every update the bot receives, so they are plain SQL that SQLite and
# PostgreSQL both speak (ON CONFLICT, RETURNING): no statement is rebuilt per call.
_NOW = bindparam("now", type_=DateTime())
_LOAD = text("SELECT step, data, message_id FROM conversation_state WHERE chat_id = :chat_id")
_SAVE = text(
    "INSERT INTO conversation_state (chat_id, step, data, message_id, updated_at)"
    " VALUES (:chat_id, :step, :data, :message_id, :now)"
    " ON CONFLICT (chat_id) DO UPDATE SET step = excluded.step, data = excluded.data,"
    " message_id = excluded.message_id, updated_at = excluded.updated_at"
).bindparams(_NOW)
_CLAIM = text(
    "INSERT INTO processed_update (update_id, processed_at) VALUES (:update_id, :now)"
    " ON CONFLICT (update_id) DO NOTHING RETURNING update_id"
).bindparams(_NOW)


@dataclass
class ChatState:
    chat_id: int
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    message_id: int | None = None


def load_state(session: Session, chat_id: int) -> ChatState:
    """One indexed read of the chat's saved step (a plain row, no ORM bookkeeping)."""
    row = session.connection().execute(_LOAD, {"chat_id": chat_id}).first()
    if row is None:
        return ChatState(chat_id=chat_id)
    try:
        data = json.loads(row.data)
    except ValueError:
        data = {}
    return ChatState(
        chat_id=chat_id,
        step=row.step,
        data=data if isinstance(data, dict) else {},
        message_id=row.message_id,
    )


def save_state(session: Session, state: ChatState) -> None:
    """Write the chat's step in one upsert (no read first)."""
    params = {
        "chat_id": state.chat_id,
        "step": state.step,
        "data": json.dumps(state.data, separators=(",", ":")),
        "message_id": state.message_id,
        "now": utcnow(),
    }
    session.connection().execute(_SAVE, params)


def claim_update(session: Session, update_id: int) -> bool:
    """Record an update id; False when it was already handled (Telegram redelivered it).

    One INSERT ... ON CONFLICT DO NOTHING: no read first, no savepoint."""
    params = {"update_id": update_id, "now": utcnow()}
    return session.connection().execute(_CLAIM, params).first() is not None
