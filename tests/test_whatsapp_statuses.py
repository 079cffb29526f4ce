"""Delivery statuses from WhatsApp's webhook on the outbox rows of messages the real
dispatcher sent through the fake Graph API: sent, delivered, read; a failure marks the row
failed with WhatsApp's reason, which staff see on the case; repeats and any order give the
same result; statuses of unknown messages and malformed ones are ignored."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.cases.reading import DeliveryState
from core.outbox.models import OutboundMessage
from tests.graph_api_server import status_update
from tests.test_whatsapp_sender import Office, drain, graph, office, wa_settings
from whatsapp.statuses import record_statuses

__all__ = ["graph", "office", "wa_settings"]  # fixtures shared with the sender's tests

NUMBER = "6281234509999"
TS = 1764490000


async def sent_notice(office: Office) -> tuple[int, OutboundMessage]:
    """A case verified for a WhatsApp citizen in the window; its event and its sent row."""
    office.writes(NUMBER)
    event = office.act(office.file(office.citizen(NUMBER)), "verify")
    await drain(office.dispatcher(), office.clock)
    [row] = office.rows(NUMBER)
    assert row.status == "sent" and row.external_id
    return event, row


def row_of(engine: Engine, row_id: int | None) -> OutboundMessage:
    with Session(engine) as s:
        row = s.get(OutboundMessage, row_id)
        assert row is not None
        return row


async def test_sent_delivered_read_are_recorded_with_their_time(office: Office) -> None:
    event, row = await sent_notice(office)
    wamid = row.external_id or ""
    assert record_statuses(office.engine, [status_update(wamid, "sent", NUMBER, ts=TS)]) == 1
    assert row_of(office.engine, row.id).delivery_status == "sent"
    assert record_statuses(office.engine, [status_update(wamid, "delivered", NUMBER, ts=TS + 5)])
    got = row_of(office.engine, row.id)
    assert (got.delivery_status, got.delivery_status_at) == (
        "delivered", datetime(2025, 11, 30, 8, 6, 45, tzinfo=UTC),
    )  # fmt: skip
    assert record_statuses(office.engine, [status_update(wamid, "read", NUMBER, ts=TS + 60)])
    got = row_of(office.engine, row.id)
    assert got.delivery_status == "read" and got.status == "sent"
    [delivery] = office.deliveries(event)
    assert delivery.state == DeliveryState.sent


async def test_repeats_and_any_order_end_the_same(office: Office) -> None:
    _, row = await sent_notice(office)
    wamid = row.external_id or ""
    updates = [
        status_update(wamid, "sent", NUMBER, ts=TS),
        status_update(wamid, "delivered", NUMBER, ts=TS + 5),
        status_update(wamid, "read", NUMBER, ts=TS + 60),
    ]
    results = set()
    for order in itertools.permutations(updates):
        with Session(office.engine) as s:
            stored = s.get(OutboundMessage, row.id)
            assert stored is not None
            stored.delivery_status = stored.delivery_status_at = None
            s.add(stored)
            s.commit()
        record_statuses(office.engine, list(order))
        record_statuses(office.engine, list(order))  # WhatsApp delivers webhooks again
        got = row_of(office.engine, row.id)
        results.add((got.delivery_status, got.delivery_status_at, got.status))
    assert results == {("read", datetime(2025, 11, 30, 8, 7, 40, tzinfo=UTC), "sent")}
    # Read never goes back to delivered, and a repeat changes nothing.
    assert record_statuses(office.engine, [status_update(wamid, "delivered", NUMBER)]) == 0
    assert record_statuses(office.engine, [status_update(wamid, "read", NUMBER)]) == 0


async def test_a_failure_marks_the_row_failed_and_staff_see_why(office: Office) -> None:
    event, row = await sent_notice(office)
    wamid = row.external_id or ""
    errors = [{
        "code": 131026, "title": "Message undeliverable",
        "message": "Message undeliverable",
        "error_data": {"details": "Message Undeliverable."},
    }]  # fmt: skip
    record_statuses(office.engine, [status_update(wamid, "sent", NUMBER)])
    assert record_statuses(office.engine, [status_update(wamid, "failed", NUMBER, errors)]) == 1
    got = row_of(office.engine, row.id)
    assert got.status == "failed" and got.delivery_status == "failed"
    assert got.last_error == "WhatsApp 131026: Message undeliverable"
    [delivery] = office.deliveries(event)
    assert delivery.state == DeliveryState.failed
    assert delivery.reason == "WhatsApp 131026: Message undeliverable"
    # The same failure again changes nothing; a late "delivered" (another of the citizen's
    # phones got it) says it arrived after all.
    assert record_statuses(office.engine, [status_update(wamid, "failed", NUMBER, errors)]) == 0
    assert record_statuses(office.engine, [status_update(wamid, "delivered", NUMBER)]) == 1
    got = row_of(office.engine, row.id)
    assert (got.status, got.delivery_status, got.last_error) == ("sent", "delivered", None)
    assert office.deliveries(event)[0].state == DeliveryState.sent


async def test_unknown_and_malformed_statuses_are_ignored(office: Office) -> None:
    _, row = await sent_notice(office)
    wamid = row.external_id or ""
    junk: list[Any] = [
        status_update("wamid.SOMEONE-ELSE", "read", NUMBER),
        {"id": wamid, "status": "deleted", "timestamp": str(TS)},
        {"id": wamid},
        {"status": "read"},
        {"id": 42, "status": "read"},
        "read",
        None,
        {"id": "x" * 5000, "status": "read"},
        {"id": wamid, "status": "failed", "timestamp": "soon", "errors": "not a list"},
    ]
    assert record_statuses(office.engine, junk) == 1  # only the last one is about our row
    got = row_of(office.engine, row.id)
    assert got.status == "failed" and got.last_error == "WhatsApp: failed"
    assert got.delivery_status_at is not None  # an unreadable time: when it was recorded
    assert record_statuses(office.engine, []) == 0


async def test_a_status_for_a_telegram_message_with_the_same_id_is_not_ours(
    office: Office,
) -> None:
    with Session(office.engine) as s:
        s.add(OutboundMessage(
            channel="telegram", address="5001", template="plain", params='{"text": "x"}',
            status="sent", external_id="wamid.OUT00000001",
        ))  # fmt: skip
        s.commit()
    assert record_statuses(office.engine, [status_update("wamid.OUT00000001", "read", "1")]) == 0
    with Session(office.engine) as s:
        [row] = s.exec(select(OutboundMessage)).all()
        assert row.delivery_status is None
