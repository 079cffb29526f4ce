"""Telegram updates are written here before Telegram is told they arrived.

A stored update is kept only for replay after a crash, so it keeps only what handling
needs: names, usernames and profile details are stripped before it is written (the bot
never needs them), it is deleted in the transaction that handles it, and whatever is left
(an update that could never be handled) is pruned after `UPDATE_RETENTION`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.chat.models import InboundUpdate, ProcessedUpdate
from core.shared.clock import utcnow
from core.shared.db import writer

# The longest a stored update (or a handled update id) is kept.
UPDATE_RETENTION = timedelta(days=7)

# Keys dropped wherever they occur in an update: who the people are, not what they did.
_DROPPED = frozenset(
    {"last_name", "username", "active_usernames", "language_code", "is_premium", "vcard"}
)
# Keys Telegram always sends (the Bot API library requires them) that hold a name or a
# phone number: kept, but empty. `first_name` of a chat is optional and dropped instead.
_EMPTIED = frozenset({"sender_user_name", "phone_number"})

_FORGET = text("DELETE FROM inbound_update WHERE update_id = :update_id")


def strip_personal(value: Any) -> Any:
    """A copy of a raw update without names: `first_name`, `last_name`, `username` of every
    user and chat in it (sender, chat, forwarded-from, mentioned users, contacts...)."""
    if isinstance(value, list):
        return [strip_personal(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in _DROPPED:
            continue
        if key in _EMPTIED:
            out[key] = ""
        elif key == "first_name":
            if "is_bot" in value or "phone_number" in value:  # a User or a Contact
                out[key] = ""
        else:
            out[key] = strip_personal(item)
    return out


def store_updates(engine: Engine, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Persist raw updates, without names; returns those not seen before (in arrival order),
    as stored: the bot handles exactly what a replay would."""
    fresh = []
    wanted = [raw["update_id"] for raw in updates if isinstance(raw.get("update_id"), int)]
    with Session(writer(engine)) as session:
        handled = set(
            session.exec(
                select(ProcessedUpdate.update_id).where(col(ProcessedUpdate.update_id).in_(wanted))
            ).all()
        )
        for raw in updates:
            update_id = raw.get("update_id")
            if not isinstance(update_id, int) or update_id in handled:
                continue  # malformed, or Telegram delivered it again after it was handled
            clean = strip_personal(raw)
            try:
                with session.begin_nested():
                    session.add(InboundUpdate(update_id=update_id, payload=json.dumps(clean)))
                fresh.append(clean)
            except IntegrityError:
                continue  # Telegram delivered it again while it waits to be handled
        session.commit()
    return fresh


def unprocessed_updates(engine: Engine, limit: int = 10_000) -> list[dict[str, Any]]:
    """Stored but never handled (the process stopped first): to be handled at start."""
    with Session(engine) as session:
        rows = session.exec(
            select(InboundUpdate.payload)
            .where(~col(InboundUpdate.update_id).in_(select(ProcessedUpdate.update_id)))
            .order_by(col(InboundUpdate.update_id))
            .limit(limit)
        ).all()
    return [json.loads(payload) for payload in rows]


def forget_update(session: Session, update_id: int) -> None:
    """Delete a stored update: call in the transaction that handles it."""
    session.connection().execute(_FORGET, {"update_id": update_id})


def _concerns(value: Any, chat_id: int) -> bool:
    """Whether a user or chat with this id appears anywhere in the update."""
    if isinstance(value, list):
        return any(_concerns(item, chat_id) for item in value)
    if not isinstance(value, dict):
        return False
    if value.get("id") == chat_id and ("is_bot" in value or "type" in value):
        return True
    return any(_concerns(item, chat_id) for item in value.values())


def forget_chat(session: Session, chat_id: int) -> int:
    """Delete every stored update from or to this private chat; returns how many."""
    # The text filter finds the candidates in SQL; the JSON decides (12 is not 123).
    rows = session.exec(
        select(InboundUpdate.update_id, InboundUpdate.payload).where(
            col(InboundUpdate.payload).like(f"%{chat_id}%")
        )
    ).all()
    doomed = [uid for uid, payload in rows if _concerns(json.loads(payload), chat_id)]
    if doomed:
        session.execute(delete(InboundUpdate).where(col(InboundUpdate.update_id).in_(doomed)))
    return len(doomed)


def prune(
    engine: Engine, older_than: timedelta = UPDATE_RETENTION, *, now: datetime | None = None
) -> int:
    """Delete stored updates that were handled or are older than `older_than`, and handled
    update ids older than that; returns rows removed."""
    cutoff = (now or utcnow()) - older_than
    with Session(writer(engine)) as session:
        handled = select(ProcessedUpdate.update_id)
        a = session.execute(
            delete(InboundUpdate).where(
                or_(
                    col(InboundUpdate.received_at) < cutoff,
                    col(InboundUpdate.update_id).in_(handled),
                )
            )
        )
        b = session.execute(
            delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < cutoff)
        )
        session.commit()
    return int(a.rowcount or 0) + int(b.rowcount or 0)  # type: ignore[attr-defined]
