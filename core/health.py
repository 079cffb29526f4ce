"""Readiness: is the database reachable, the schema current, the outbox draining?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from core.outbox.models import OutboundMessage, OutboxStatus
from core.shared.clock import utcnow
from core.shared.migrate import is_at_head


@dataclass(frozen=True)
class Readiness:
    ready: bool
    database: bool
    migrations_at_head: bool
    outbox_pending: int | None
    outbox_oldest_pending_seconds: float | None


def readiness(engine: Engine) -> Readiness:
    try:
        at_head = is_at_head(engine)
        with Session(engine) as session:
            pending, oldest = session.exec(
                select(func.count(), func.min(OutboundMessage.created_at)).where(
                    OutboundMessage.status == OutboxStatus.pending.value
                )
            ).one()
    except SQLAlchemyError:
        return Readiness(False, False, False, None, None)
    age = None
    if oldest is not None:
        if isinstance(oldest, str):  # in case a driver hands back the stored text
            oldest = datetime.fromisoformat(oldest)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age = max(0.0, (utcnow() - oldest).total_seconds())
    return Readiness(at_head, True, at_head, int(pending), age)
