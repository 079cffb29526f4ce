"""The one way into the outbox; how long messages are kept, and forgetting a citizen's.

`enqueue` writes a message in the caller's transaction. Staff texts are rendered by core and
queued as `MessageTemplate.plain`; a case notice to a citizen is queued as its template with
parameters and the case event that caused it, and rendered by the channel.

A message that went out (or failed for good) is kept `OUTBOX_RETENTION_DAYS` for
diagnosis, then deleted: its address and text are personal data. A citizen who erases
their data takes their case notifications with them, sent or not: an unsent one must not
reach them any more, and a sent one would still tie their address to their reports.

A message's secret parameters (a web report's follow-up code, `SECRET_PARAMS`) leave its row
when it is sent or fails for good (core.outbox.dispatch); one still unsent after
`SECRET_MAX_AGE` (no e-mail configured, a server refusing for a week) fails then, without them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.outbox.models import (
    SECRET_PARAMS,
    MessageTemplate,
    OutboundMessage,
    OutboxStatus,
    without_secrets,
)
from core.people.models import Address, Contact
from core.shared.clock import utcnow
from core.shared.db import writer

TAG_KEY = "tag"  # a plain message's tag in its params (see `enqueue`)
SECRET_MAX_AGE = timedelta(days=7)
UNSENT_CODE_DROPPED = "not sent within 7 days: its secret (a follow-up code) is no longer kept"


def enqueue(
    session: Session,
    *,
    to: Address,
    language: str,
    template: MessageTemplate,
    params: Mapping[str, str],
    photo: bytes | None = None,
    case_event_id: int | None = None,
    tag: str | None = None,
    now: datetime,
) -> OutboundMessage:
    """Queue a message, due at `now`, in the caller's transaction.

    A `plain` message carries a text rendered by core (`params == {"text": ...}`) and no
    case event; a case notice carries the case event that caused it (erasure forgets a
    citizen's messages by that link). Anything else is a programming error.

    A plain message may carry a `tag` (kept in its params beside the text, never shown):
    what it was about, by which core later knows what it already told someone (the new-case
    alerts of core.cases.alerts)."""
    if template.is_case_notice:
        if case_event_id is None:
            raise ValueError(f"a {template.value} notice needs the case event that caused it")
    else:
        if set(params) != {"text"}:
            raise ValueError("a plain message carries exactly one rendered text")
        if case_event_id is not None:
            raise ValueError("a plain message is a text for staff, not a case notice")
    stored = dict(params)
    if tag is not None:
        if template.is_case_notice:
            raise ValueError("a tag belongs to a plain message")
        stored[TAG_KEY] = tag
    message = OutboundMessage(
        channel=to.channel.value,
        address=to.address,
        language=language,
        template=template.value,
        params=json.dumps(stored, ensure_ascii=False),
        photo=photo,
        case_event_id=case_event_id,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    return message


def forget_messages_to(session: Session, to: Address) -> int:
    """Delete the messages to a citizen's address, whatever their status; returns how many.

    An address that is also a staff account's contact keeps that account's digests and
    reminders (messages not caused by a case event)."""
    to_address = and_(
        col(OutboundMessage.channel) == to.channel.value, col(OutboundMessage.address) == to.address
    )
    staff = session.exec(
        select(Contact.id).where(
            Contact.channel == to.channel.value,
            Contact.address == to.address,
            col(Contact.user_id).is_not(None),
        )
    ).first()
    if staff is not None:
        to_address = and_(to_address, col(OutboundMessage.case_event_id).is_not(None))
    result = session.execute(delete(OutboundMessage).where(to_address))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune_outbox(engine: Engine, retention_days: int, *, now: datetime | None = None) -> int:
    """Delete messages sent (or failed for good) more than `retention_days` ago; pending ones
    stay until they are delivered. Returns how many were deleted."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    finished_long_ago = or_(
        and_(
            col(OutboundMessage.status) == OutboxStatus.sent.value,
            col(OutboundMessage.sent_at) < cutoff,
        ),
        and_(
            col(OutboundMessage.status) == OutboxStatus.failed.value,
            col(OutboundMessage.created_at) < cutoff,
        ),
    )
    with Session(writer(engine)) as session:
        expire_secrets(session, now=now or utcnow())
        result = session.execute(delete(OutboundMessage).where(finished_long_ago))
        session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def expire_secrets(session: Session, *, now: datetime) -> int:
    """Fail the messages that carry a secret and are still unsent `SECRET_MAX_AGE` after they
    were written, without the secret (the reporter was shown the code when they filed);
    returns how many. A message being sent right now (leased) is left to its dispatcher."""
    rows = session.exec(
        select(OutboundMessage).where(
            col(OutboundMessage.status) == OutboxStatus.pending.value,
            col(OutboundMessage.template).in_([t.value for t in SECRET_PARAMS]),
            col(OutboundMessage.created_at) < now - SECRET_MAX_AGE,
            or_(
                col(OutboundMessage.locked_until).is_(None),
                col(OutboundMessage.locked_until) < now,
            ),
        )
    ).all()
    for row in rows:
        row.params = without_secrets(row.template, row.params) or "{}"
        row.status = OutboxStatus.failed.value
        row.last_error = UNSENT_CODE_DROPPED
        session.add(row)
    session.flush()
    return len(rows)
