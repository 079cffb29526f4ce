"""A conversation's state, persisted at every step, and the claim of each inbound message.

These run for every inbound message, so they are plain SQL that SQLite and PostgreSQL both
speak (ON CONFLICT, RETURNING), built once. A handled message costs few round trips: one
claim (which on PostgreSQL also deletes the stored copy), one read of the citizen and the
state together, the step's own statements, and one upsert of the state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import DateTime, bindparam, text
from sqlmodel import Session

from core.people.models import Channel
from core.shared.clock import utcnow

_NOW = bindparam("now", type_=DateTime())
_SAVE = text(
    "INSERT INTO conversation_state (channel, address, step, data, screen_message_id,"
    " reply_to, reply, updated_at)"
    " VALUES (:channel, :address, :step, :data, :screen, :reply_to, :reply, :now)"
    " ON CONFLICT (channel, address) DO UPDATE SET step = excluded.step,"
    " data = excluded.data, screen_message_id = excluded.screen_message_id,"
    " reply_to = excluded.reply_to, reply = excluded.reply, updated_at = excluded.updated_at"
).bindparams(_NOW)
_CLAIM = text(
    "INSERT INTO processed_message (channel, message_id, processed_at)"
    " VALUES (:channel, :message_id, :now)"
    " ON CONFLICT (channel, message_id) DO NOTHING RETURNING message_id"
).bindparams(_NOW)
# PostgreSQL deletes the stored copy in the same statement (a data-modifying CTE).
_CLAIM_AND_FORGET = text(
    "WITH gone AS (DELETE FROM inbound_message"
    " WHERE channel = :channel AND message_id = :message_id)"
    " INSERT INTO processed_message (channel, message_id, processed_at)"
    " VALUES (:channel, :message_id, :now)"
    " ON CONFLICT (channel, message_id) DO NOTHING RETURNING message_id"
).bindparams(_NOW)
_FORGET = text("DELETE FROM inbound_message WHERE channel = :channel AND message_id = :message_id")


@dataclass
class ChatState:
    channel: Channel
    address: str
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    screen_message_id: str | None = None
    reply_to: str | None = None  # the message whose answer `reply` is
    reply: dict[str, Any] | None = None


def _json_object(raw: str | None) -> dict[str, Any] | None:
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def state_from_row(
    channel: Channel,
    address: str,
    step: str | None,
    data: str | None,
    screen: str | None,
    reply_to: str | None = None,
    reply: str | None = None,
) -> ChatState:
    """The state as read (no row yet: an empty state)."""
    if step is None:
        return ChatState(channel=channel, address=address)
    return ChatState(
        channel=channel,
        address=address,
        step=step,
        data=_json_object(data) or {},
        screen_message_id=screen,
        reply_to=reply_to,
        reply=_json_object(reply),
    )


_LOAD = text(
    "SELECT step, data, screen_message_id, reply_to, reply FROM conversation_state"
    " WHERE channel = :channel AND address = :address"
)


def load_state(session: Session, channel: Channel, address: str) -> ChatState:
    """One indexed read of the conversation's saved step."""
    params = {"channel": channel.value, "address": address}
    row = session.connection().execute(_LOAD, params).first()
    if row is None:
        return ChatState(channel=channel, address=address)
    return state_from_row(
        channel, address, row.step, row.data, row.screen_message_id, row.reply_to, row.reply
    )


def save_state(session: Session, state: ChatState) -> None:
    """Write the conversation's step in one upsert (no read first)."""
    params = {
        "channel": state.channel.value,
        "address": state.address,
        "step": state.step,
        "data": json.dumps(state.data, separators=(",", ":")),
        "screen": state.screen_message_id,
        "reply_to": state.reply_to,
        "reply": None if state.reply is None else json.dumps(state.reply, ensure_ascii=False),
        "now": utcnow(),
    }
    session.connection().execute(_SAVE, params)


def claim_message(session: Session, channel: Channel, message_id: str) -> bool:
    """Record an inbound message as handled and delete its stored copy; False when it was
    already handled (the channel delivered it again). No read first, no savepoint."""
    params = {"channel": channel.value, "message_id": message_id, "now": utcnow()}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return connection.execute(_CLAIM_AND_FORGET, params).first() is not None
    claimed = connection.execute(_CLAIM, params).first() is not None
    if claimed:
        connection.execute(_FORGET, params)
    return claimed
