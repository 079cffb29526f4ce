"""Many citizens at once: chats are handled side by side, each chat's updates in order."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from telegram import Update
from telegram.request import RequestData

import bot.runtime as runtime_module
from bot import build_application
from bot.local_transport import LocalBotApi
from bot.runtime import BotRuntime
from core.chat.models import ProcessedMessage
from core.shared.config import Settings
from core.surveys.models import SurveyResponse
from tests.bot_api_server import TOKEN, BotApiServer
from tests.botkit import start_update, survey_updates
from tests.factories import make_unit
from tests.waiting import TIMEOUT, until


class SlowTelegram(LocalBotApi):
    """Every call takes a while (as Telegram does from Kupang); counts the screens in flight
    (the answer to a button press goes at the same time as its screen, by design)."""

    def __init__(self) -> None:
        super().__init__(latency=0.02)
        self.in_flight: Counter[int] = Counter()
        self.most_at_once = 0
        self.most_per_chat = 0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *a: Any, **k: Any
    ) -> tuple[int, bytes]:
        if url.endswith("/answerCallbackQuery"):  # goes alongside its update's screen
            return await super().do_request(url, method, request_data, *a, **k)
        params = json.loads(request_data.json_payload) if request_data else {}
        chat = int(params.get("chat_id") or 0)
        self.in_flight[chat] += 1
        self.most_at_once = max(self.most_at_once, sum(self.in_flight.values()))
        self.most_per_chat = max(self.most_per_chat, self.in_flight[chat])
        try:
            return await super().do_request(url, method, request_data, *a, **k)
        finally:
            self.in_flight[chat] -= 1


async def test_citizens_are_served_side_by_side_and_each_in_order(
    settings: Settings, engine: Engine
) -> None:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan")
        s.commit()
        unit_id = int(unit.id or 0)
    citizens = 12
    per_citizen = [survey_updates(700_000 + c, unit_id, 1_000 + c * 100) for c in range(citizens)]
    # Each citizen's updates back to back (a fast tapper, or a backlog after an outage).
    arrival = [u for updates in per_citizen for u in updates]
    tg = SlowTelegram()
    app = build_application(
        settings.model_copy(update={"bot_concurrent_updates": 8}), engine, request=tg
    )
    await app.initialize()
    await app.start()
    for raw in arrival:
        app.update_queue.put_nowait(Update.de_json(raw, app.bot))
    await asyncio.wait_for(app.update_queue.join(), TIMEOUT)  # only bounds a failure
    await app.stop()
    await app.shutdown()

    # Every survey is complete: each answer arrived at its own question, so in order.
    with Session(engine) as s:
        stored = s.exec(select(func.count()).select_from(SurveyResponse)).one()
        perfect = s.exec(
            select(func.count()).where(col(SurveyResponse.q1) == 3, col(SurveyResponse.q9) == 3)
        ).one()
    assert stored == citizens
    assert perfect == citizens
    # Several citizens were answered at the same time, never two screens to one chat.
    assert tg.most_at_once > 1
    assert tg.most_per_chat == 1


async def test_a_backlog_is_taken_a_bounded_slice_at_a_time(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an outage Telegram holds thousands of updates: the poller takes more only when
    the bot has room, so memory stays flat, and every update is still handled once."""
    monkeypatch.setattr(runtime_module, "MAX_BACKLOG", 50)
    server = BotApiServer().start()
    try:
        for i in range(1200):
            server.push(start_update(5_000 + i, 600_000 + i % 300))
        cfg = settings.model_copy(
            update={"telegram_bot_token": TOKEN, "telegram_api_base_url": server.url}
        )
        runtime = BotRuntime(build_application(cfg, engine), engine, cfg)
        await runtime.start()
        most = 0

        def handled() -> int:
            nonlocal most
            most = max(most, runtime.backlog)  # looked at while the backlog drains
            with Session(engine) as s:
                return int(s.exec(select(func.count()).select_from(ProcessedMessage)).one())

        await until(lambda: handled() >= 1200, lambda: f"1200 updates handled; {handled()}")
        await runtime.stop()
    finally:
        server.stop()
    assert handled() == 1200
    assert 0 < most <= 50 + 100  # the limit plus one getUpdates batch


class HeldTelegram(LocalBotApi):
    """Holds every sendMessage until released: an update stays in hand as long as a test likes."""

    def __init__(self) -> None:
        super().__init__()
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *a: Any, **k: Any
    ) -> tuple[int, bytes]:
        if url.endswith("/sendMessage"):
            self.held.set()
            await self.release.wait()
        return await super().do_request(url, method, request_data, *a, **k)


async def test_stop_waits_for_the_update_in_hand(settings: Settings, engine: Engine) -> None:
    """A stop (a deploy, SIGTERM) while a citizen's answer is on its way to Telegram lets that
    answer go out and the update count as handled before the Application stops."""
    cfg = settings.model_copy(
        update={
            "telegram_webhook_url": "https://bot.example.go.id/telegram/webhook",
            "telegram_webhook_secret": "s" * 32,
        }
    )
    tg = HeldTelegram()
    runtime = BotRuntime(build_application(cfg, engine, request=tg), engine, cfg)
    await runtime.start()
    await runtime.enqueue([start_update(77_001, 650_001)])
    await asyncio.wait_for(tg.held.wait(), TIMEOUT)  # only bounds a failure
    assert runtime.backlog == 1  # the update is in hand: its answer is being sent

    stopping = asyncio.create_task(runtime.stop(drain_seconds=TIMEOUT))
    await until(lambda: runtime.stop_polling.is_set(), "stop() to begin")
    assert not stopping.done()
    assert runtime.app.running  # not stopped under the update in hand

    tg.release.set()
    await asyncio.wait_for(stopping, TIMEOUT)
    assert [m.chat_id for m in tg.messages.values()] == [650_001]  # the answer went out
    with Session(engine) as s:
        handled = s.exec(select(ProcessedMessage.message_id)).all()
    assert handled == ["77001"]
    assert runtime.backlog == 0


class OverlapTelegram(LocalBotApi):
    """Slow calls; notes which methods were ever in flight together."""

    def __init__(self) -> None:
        super().__init__(latency=0.02)
        self.now: Counter[str] = Counter()
        self.together: set[frozenset[str]] = set()

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *a: Any, **k: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        self.now[name] += 1
        self.together |= {frozenset((name, other)) for other in +self.now if other != name}
        try:
            return await super().do_request(url, method, request_data, *a, **k)
        finally:
            self.now[name] -= 1


async def test_a_button_press_costs_one_round_trip(settings: Settings, engine: Engine) -> None:
    """The answer that stops the button's spinner goes while the screen is edited, so the
    citizen waits for one call to Telegram, not two in a row."""
    with Session(engine) as s:
        unit_id = int(make_unit(s, "dukcapil", "Dinas Kependudukan").id or 0)
        s.commit()
    tg = OverlapTelegram()
    app = build_application(settings, engine, request=tg)
    await app.initialize()
    try:
        for raw in survey_updates(710_001, unit_id, 3_000)[:3]:  # /start, language, consent
            await app.process_update(Update.de_json(raw, app.bot))
    finally:
        await app.shutdown()
    assert frozenset(("answerCallbackQuery", "editMessageText")) in tg.together
    assert len(tg.messages) >= 1  # the screens were shown
