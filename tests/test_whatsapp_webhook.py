"""The WhatsApp webhook on the real site: Meta's handshake, signatures, and hostile input.
Nothing unsigned is stored; nothing is ever a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.chat.models import InboundMessage
from core.outbox.models import OutboundMessage
from tests.graph_api_server import (
    APP_SECRET,
    VERIFY_TOKEN,
    GraphApiServer,
    WhatsAppUnderTest,
    image_message,
    message_text,
    notification,
    status_update,
    text_message,
    whatsapp_settings,
    whatsapp_site,
)

NUMBER = "6281234567010"


@pytest.fixture
def graph() -> Iterator[GraphApiServer]:
    with GraphApiServer() as server:
        yield server


@pytest.fixture
def wa_settings(db_url: str, graph: GraphApiServer, tmp_path: Path) -> Any:
    return whatsapp_settings(db_url, graph, attachments_dir=str(tmp_path / "att"))


@pytest.fixture
async def wa(
    wa_settings: Any, engine: Engine, graph: GraphApiServer
) -> AsyncIterator[WhatsAppUnderTest]:
    async with whatsapp_site(wa_settings, engine, graph) as kit:
        yield kit


def stored(engine: Engine) -> list[InboundMessage]:
    with Session(engine) as s:
        return list(s.exec(select(InboundMessage)).all())


async def test_verification_handshake(wa: WhatsAppUnderTest) -> None:
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    r = await wa.http.get(wa.path, params=good)
    assert r.status_code == 200 and r.text == "1158201444"
    assert r.headers["content-type"].startswith("text/plain")
    for wrong in (
        {**good, "hub.verify_token": "not-the-token"},
        {**good, "hub.mode": "unsubscribe"},
        {"hub.challenge": "1158201444"},
        {**good, "hub.challenge": "<script>alert(1)</script>"},
        {},
    ):
        r = await wa.http.get(wa.path, params=wrong)
        assert r.status_code == 403, wrong


async def test_forged_or_missing_signatures_store_nothing(
    wa: WhatsAppUnderTest, engine: Engine
) -> None:
    body = notification([text_message(NUMBER, "Halo")])
    raw = json.dumps(body).encode()
    for secret, headers in (
        (None, {}),  # unsigned
        ("another-app-secret-0123456789", {}),  # signed by someone else
        (None, {"X-Hub-Signature-256": "sha256="}),
        (None, {"X-Hub-Signature-256": "sha1=" + "0" * 40}),
        (None, {"X-Hub-Signature-256": "sha256=ÿ".encode("latin-1")}),
    ):
        r = await wa.post(raw, secret=secret, headers=headers)
        assert r.status_code == 403, headers
    # A signature of another body does not cover this one.
    other = json.dumps(notification([text_message(NUMBER, "Lain")])).encode()
    from tests.graph_api_server import signature

    r = await wa.post(raw, secret=None, headers={"X-Hub-Signature-256": signature(other)})
    assert r.status_code == 403
    assert stored(engine) == [] and wa.graph.attempts == []
    r = await wa.post(raw, secret=APP_SECRET)
    assert r.status_code == 200
    await wa.idle()
    assert "Pilih bahasa" in "\n".join(wa.graph.texts(NUMBER))


async def test_hostile_bodies_never_500(wa: WhatsAppUnderTest, engine: Engine) -> None:
    assert (await wa.post(b"{not json")).status_code == 400
    assert (await wa.post(b"\xff\xfe\x00garbage")).status_code in (400,)
    assert (await wa.post(b"[1, 2, 3]")).status_code == 400
    assert (await wa.post(b"")).status_code == 400
    huge = b'{"object": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert (await wa.post(huge)).status_code == 413
    # Shapes Meta never sends: acknowledged (Meta would redeliver forever), nothing stored.
    odds: list[dict[str, Any]] = [
        {},
        {"entry": "x"},
        {"entry": [1, None, {"changes": "x"}, {"changes": [{"value": []}]}]},
        {
            "entry": [
                {"changes": [{"value": {"messages": [1, {"id": 5}, {"from": "x", "id": "w"}]}}]}
            ]
        },
        notification([{**text_message(NUMBER, "Halo"), "from": "+62 812"}]),
        notification([{**text_message(NUMBER, "Halo"), "id": "w" * 300}]),
        notification([text_message(NUMBER, "Halo")], phone_number_id="999999"),
    ]
    for odd in odds:
        r = await wa.post(odd)
        assert r.status_code == 200, odd
    await wa.idle()
    assert stored(engine) == [] and wa.graph.attempts == []


async def test_unknown_types_and_long_texts_are_answered(wa: WhatsAppUnderTest) -> None:
    sticker = {
        **text_message(NUMBER, ""),
        "type": "sticker",
        "sticker": {"id": "1", "animated": False},
    }
    del sticker["text"]
    contact_card = {
        **text_message(NUMBER, ""),
        "type": "contacts",
        "contacts": [{"name": {"formatted_name": "Budi"}, "phones": [{"phone": "+62811"}]}],
    }
    del contact_card["text"]
    unsupported = {**text_message(NUMBER, ""), "type": "unsupported", "errors": [{"code": 131051}]}
    broken_location = {
        **text_message(NUMBER, ""),
        "type": "location",
        "location": {"latitude": "x"},
    }
    long_text = text_message(NUMBER, "panjang " * 3000)
    for message in (sticker, contact_card, unsupported, broken_location, long_text):
        mark = wa.graph.mark()
        await wa.deliver([message])
        answer = wa.graph.sent_since(mark, NUMBER)
        assert answer and "Pilih bahasa" in "\n".join(message_text(p) for p in answer)
    assert all(len(message_text(p)) <= 4096 for p in wa.graph.sent(NUMBER))


async def test_names_and_captions_are_not_stored(
    wa_settings: Any, engine: Engine, graph: GraphApiServer
) -> None:
    from tests.test_whatsapp_citizen import Stalled

    async with whatsapp_site(wa_settings, engine, graph, runtime_class=Stalled) as dying:
        photo = image_message(NUMBER, "12345", caption="Rumah Budi Santoso")
        body = notification([text_message(NUMBER, "Halo"), photo], names={NUMBER: "Budi Santoso"})
        assert (await dying.post(body)).status_code == 200
    rows = stored(engine)
    assert len(rows) == 2
    assert all("Budi" not in row.payload and row.address == NUMBER for row in rows)


async def test_a_failure_to_store_is_503(
    wa: WhatsAppUnderTest, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import whatsapp.webhook

    def broken(*_: object) -> list[dict[str, Any]]:
        raise OSError("disk full")

    monkeypatch.setattr(whatsapp.webhook, "store_messages", broken)
    r = await wa.post(notification([text_message(NUMBER, "Halo")]))
    assert r.status_code == 503
    monkeypatch.undo()
    r = await wa.post(notification([text_message(NUMBER, "Halo")]))  # Meta redelivers
    assert r.status_code == 200
    await wa.idle()
    assert "Pilih bahasa" in "\n".join(wa.graph.texts(NUMBER))


async def test_delivery_statuses_reach_the_outbox(wa: WhatsAppUnderTest, engine: Engine) -> None:
    with Session(engine) as s:
        row = OutboundMessage(
            channel="whatsapp",
            address=NUMBER,
            template="case_resolved",
            status="sent",
            external_id="wamid.OUT1",
        )
        s.add(row)
        s.commit()
        row_id = row.id
    statuses = [
        status_update("wamid.OUT1", "read", NUMBER),
        status_update("wamid.OUT1", "delivered", NUMBER),  # out of order
        status_update("wamid.UNKNOWN", "delivered", NUMBER),
        {"id": 5, "status": []},
    ]
    # Statuses and a message in one notification: both are taken.
    body = notification([text_message(NUMBER, "Halo")], statuses=statuses)
    assert (await wa.post(body)).status_code == 200
    await wa.idle()
    with Session(engine) as s:
        got = s.get(OutboundMessage, row_id)
        assert got is not None and got.delivery_status == "read"
    assert "Pilih bahasa" in "\n".join(wa.graph.texts(NUMBER))


async def test_a_handling_error_is_told_and_kept_for_replay(
    wa: WhatsAppUnderTest, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import whatsapp.runtime

    def broken(*_: object) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(whatsapp.runtime, "handle", broken)
    await wa.deliver([text_message(NUMBER, "Halo")], twice=False)
    assert "Maaf" in wa.graph.texts(NUMBER)[-1] or "Sorry" in wa.graph.texts(NUMBER)[-1]
    assert len(stored(engine)) == 1  # not handled: replayed at the next start


async def test_a_refused_answer_does_not_stop_the_next(wa: WhatsAppUnderTest) -> None:
    wa.graph.fail_next(400, 100)  # WhatsApp refuses the first payload for good
    await wa.deliver([text_message(NUMBER, "Halo"), text_message(NUMBER, "Halo lagi")])
    assert wa.runtime.failed_sends == 1
    assert "Pilih bahasa" in wa.graph.texts(NUMBER)[-1]
