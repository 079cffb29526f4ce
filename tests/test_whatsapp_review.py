"""What the security review of the WhatsApp channel proved, now refused: a signed but
hostile body, a media URL off Meta's hosts, the number in logs or in kept message ids after
erasure, a second process answering twice, a long id blocking a notification, a status
failure stranding messages, a notice retried for ever."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text as sql
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.chat.inbox import unprocessed
from core.chat.models import InboundMessage, ProcessedMessage
from core.outbox.dispatch import GIVE_UP_ATTEMPTS
from core.people.citizens import erase_citizen, get_citizen
from core.people.models import Channel
from tests.graph_api_server import (
    GraphApiServer,
    WhatsAppUnderTest,
    notification,
    text_message,
    whatsapp_settings,
    whatsapp_site,
)
from tests.test_whatsapp_sender import Office, office, wa_settings  # noqa: F401
from whatsapp.graph import GraphClient, GraphError

NUMBER = "6281234567099"


@pytest.fixture
def graph() -> Iterator[GraphApiServer]:
    with GraphApiServer() as server:
        yield server


@pytest.fixture
async def wa(
    db_url: str, engine: Engine, graph: GraphApiServer, tmp_path: Path
) -> AsyncIterator[WhatsAppUnderTest]:
    s = whatsapp_settings(db_url, graph, attachments_dir=str(tmp_path / "att"))
    async with whatsapp_site(s, engine, graph) as kit:
        yield kit


def realistic_wamid(number: str) -> str:
    """A wamid as Meta makes them: base64 of a blob that starts with the citizen's number."""
    blob = b"\x1c\x18\x0d" + number.encode() + b"\x15\x02\x00\x12\x18\x143EB0C767F2A1B2C3D4E5\x00"
    return "wamid." + base64.b64encode(blob).decode()


async def test_a_deeply_nested_signed_body_is_refused_plainly(wa: WhatsAppUnderTest) -> None:
    r = await wa.post(b"[" * 200_000 + b"]" * 200_000)
    assert r.status_code == 400


async def test_a_media_url_off_metas_hosts_is_not_fetched_with_the_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "graph.example":
            return httpx.Response(200, json={"url": "http://169.254.169.254/x", "file_size": "3"})
        return httpx.Response(200, content=b"abc")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = GraphClient("https://graph.example/v21.0", "123", "SECRET-TOKEN", http)
        with pytest.raises(GraphError):
            await client.media("4490709327384033", 10_000)
    assert [r.url.host for r in seen] == ["graph.example"]


async def test_a_refused_answer_logs_no_number(
    wa: WhatsAppUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    wa.graph.fail_next(400, 100, times=5)
    caplog.set_level(logging.INFO)
    assert (await wa.post(notification([text_message(NUMBER, "Halo")]))).status_code == 200
    await wa.idle()
    assert NUMBER not in caplog.text


@pytest.mark.db
async def test_erasure_leaves_no_id_that_holds_the_number(
    wa: WhatsAppUnderTest, engine: Engine
) -> None:
    wamid = realistic_wamid(NUMBER)
    r = await wa.post(notification([text_message(NUMBER, "Halo", wamid=wamid)]))
    assert r.status_code == 200
    await wa.idle()
    assert wa.graph.sent(NUMBER)  # answered
    with Session(engine) as s:
        citizen = get_citizen(s, Channel.whatsapp, NUMBER)
        assert citizen is not None
        erase_citizen(s, citizen)
        s.commit()
    with Session(engine) as s:
        kept = s.exec(select(ProcessedMessage.message_id)).all()
    assert kept and wamid not in kept
    assert all(i.startswith("h:") for i in kept)  # keyed hashes: nothing to decode


async def test_a_store_failure_logs_neither_the_number_nor_the_text(
    wa: WhatsAppUnderTest, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with engine.begin() as c:
        c.execute(sql("ALTER TABLE inbound_message RENAME TO inbound_message_x"))
    try:
        caplog.set_level(logging.INFO)
        r = await wa.post(notification([text_message(NUMBER, "rahasia saya: NIK 3201")]))
        assert r.status_code == 503  # Meta redelivers
    finally:
        with engine.begin() as c:
            c.execute(sql("ALTER TABLE inbound_message_x RENAME TO inbound_message"))
    assert NUMBER not in caplog.text and "NIK 3201" not in caplog.text


async def test_a_second_process_replaying_a_handled_message_does_not_answer_again(
    wa: WhatsAppUnderTest,
) -> None:
    from whatsapp.webhook import clean_message, message_key

    msg = text_message(NUMBER, "Halo")
    await wa.post(notification([msg]))
    await wa.idle()
    first = len(wa.graph.sent(NUMBER))
    assert first > 0
    # Another process read the stored copy before this one's commit.
    stored = clean_message(msg)
    assert stored is not None
    secret = wa.runtime.policies.settings.pseudonym_key
    await wa.runtime._one({**stored, "id": message_key(secret, str(stored["id"]))})
    assert len(wa.graph.sent(NUMBER)) == first


async def test_a_long_message_id_does_not_block_the_others(
    wa: WhatsAppUnderTest, engine: Engine
) -> None:
    other = text_message("6281234567098", "Halo")
    long_one = text_message(NUMBER, "Halo", wamid="wamid." + "A" * 150)
    assert (await wa.post(notification([other, long_one]))).status_code == 200
    await wa.idle()
    assert wa.graph.sent("6281234567098") and wa.graph.sent(NUMBER)
    with Session(engine) as s:
        assert s.exec(select(InboundMessage)).all() == []  # both handled


async def test_a_status_failure_strands_no_message(
    wa: WhatsAppUnderTest, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import whatsapp.webhook as wh

    def broken(engine: Any, statuses: Any) -> int:
        raise RuntimeError("database busy")

    monkeypatch.setattr(wh, "record_statuses", broken)
    body = notification([text_message(NUMBER, "Halo")])
    body["entry"][0]["changes"][0]["value"]["statuses"] = [
        {"id": "wamid.OUTX", "status": "sent", "timestamp": "1"}
    ]
    assert (await wa.post(body)).status_code == 200
    await wa.idle()
    assert wa.graph.sent(NUMBER) and unprocessed(engine, Channel.whatsapp) == []


async def test_a_notice_whatsapp_keeps_refusing_fails_and_frees_the_next(
    office: Office,  # noqa: F811
) -> None:
    number = "6281234500077"
    citizen = office.citizen(number)
    office.writes(number)
    case = office.file(citizen)
    office.graph.fail_next(500, 131000, times=100_000, to=number)
    office.act(case, "verify")
    office.act(case, "assign")
    d = office.dispatcher()
    for _ in range(GIVE_UP_ATTEMPTS + 5):
        await d.run_once()
        office.clock.advance(3600)
    first, *later = sorted(office.rows(number), key=lambda r: r.id)
    assert first.status == "failed" and (first.last_error or "").startswith("gave up")
    assert later and all(r.attempts > 0 for r in later)  # no longer held back behind it
