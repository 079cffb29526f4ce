"""WhatsApp's 24-hour customer service window, per conversation.

A business may send a citizen free-form messages only within 24 hours of the citizen's last
message; outside it, only approved message templates. The time of the last inbound message
is kept on the conversation's row (`conversation_state.last_inbound_at`), so erasing the
citizen (which deletes that row) forgets it too. `note_inbound` runs in the transaction that
handles each inbound message; the outbox's sender reads `last_inbound_at`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, text
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from core.people.models import Channel

# How long after a citizen's last message free-form messages may be sent.
SERVICE_WINDOW = timedelta(hours=24)

_AT = bindparam("at", type_=UTCDateTime())
# Never moves back: a message replayed after a crash, or delivered late, keeps the latest.
_NOTE = text(
    "INSERT INTO conversation_state (channel, address, step, data, updated_at,"
    " last_inbound_at) VALUES (:channel, :address, '', '{}', :at, :at)"
    " ON CONFLICT (channel, address) DO UPDATE SET last_inbound_at = CASE"
    " WHEN conversation_state.last_inbound_at IS NULL"
    " OR conversation_state.last_inbound_at < excluded.last_inbound_at"
    " THEN excluded.last_inbound_at ELSE conversation_state.last_inbound_at END"
).bindparams(_AT)
_READ = text(
    "SELECT last_inbound_at FROM conversation_state WHERE channel = :channel AND address = :address"
).columns(last_inbound_at=UTCDateTime())


def _utc(moment: datetime) -> datetime:
    """Aware UTC (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def note_inbound(session: Session, channel: Channel, address: str, at: datetime) -> None:
    """Record that the citizen at `address` wrote at `at` (the channel's own timestamp of
    the message, or now): the window stays open 24 hours from the latest such moment."""
    params = {"channel": channel.value, "address": address, "at": _utc(at)}
    session.connection().execute(_NOTE, params)


def last_inbound_at(session: Session, channel: Channel, address: str) -> datetime | None:
    """When the citizen last wrote (UTC), or None when they never did (or were erased)."""
    params = {"channel": channel.value, "address": address}
    value = session.connection().execute(_READ, params).scalar()
    return None if value is None else _utc(value)


def window_open(last: datetime | None, *, now: datetime) -> bool:
    """Whether free-form messages may go out at `now` after a last inbound message at `last`."""
    return last is not None and _utc(now) - _utc(last) < SERVICE_WINDOW
