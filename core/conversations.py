"""The bot's conversation state, persisted at every step, and processed update ids."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
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
    """Record an update id; False when it was already handled (Telegram redelivered it)."""
    if session.get(ProcessedUpdate, update_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ProcessedUpdate(update_id=update_id))
    except IntegrityError:
        return False
    return True
