"""Telegram updates are written here before Telegram is told they arrived."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.db import writer
from core.models import InboundUpdate, ProcessedUpdate


def store_updates(engine: Engine, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Persist raw updates; returns those not seen before (in arrival order)."""
    fresh = []
    with Session(writer(engine)) as session:
        for raw in updates:
            update_id = raw.get("update_id")
            if not isinstance(update_id, int):
                continue
            try:
                with session.begin_nested():
                    session.add(InboundUpdate(update_id=update_id, payload=json.dumps(raw)))
                fresh.append(raw)
            except IntegrityError:
                continue  # Telegram delivered it again
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


def prune(
    engine: Engine, older_than: timedelta = timedelta(days=7), now: datetime | None = None
) -> int:
    """Delete stored and processed update ids older than `older_than`; returns rows removed."""
    cutoff = (now or utcnow()) - older_than
    with Session(writer(engine)) as session:
        a = session.execute(delete(InboundUpdate).where(col(InboundUpdate.received_at) < cutoff))
        b = session.execute(
            delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < cutoff)
        )
        session.commit()
    return int(a.rowcount or 0) + int(b.rowcount or 0)  # type: ignore[attr-defined]
