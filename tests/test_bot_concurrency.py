"""Many citizens at once: chats are handled side by side, each chat's updates in order."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from telegram import Update
from telegram.request import RequestData

from bot import build_application
from bot.local_transport import LocalBotApi
from core.config import Settings
from core.models import SurveyResponse
from tests.botkit import survey_updates
from tests.factories import make_unit


class SlowTelegram(LocalBotApi):
    """Every call takes a while (as Telegram does from Kupang); counts calls in flight."""

    def __init__(self) -> None:
        super().__init__(latency=0.02)
        self.in_flight: Counter[int] = Counter()
        self.most_at_once = 0
        self.most_per_chat = 0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *a: Any, **k: Any
    ) -> tuple[int, bytes]:
        params = json.loads(request_data.json_payload) if request_data else {}
        chat = int(params.get("chat_id") or params.get("callback_query_id", "0-").split("-")[0])
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
    await asyncio.wait_for(app.update_queue.join(), 60)
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
    # Several citizens were answered at the same time, never two answers to one chat.
    assert tg.most_at_once > 1
    assert tg.most_per_chat == 1
