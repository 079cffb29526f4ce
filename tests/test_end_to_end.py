"""The whole stack over real HTTP: `serve` runs the API and the bot, the bot polls a local
Bot API server, a scripted citizen completes a survey, and the API's scores show it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.serve import serve
from core.people.models import Role
from core.policies import build
from core.shared.config import load_settings
from tests.bot_api_server import TOKEN, BotApiServer
from tests.botkit import ChatMessage
from tests.factories import PASSWORD, make_service, make_unit, make_user
from tests.processes import free_port, wait_http
from tests.waiting import TIMEOUT

T = TypeVar("T")


class HttpCitizen:
    """A citizen whose messages reach the bot only through getUpdates. Each step waits for
    the screen it needs (the button to press, the text to read), never for the bot to go
    quiet: the bot may be slow on a busy machine, and the wait ends when the screen comes."""

    def __init__(self, server: BotApiServer, user_id: int) -> None:
        self.server = server
        self.user_id = user_id
        self.user = {"id": user_id, "is_bot": False, "first_name": "Ani"}
        self.chat = {"id": user_id, "type": "private", "first_name": "Ani"}
        self.ids = itertools.count(1)
        self.acted: int | None = None  # the bot's calls before the citizen's last message

    def _newest(self) -> ChatMessage | None:
        with self.server.cond:
            msgs = self.server.state.chats.get(self.user_id, {})
            return max(msgs.values(), key=lambda m: m.message_id, default=None)

    def screen(self) -> ChatMessage:
        """The newest message of the bot in this chat."""
        screen = self._newest()
        assert screen is not None, "the bot has said nothing yet"
        return screen

    def _seen(self) -> str:
        screen = self._newest()
        if screen is None:
            return "nothing from the bot yet"
        shown = [lbl for row in screen.buttons for lbl, _ in row]
        return f"the newest message is {screen.text!r} with buttons {shown}"

    async def _wait(self, condition: Callable[[], T | None], what: str) -> T:
        return await asyncio.to_thread(
            self.server.wait_until, condition, lambda: f"{what}; {self._seen()}"
        )

    def _answered(self) -> bool:
        """The bot has shown something since the citizen's last message or press."""
        if self.acted is None:
            return True  # the citizen has not written yet
        return bool(self.server.screens_since(self.acted, self.user_id))

    async def _send(self, payload: dict[str, Any]) -> None:
        self.acted = self.server.mark()
        self.server.push({"update_id": next(self.ids) + 10_000, **payload})

    async def answer(self, text: str) -> str:
        """The bot's answer to the last message or press that contains `text` (an answer
        may be several messages: the first edited in place, the others sent)."""

        def found() -> str | None:
            sent = self.server.screens_since(self.acted or 0, self.user_id)
            return next((str(p["text"]) for p in sent if text in p.get("text", "")), None)

        return await self._wait(found, f"an answer containing {text!r}")

    async def shows(self, text: str) -> ChatMessage:
        """The newest message, once it contains `text` (e.g. a notification from staff)."""

        def shown() -> ChatMessage | None:
            screen = self._newest()
            return screen if screen is not None and text in screen.text else None

        return await self._wait(shown, f"a message containing {text!r}")

    async def say(self, text: str) -> None:
        """Once the bot has answered the last message or press, write `text`."""
        await self._wait(self._answered, f"an answer before writing {text!r}")
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
        """Once the bot has answered the last message or press, press the button of its
        newest message whose label contains `label_part`."""

        def button() -> tuple[ChatMessage, str] | None:
            screen = self._newest()
            if screen is None or not self._answered():
                return None  # still the screen the last press was made on
            labels = [(lbl, d) for row in screen.buttons for lbl, d in row]
            data = next((d for lbl, d in labels if label_part in lbl), None)
            return None if data is None else (screen, data)

        screen, data = await self._wait(button, f"a button {label_part!r}")
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
        serve(build(settings, engine), "127.0.0.1", port, stop=stop, outbox_idle=0.05)
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as api:
            await asyncio.to_thread(wait_http, f"http://127.0.0.1:{port}/healthz")
            yield api
    finally:
        stop.set()
        await asyncio.wait_for(task, TIMEOUT)  # bounds a shutdown that hangs


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
        sent = await c.answer("Nomor laporan")
        ref = sent.split("Nomor laporan: ")[1].split()[0]

        login = await api.post("/api/auth/token", data={"username": "spv", "password": PASSWORD})
        h = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listing = (await api.get("/api/cases?status=received", headers=h)).json()
        [item] = listing["items"]
        assert item["reference"] == ref
        case_url = f"/api/cases/{item['id']}"
        assert (await api.post(f"{case_url}/verify", headers=h)).status_code == 200
        assign = await api.post(f"{case_url}/assign", headers=h, json={"assignee_id": spv_id})
        assert assign.status_code == 200, assign.text
        resolved = await api.post(
            f"{case_url}/resolve",
            headers=h,
            json={
                "outcome": "substantiated",
                "resolution": "Surat sudah selesai dan dapat diambil.",
            },
        )
        assert resolved.status_code == 200
        resolution = await c.shows("Apakah Anda puas")
        assert "Surat sudah selesai" in resolution.text
        await c.press("Tidak puas")
        await c.say("Petugas bilang suratnya belum ada.")
        await c.answer(f"Laporan {ref} dibuka kembali")
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
        await c.answer("Menu utama")
        assert "Menu utama" in c.screen().text

        token = (
            await api.post("/api/auth/token", data={"username": "spv", "password": PASSWORD})
        ).json()
        scores = await api.get(
            "/api/scores/units/dukcapil",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        body = scores.json()
        # Answers 4,3,3,4,3,4,3,4,3 = 31 -> IKM 25 x 31 / 9 = 86.11 (B)
        assert body["unit"]["n"] == 1
        assert body["unit"]["ikm"] == 86.11 and body["unit"]["grade"] == "B"
        assert body["services"][0]["service_name"] == "KTP-el"
    methods = {m for m, _ in bot_api.state.calls}
    assert {"getMe", "setMyCommands", "sendMessage", "editMessageText"} <= methods
