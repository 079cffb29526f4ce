"""The bot's conversation state, persisted at every step, and processed update ids."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from core.clock import utcnow
from core.models import ConversationState, ProcessedUpdate


@dataclass
class ChatState:
    chat_id: int
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    message_id: int | None = None


def load_state(session: Session, chat_id: int) -> ChatState:
    row = session.get(ConversationState, chat_id)
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
    row = session.get(ConversationState, state.chat_id)
    if row is None:
        row = ConversationState(chat_id=state.chat_id)
    row.step = state.step
    row.data = json.dumps(state.data, separators=(",", ":"))
    row.message_id = state.message_id
    row.updated_at = utcnow()
    session.add(row)


def claim_update(session: Session, update_id: int) -> bool:
    """Record an update id; False when it was already handled (Telegram redelivered it).

    One INSERT ... ON CONFLICT DO NOTHING: no read first, no savepoint."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(ProcessedUpdate)
        .values(update_id=update_id, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.__table__.c.update_id)  # type: ignore[attr-defined]
    )
    return session.connection().execute(stmt).first() is not None
