"""The whole stack over real HTTP: `serve` runs the API and the bot, the bot polls a local
Bot API server, a scripted citizen completes a survey, and the API's scores show it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.serve import serve
from core.people.models import Role
from core.shared.config import load_settings
from tests.bot_api_server import TOKEN, BotApiServer
from tests.factories import PASSWORD, make_service, make_unit, make_user
from tests.processes import free_port


class HttpCitizen:
    """A citizen whose messages reach the bot only through getUpdates."""

    def __init__(self, server: BotApiServer, user_id: int) -> None:
        self.server = server
        self.user_id = user_id
        self.user = {"id": user_id, "is_bot": False, "first_name": "Ani"}
        self.chat = {"id": user_id, "type": "private", "first_name": "Ani"}
        self.ids = itertools.count(1)

    def screen(self) -> Any:
        msgs = self.server.state.chats.get(self.user_id, {})
        return max(msgs.values(), key=lambda m: m.message_id)

    async def _send(self, payload: dict[str, Any]) -> None:
        since = self.server.version
        self.server.push({"update_id": next(self.ids) + 10_000, **payload})
        await asyncio.to_thread(self.server.wait_until_quiet, since)

    async def say(self, text: str) -> None:
        message: dict[str, Any] = {
            "message_id": next(self.ids),
            "date": 1_800_000_000,
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        await self._send({"message": message})

    async def welcome(self) -> None:
        """/start, Indonesian, and consent to the privacy notice: the main menu."""
        await self.say("/start")
        await self.press("Bahasa Indonesia")
        await self.press("setuju")

    async def press(self, label_part: str) -> None:
        screen = self.screen()
        labels = [(lbl, d) for row in screen.buttons for lbl, d in row]
        data = next((d for lbl, d in labels if label_part in lbl), None)
        if data is None:
            shown = [lbl for lbl, _ in labels]
            raise AssertionError(f"no button {label_part!r} on {screen.text!r}: {shown}")
        query = {
            "id": str(next(self.ids)),
            "from": self.user,
            "chat_instance": "c",
            "data": data,
            "message": {
                "message_id": screen.message_id,
                "date": 1_800_000_000,
                "chat": self.chat,
                "text": screen.text,
            },
        }
        await self._send({"callback_query": query})


@contextlib.asynccontextmanager
async def running(
    engine: Engine, db_url: str, bot_api: BotApiServer
) -> AsyncIterator[httpx.AsyncClient]:
    """`serve` (API, polling bot, outbox dispatcher) in this event loop, and an API client."""
    settings = load_settings(
        database_url=db_url,
        environment="test",
        telegram_bot_token=TOKEN,
        telegram_api_base_url=bot_api.url,
        _env_file=None,
    )
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(settings, engine, "127.0.0.1", port, stop=stop, outbox_idle=0.05)
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as api:
            for _ in range(200):
                try:
                    if (await api.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            yield api
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting")


async def test_complaint_resolved_through_api_reaches_citizen_who_reopens_it(
    engine: Engine, db_url: str, bot_api: BotApiServer
) -> None:
    with Session(engine) as s:
        unit = make_unit(s, "kec-oebobo", "Kecamatan Oebobo")
        spv = make_user(s, "spv", Role.supervisor, [unit])
        s.commit()
        spv_id = spv.id
    async with running(engine, db_url, bot_api) as api:
        c = HttpCitizen(bot_api, 7002)
        await c.welcome()
        await c.press("Laporkan masalah")
        await c.press("Oebobo")
        await c.press("Penundaan berlarut")
        await c.say("Surat keterangan domisili saya belum selesai setelah dua minggu menunggu.")
        await c.press("Lewati")
        await c.press("Lewati")
        await c.press("Biasa")
        await c.press("Kirim laporan")
        sent = [m.text for m in bot_api.state.chats[7002].values() if "Nomor laporan" in m.text]
        ref = sent[0].split("Nomor laporan: ")[1].split()[0]

        login = await api.post("/auth/token", data={"username": "spv", "password": PASSWORD})
        h = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listing = (await api.get("/cases?status=received", headers=h)).json()
        [item] = listing["items"]
        assert item["reference"] == ref
        case_url = f"/cases/{item['id']}"
        assert (await api.post(f"{case_url}/verify", headers=h)).status_code == 200
        assign = await api.post(f"{case_url}/assign", headers=h, json={"assignee_id": spv_id})
        assert assign.status_code == 200
        resolved = await api.post(
            f"{case_url}/resolve",
            headers=h,
            json={
                "outcome": "substantiated",
                "resolution": "Surat sudah selesai dan dapat diambil.",
            },
        )
        assert resolved.status_code == 200

        def resolution_arrived() -> bool:
            return "Apakah Anda puas" in c.screen().text

        await wait_for(resolution_arrived)
        assert "Surat sudah selesai" in c.screen().text
        await c.press("Tidak puas")
        await c.say("Petugas bilang suratnya belum ada.")
        detail = (await api.get(case_url, headers=h)).json()
        assert detail["case"]["status"] == "in_progress"
        assert detail["case"]["reopened_count"] == 1
        kinds = [e["kind"] for e in detail["events"]]
        assert kinds == ["created", "verified", "assigned", "resolved", "reopened_by_citizen"]
    texts = [m.text for m in bot_api.state.chats[7002].values()]
    assert any("telah diverifikasi" in t for t in texts)
    assert any("sedang ditangani" in t for t in texts)


async def test_survey_through_polling_shows_in_api_scores(
    engine: Engine, db_url: str, bot_api: BotApiServer
) -> None:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        make_service(s, unit, "KTP-el")
        make_user(s, "spv", Role.supervisor, [unit])
        s.commit()
    async with running(engine, db_url, bot_api) as api:
        c = HttpCitizen(bot_api, 7001)
        await c.welcome()
        await c.press("Nilai layanan")
        await c.press("Kependudukan")
        await c.press("KTP-el")
        for answer in (
            "Sangat sesuai",
            "Mudah",
            "Cepat",
            "Gratis",
            "Sesuai",
            "Sangat kompeten",
            "Sopan dan ramah",
            "Dikelola",
            "Baik",
        ):
            await c.press(answer)
        await c.press("Lewati")
        await c.press("Lewati semua")
        assert "Menu utama" in c.screen().text

        token = (
            await api.post("/auth/token", data={"username": "spv", "password": PASSWORD})
        ).json()
        scores = await api.get(
            "/scores/units/dukcapil",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        body = scores.json()
        # Answers 4,3,3,4,3,4,3,4,3 = 31 -> IKM 25 x 31 / 9 = 86.11 (B)
        assert body["unit"]["n"] == 1
        assert body["unit"]["ikm"] == 86.11 and body["unit"]["grade"] == "B"
        assert body["services"][0]["service_name"] == "KTP-el"
    methods = {m for m, _ in bot_api.state.calls}
    assert {"getMe", "setMyCommands", "sendMessage", "editMessageText"} <= methods
