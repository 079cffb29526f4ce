"""Inbound messages are written here before their channel is told they arrived.

A stored message is kept only for replay after a crash, so it keeps only what handling
needs (each channel strips names and profile details before storing), it is deleted in the
transaction that handles it, and whatever is left (a message that could never be handled)
is pruned after `INBOUND_RETENTION`. Messages are keyed by their channel and the channel's
own id for them, so a redelivered one is stored and handled once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, text, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.chat.models import InboundMessage, ProcessedMessage
from core.people.models import Channel
from core.shared.clock import utcnow
from core.shared.db import writer

# The longest a stored message (or a handled message id) is kept.
INBOUND_RETENTION = timedelta(days=7)

_FORGET = text("DELETE FROM inbound_message WHERE channel = :channel AND message_id = :message_id")


@dataclass(frozen=True)
class Arrival:
    """One inbound message as its channel hands it over, already stripped of names."""

    message_id: str
    address: str | None  # the conversation it belongs to, when the channel knows it
    payload: dict[str, Any]


def store_inbound(engine: Engine, channel: Channel, arrivals: Sequence[Arrival]) -> list[Arrival]:
    """Persist inbound messages; returns those not seen before, in arrival order."""
    fresh: list[Arrival] = []
    wanted = [a.message_id for a in arrivals]
    with Session(writer(engine)) as session:
        handled = set(
            session.exec(
                select(ProcessedMessage.message_id).where(
                    ProcessedMessage.channel == channel.value,
                    col(ProcessedMessage.message_id).in_(wanted),
                )
            ).all()
        )
        for arrival in arrivals:
            if arrival.message_id in handled:
                continue  # delivered again after it was handled
            row = InboundMessage(
                channel=channel.value,
                message_id=arrival.message_id,
                address=arrival.address,
                payload=json.dumps(arrival.payload),
            )
            try:
                with session.begin_nested():
                    session.add(row)
                fresh.append(arrival)
            except IntegrityError:
                continue  # delivered again while it waits to be handled
        session.commit()
    return fresh


def unprocessed(engine: Engine, channel: Channel, limit: int = 10_000) -> list[dict[str, Any]]:
    """Stored but never handled (the process stopped first), in arrival order."""
    handled = select(ProcessedMessage.message_id).where(ProcessedMessage.channel == channel.value)
    with Session(engine) as session:
        rows = session.exec(
            select(InboundMessage.payload)
            .where(
                InboundMessage.channel == channel.value,
                ~col(InboundMessage.message_id).in_(handled),
            )
            .order_by(col(InboundMessage.id))
            .limit(limit)
        ).all()
    return [json.loads(payload) for payload in rows]


def forget_inbound(session: Session, channel: Channel, message_id: str) -> None:
    """Delete a stored message: call in the transaction that handles it."""
    session.connection().execute(_FORGET, {"channel": channel.value, "message_id": message_id})


def forget_conversation(session: Session, channel: Channel, address: str) -> int:
    """Delete every stored message of a conversation (erasure); returns how many."""
    result = session.execute(
        delete(InboundMessage).where(
            col(InboundMessage.channel) == channel.value, col(InboundMessage.address) == address
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune(
    engine: Engine, older_than: timedelta = INBOUND_RETENTION, *, now: datetime | None = None
) -> int:
    """Delete stored messages that were handled or are older than `older_than`, and handled
    message ids older than that; returns rows removed."""
    cutoff = (now or utcnow()) - older_than
    key = tuple_(col(InboundMessage.channel), col(InboundMessage.message_id))
    handled = select(ProcessedMessage.channel, ProcessedMessage.message_id)
    with Session(writer(engine)) as session:
        a = session.execute(
            delete(InboundMessage).where(
                or_(col(InboundMessage.received_at) < cutoff, key.in_(handled))
            )
        )
        b = session.execute(
            delete(ProcessedMessage).where(col(ProcessedMessage.processed_at) < cutoff)
        )
        session.commit()
    return int(a.rowcount or 0) + int(b.rowcount or 0)  # type: ignore[attr-defined]


__all__ = [
    "INBOUND_RETENTION",
    "Arrival",
    "forget_conversation",
    "forget_inbound",
    "prune",
    "store_inbound",
    "unprocessed",
]
