"""Citizens on WhatsApp: whole conversations through the real webhook and runtime, answered
through a fake Graph API over HTTP; every message delivered more than once."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.serve import serve
from core.cases.models import Attachment, Case
from core.cases.policy import CasePolicy
from core.cases.service import ComplaintDraft, file_complaint
from core.cases.sla import SlaPolicy
from core.chat.models import InboundMessage
from core.masterdata.qr import whatsapp_text
from core.people.citizens import get_or_create_citizen
from core.people.models import Channel, Intake, Role
from core.policies import build
from core.surveys.models import SurveyResponse
from tests.botkit import jpeg_with_gps
from tests.factories import PASSWORD, make_officer, make_service, make_unit, make_user
from tests.graph_api_server import (
    GENERIC,
    PAIR_RATE_LIMIT,
    PHONE_NUMBER_ID,
    RATE_LIMIT,
    VERIFY_TOKEN,
    GraphApiServer,
    WaCitizen,
    WhatsAppUnderTest,
    button_reply,
    labels,
    list_reply,
    message_text,
    notification,
    signed,
    text_message,
    whatsapp_settings,
    whatsapp_site,
)
from tests.processes import free_port, wait_http
from tests.waiting import TIMEOUT
from whatsapp.graph import GraphClient
from whatsapp.media import fetch_attachments
from whatsapp.runtime import WhatsAppRuntime, graph_client

NUMBER = "6281234567001"


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


@pytest.fixture
def units(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        dukcapil = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        ktp = make_service(s, dukcapil, "KTP-el")
        make_service(s, dukcapil, "Kartu Keluarga")
        yoh = make_officer(s, dukcapil, "Yohanes Ndun", public_code="yoh12345")
        alak = make_unit(s, "kec-alak", "Kecamatan Alak")
        s.commit()
        ids = {"dukcapil": dukcapil.id, "ktp": ktp.id, "yoh": yoh.id, "alak": alak.id}
    return {k: int(v or 0) for k, v in ids.items()}


async def onboard(c: WaCitizen, first: str = "Halo") -> None:
    await c.say(first)
    assert "Pilih bahasa" in c.screen() or "Choose your language" in c.screen()
    await c.press("Bahasa Indonesia")
    await c.press("setuju")
    if not first.startswith("START"):
        assert "Menu utama" in c.screen()


async def test_whole_survey(wa: WhatsAppUnderTest, engine: Engine, units: dict[str, int]) -> None:
    c = wa.citizen(NUMBER)
    await onboard(c)
    await c.press("Nilai layanan")
    assert "Unit layanan mana" in c.screen()
    await c.press("Kependudukan")
    await c.press("KTP-el")
    await c.press("Yohanes")
    assert "kesesuaian persyaratan pelayanan" in c.screen()
    assert c.labels()[:4] == ["Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"]
    for i in range(9):
        assert f"{i + 1} dari 9" in c.screen()
        await c.press_data(f"svy:a:{i}:3")
    assert "saran atau komentar" in c.screen()
    await c.say("Antrean panjang tapi petugas ramah.")
    await c.press("Perempuan")
    await c.press("30-39")
    await c.press("D4/S1")
    await c.press("Wirausaha")
    assert "Terima kasih" in c.screen()
    with Session(engine) as s:
        [response] = s.exec(select(SurveyResponse)).all()
    assert response.unit_id == units["dukcapil"] and response.officer_id == units["yoh"]
    assert response.channel == "whatsapp"


STORY = "Petugas loket meminta uang Rp50.000 supaya KTP-el saya cepat selesai."


async def test_whole_complaint_with_photo_and_location(
    wa: WhatsAppUnderTest, engine: Engine, units: dict[str, int], wa_settings: Any
) -> None:
    media_id = wa.graph.add_media(jpeg_with_gps())
    c = wa.citizen(NUMBER)
    await onboard(c)
    await c.press("Laporkan masalah")
    assert "Unit layanan mana yang ingin Anda laporkan" in c.screen()
    await c.press("Kependudukan")
    await c.press("Yohanes")
    assert "Masalah apa" in c.screen()
    await c.press("pungli")
    await c.say("terlalu singkat")
    assert "terlalu singkat (15 karakter)" in c.screen()
    await c.say(STORY)
    assert "foto bukti" in c.screen()
    await c.send_photo(media_id)
    assert "Foto 1 dari 3 diterima" in c.screen()
    await c.press("Lanjut (1 foto)")
    assert "lokasi kejadian" in c.screen()
    await c.send_location(-10.1772, 123.6070)
    assert "Seberapa rahasia" in c.screen()
    await c.press("Anonim")
    for part in ("Yohanes Ndun", STORY, "Foto: 1", "Lokasi: ada", "Kerahasiaan: Anonim"):
        assert part in c.screen(), part
    await c.press("Kirim laporan")
    assert "Nomor laporan: KPG-" in c.screen()
    with Session(engine) as s:
        [case] = s.exec(select(Case)).all()
        [att] = s.exec(select(Attachment)).all()
    assert (case.unit_id, case.officer_id, case.category) == (
        units["dukcapil"],
        units["yoh"],
        "pungli",
    )
    assert case.channel == "whatsapp"
    assert case.description == STORY and case.latitude == pytest.approx(-10.1772)
    assert (att.status, att.source, att.reference) == ("stored", "whatsapp", media_id)
    assert wa.graph.downloads(media_id) == 1
    stored = (Path(wa_settings.attachments_dir) / str(att.path)).read_bytes()
    assert b"SecretCameraMaker" not in stored
    assert len(Image.open(io.BytesIO(stored)).getexif()) == 0  # no EXIF, no GPS


async def test_qr_card_first_message_starts_the_survey_there(
    wa: WhatsAppUnderTest, units: dict[str, int]
) -> None:
    """A QR card's wa.me link fills the first message with "START <payload>"."""
    c = wa.citizen(NUMBER)
    first = whatsapp_text("o_yoh12345")  # the text the card's wa.me link writes
    assert first == "START o_yoh12345"
    await onboard(c, first=first)
    assert "Petugas: Yohanes Ndun" in c.screen() and "Layanan apa" in c.screen()
    other = wa.citizen("6281234567002")
    await other.say("Halo")
    await other.press("English")
    await other.press("I agree")
    await other.say("u_dukcapil")  # the payload alone, as some phones keep only that
    assert "Unit: Dinas Kependudukan" in other.screen() and "service" in other.screen()


class Stalled(WhatsAppRuntime):
    """A process that stores what arrives and dies before handling it."""

    def submit(self, messages: list[dict[str, Any]]) -> None:
        return None


async def test_crash_mid_conversation_is_replayed_in_order(
    wa_settings: Any, engine: Engine, graph: GraphApiServer, units: dict[str, int]
) -> None:
    async with whatsapp_site(wa_settings, engine, graph) as live:
        await onboard(live.citizen(NUMBER))
    mark = graph.mark()
    async with whatsapp_site(wa_settings, engine, graph, runtime_class=Stalled) as dying:
        c = dying.citizen(NUMBER)
        c.twice = False
        await c.press_data("m:rate")
        await c.press_data(f"svy:u:{units['alak']}")
        await c.press_data("svy:a:0:4")
        await dying.deliver([text_message(NUMBER, "Halo")], twice=False)
    assert graph.sent_since(mark) == []  # acknowledged, stored, not answered
    with Session(engine) as s:
        stored = s.exec(select(InboundMessage)).all()
    assert len(stored) == 4 and all("Warga" not in row.payload for row in stored)
    async with whatsapp_site(wa_settings, engine, graph) as restarted:
        await restarted.idle()  # the replay at start
        texts = graph.texts(NUMBER, mark)
        assert "Unit layanan mana" in texts[0]
        assert "1 dari 9" in "".join(texts) and "2 dari 9" in texts[-1] + texts[-2]
        c = restarted.citizen(NUMBER)
        c.last = graph.sent_since(mark, NUMBER)
        await c.press_data("svy:a:1:3")
        assert "3 dari 9" in c.screen()
    with Session(engine) as s:
        assert s.exec(select(InboundMessage)).all() == []


async def test_429_storm_while_replying(
    wa: WhatsAppUnderTest, graph: GraphApiServer, units: dict[str, int]
) -> None:
    a, b = wa.citizen(NUMBER), wa.citizen("6281234567003")
    graph.fail_next(429, RATE_LIMIT, times=5)
    graph.fail_next(429, PAIR_RATE_LIMIT, times=3, to=NUMBER, retry_after=0.02)
    graph.fail_next(500, GENERIC, times=2)
    # Both citizens write at once, several messages each, in one notification.
    messages = [
        text_message(NUMBER, "Halo"),
        text_message(b.number, "Halo"),
        button_reply(NUMBER, "lang:id"),
        button_reply(b.number, "lang:en"),
        button_reply(NUMBER, "consent:yes"),
        button_reply(b.number, "consent:yes"),
        button_reply(NUMBER, "m:rate"),
    ]
    await wa.deliver(messages)
    refused = [t for t in graph.attempts if t.wamid is None]
    assert len(refused) == 10
    # Every refused payload went out later, and each citizen's answers kept their order.
    for person, last in ((a, "Unit layanan mana"), (b, "Main menu")):
        sent = person.all()
        assert last in message_text(sent[-1]) or last in person.texts()[-2]
        attempts = [t.payload for t in graph.attempts if t.payload["to"] == person.number]
        assert _without_repeats(attempts) == sent
    assert wa.runtime.failed_sends == 0


def _without_repeats(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in payloads:
        if not out or out[-1] != p:
            out.append(p)
    return out


class HttpWaCitizen:
    """A citizen whose messages Meta posts to `serve`'s public listener over real HTTP."""

    def __init__(self, http: httpx.AsyncClient, graph: GraphApiServer, number: str) -> None:
        self.http, self.graph, self.number = http, graph, number
        self.last: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any], expect: str) -> None:
        mark = self.graph.mark()
        raw, headers = signed(notification([message]))
        r = await self.http.post("/whatsapp/webhook", content=raw, headers=headers)
        assert r.status_code == 200, r.text

        def answered() -> list[dict[str, Any]] | None:
            sent = self.graph.sent_since(mark, self.number)
            said = any(expect in message_text(p) for p in sent)
            return sent if said and labels(sent[-1]) else None  # its choices came too

        self.last = await asyncio.to_thread(
            self.graph.wait_until, answered, lambda: f"{expect!r} to {self.number}"
        )

    async def say(self, text: str, expect: str) -> None:
        await self.send(text_message(self.number, text), expect)

    async def press(self, label_part: str, expect: str) -> None:
        found = [i for p in self.last for i, label in labels(p) if label_part in label]
        assert found, f"no {label_part!r} in {[labels(p) for p in self.last]}"
        await self.send(list_reply(self.number, found[0]), expect)


async def test_serve_runs_the_channel_end_to_end(
    db_url: str, engine: Engine, graph: GraphApiServer, tmp_path: Path
) -> None:
    """`serve` with WhatsApp configured (and no Telegram): the webhook on the public
    listener, the runtime, and the outbox sending staff's notices through WhatsApp."""
    with Session(engine) as s:
        unit = make_unit(s, "kec-oebobo", "Kecamatan Oebobo")
        make_user(s, "spv", Role.supervisor, [unit])
        s.commit()
    settings = whatsapp_settings(db_url, graph, attachments_dir=str(tmp_path / "att"))
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(build(settings, engine), "127.0.0.1", port, stop=stop, outbox_idle=0.05)
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await asyncio.to_thread(wait_http, f"http://127.0.0.1:{port}/healthz")
            check = {
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "42",
            }
            assert (await http.get("/whatsapp/webhook", params=check)).text == "42"
            c = HttpWaCitizen(http, graph, NUMBER)
            await c.say("Halo", "Pilih bahasa")
            await c.press("Bahasa Indonesia", "setuju")
            await c.press("setuju", "Menu utama")
            await c.press("Laporkan masalah", "Unit layanan mana")
            await c.press("Oebobo", "Masalah apa")
            await c.press("Penundaan berlarut", "Uraian kejadian")
            await c.say(STORY, "foto bukti")
            await c.press("Lewati", "lokasi kejadian")
            await c.press("Lewati", "Seberapa rahasia")
            await c.press("Biasa", "Kerahasiaan: Biasa")
            await c.press("Kirim laporan", "Nomor laporan")
            login = await http.post(
                "/api/auth/token", data={"username": "spv", "password": PASSWORD}
            )
            h = {"Authorization": f"Bearer {login.json()['access_token']}"}
            [item] = (await http.get("/api/cases?status=received", headers=h)).json()["items"]
            verify = await http.post(f"/api/cases/{item['id']}/verify", headers=h)
            assert verify.status_code == 200, verify.text

            def notified() -> bool:
                return any("telah diverifikasi" in t for t in graph.texts(NUMBER))

            await asyncio.to_thread(graph.wait_until, notified, "the verified notice")
            assert graph.sent(NUMBER)[-1]["type"] != "template"  # inside the 24-hour window
    finally:
        stop.set()
        await asyncio.wait_for(task, TIMEOUT)


async def test_photos_too_large_or_unknown_fail_and_unreachable_ones_wait(
    engine: Engine, graph: GraphApiServer, wa_settings: Any, units: dict[str, int]
) -> None:
    """A photo larger than ATTACHMENT_MAX_BYTES or one WhatsApp does not know is marked
    failed; while WhatsApp cannot be reached it stays pending, and the sweep fetches it."""
    big = graph.add_media(b"\xff\xd8" + b"0" * (wa_settings.attachment_max_bytes + 10))
    good = graph.add_media(jpeg_with_gps())
    with Session(engine) as s:
        citizen = get_or_create_citizen(s, Channel.whatsapp, NUMBER)
        draft = ComplaintDraft(
            unit_id=units["alak"],
            category="pungli",
            description=STORY,
            photos=(big, "404040404", good),
            channel=Intake.whatsapp,
        )
        file_complaint(s, citizen, draft, CasePolicy(sla=SlaPolicy(tz=wa_settings.tz)))
        s.commit()
    policies = build(wa_settings, engine)
    root = Path(wa_settings.attachments_dir)
    async with httpx.AsyncClient() as http:
        unreachable = GraphClient("http://127.0.0.1:9/v21.0", PHONE_NUMBER_ID, "t", http)
        assert await fetch_attachments(unreachable, engine, root, 10**7) == 0
        with Session(engine) as s:
            assert {a.status for a in s.exec(select(Attachment)).all()} == {"pending"}
        client = graph_client(policies, http)
        stored_now = await fetch_attachments(client, engine, root, wa_settings.attachment_max_bytes)
    assert stored_now == 1
    with Session(engine) as s:
        got = {a.reference: a.status for a in s.exec(select(Attachment)).all()}
    assert got == {big: "failed", "404040404": "failed", good: "stored"}
    assert graph.downloads(big) == 0  # refused by its announced size, never downloaded
