"""Delivery statuses from WhatsApp's webhook, recorded on the outbox rows they are about.

The webhook's `value.statuses` objects say what became of a message we sent, by its wamid
(the row's `external_id`): `sent` (WhatsApp accepted it), `delivered` (it reached the
citizen's phone), `read`, or `failed` (with `errors`: the row is then marked failed, with
WhatsApp's reason as `last_error`, so staff see "not delivered" on the case). WhatsApp may
send a status twice and in any order, so a status only ever moves forward: sent < failed <
delivered < read (a message the citizen received or read was delivered, whatever a failure
reported for another of their devices says). Recording the same statuses again changes
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.outbox.models import OutboundMessage, OutboxStatus
from core.people.models import Channel
from core.shared.clock import utcnow
from core.shared.db import writer

__all__ = ["RANK", "record_statuses"]

RANK = {"sent": 1, "failed": 2, "delivered": 3, "read": 4}


def _moment(raw: Any) -> datetime:
    """WhatsApp's timestamp (Unix seconds, as a string) in UTC; now when unreadable."""
    try:
        return datetime.fromtimestamp(int(str(raw)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def _error(status: dict[str, Any]) -> str:
    """The first error's code and title ("WhatsApp 131026: Message undeliverable")."""
    errors = status.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(first, dict):
        first = {}
    code = first.get("code")
    title = str(first.get("title") or first.get("message") or "failed")
    prefix = f"WhatsApp {code}" if isinstance(code, int | str) and str(code) else "WhatsApp"
    return f"{prefix}: {title}"[:500]


def record_statuses(engine: Engine, statuses: Sequence[Any]) -> int:
    """Record the webhook's statuses; returns how many outbox rows changed. Statuses of
    messages not in the outbox (sent by another system, or erased since) are ignored, and so
    are malformed ones: the webhook must still answer 200."""
    changed = 0
    with Session(writer(engine)) as session:
        for status in statuses:
            if not isinstance(status, dict):
                continue
            wamid, name = status.get("id"), status.get("status")
            if not isinstance(wamid, str) or not wamid or name not in RANK:
                continue
            row = session.exec(
                select(OutboundMessage).where(
                    OutboundMessage.channel == Channel.whatsapp.value,
                    OutboundMessage.external_id == wamid[:100],
                )
            ).first()
            if row is None:
                continue
            if RANK.get(row.delivery_status or "", 0) >= RANK[name]:
                continue  # already as far or further: a repeat, or out of order
            row.delivery_status = name
            row.delivery_status_at = _moment(status.get("timestamp"))
            if name == "failed":
                row.status = OutboxStatus.failed.value
                row.last_error = _error(status)
            elif row.status == OutboxStatus.failed.value and name in ("delivered", "read"):
                # Reported failed, then delivered after all (another device): it arrived.
                row.status = OutboxStatus.sent.value
                row.last_error = None
            session.add(row)
            changed += 1
        session.commit()
    return changed
