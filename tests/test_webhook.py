"""Webhook mode: the secret is checked, updates are stored before the 200, a burst of 500
is handled once each, and a redelivery changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from starlette.applications import Starlette

from bot import build_application
from bot.runtime import SECRET_HEADER, BotRuntime, webhook_route
from core.chat.models import ConversationState, InboundMessage, ProcessedMessage
from core.shared.config import Settings, load_settings
from tests.botkit import FakeTelegram, start_update
from tests.waiting import until

SECRET = "s3cret-token-for-tests_0123456789"


@pytest.fixture
async def hook(
    settings: Settings, engine: Engine
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeTelegram]]:
    cfg = load_settings(
        database_url=settings.database_url,
        environment="test",
        telegram_bot_token="123456:TEST-TOKEN",
        telegram_webhook_url="https://bot.kupangkota.example/telegram/webhook",
        telegram_webhook_secret=SECRET,
        _env_file=None,
    )
    tg = FakeTelegram()
    runtime = BotRuntime(build_application(cfg, engine, request=tg), engine, cfg)
    await runtime.start()
    web = Starlette(routes=[webhook_route(runtime)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://bot"
    ) as client:
        yield client, tg
    await runtime.stop()


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


async def _wait(engine: Engine, model: Any, n: int) -> None:
    await until(
        lambda: _count(engine, model) >= n,
        lambda: f"{n} {model.__name__} rows; there are {_count(engine, model)}",
    )


def _sent(tg: FakeTelegram) -> int:
    return len([m for m, _ in tg.calls if m == "sendMessage"])


async def test_set_webhook_with_secret_and_allowed_updates(
    hook: tuple[httpx.AsyncClient, FakeTelegram],
) -> None:
    _, tg = hook
    [params] = [p for m, p in tg.calls if m == "setWebhook"]
    assert params["url"] == "https://bot.kupangkota.example/telegram/webhook"
    assert params["secret_token"] == SECRET
    assert params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert int(params["max_connections"]) == 40  # bounds the backlog: 500 + 40 at most


async def test_wrong_or_missing_secret_is_403_and_nothing_is_stored(
    hook: tuple[httpx.AsyncClient, FakeTelegram], engine: Engine
) -> None:
    client, tg = hook
    path = "/telegram/webhook"
    assert (await client.post(path, json=start_update(1, 11))).status_code == 403
    wrong = {SECRET_HEADER: SECRET[:-1] + "x"}
    assert (await client.post(path, json=start_update(1, 11), headers=wrong)).status_code == 403
    assert _count(engine, InboundMessage) == 0 and _count(engine, ProcessedMessage) == 0
    ok = await client.post(path, json=start_update(2, 12), headers={SECRET_HEADER: SECRET})
    assert ok.status_code == 200
    await _wait(engine, ConversationState, 1)
    # The answer goes out just after the commit that saves the state.
    [answer] = await until(lambda: tg.sent_to(12, "sendMessage"), "the answer to chat 12")
    assert "Pilih bahasa" in answer["text"]
    # Handled after the refused update, the accepted one is the only one the bot knows.
    assert _count(engine, InboundMessage) == 0
    with Session(engine) as s:
        assert s.exec(select(ProcessedMessage.message_id)).all() == ["2"]
    assert tg.sent_to(11) == []
    bad = await client.post(path, content=b"{not json", headers={SECRET_HEADER: SECRET})
    assert bad.status_code == 400


async def test_a_burst_of_500_is_handled_once_each(
    hook: tuple[httpx.AsyncClient, FakeTelegram], engine: Engine
) -> None:
    client, tg = hook
    headers = {SECRET_HEADER: SECRET}
    updates = [start_update(1000 + i, 20_000 + i) for i in range(500)]
    answers = await asyncio.gather(
        *(client.post("/telegram/webhook", json=u, headers=headers) for u in updates)
    )
    assert {r.status_code for r in answers} == {200}
    await _wait(engine, ProcessedMessage, 500)
    await _wait(engine, ConversationState, 500)
    # The answer goes out just after the commit that marks it handled.
    await until(lambda: _sent(tg) >= 500, lambda: f"500 answers; {_sent(tg)} sent")
    assert _sent(tg) == 500
    again = await asyncio.gather(
        *(client.post("/telegram/webhook", json=u, headers=headers) for u in updates[:100])
    )
    assert {r.status_code for r in again} == {200}
    # Each stored copy was deleted with its handling; a redelivery of a handled update is
    # not stored again, so nothing is queued for it.
    assert _count(engine, InboundMessage) == 0
    # A new update sent after the redeliveries is answered: had they been queued, the bot
    # would have taken them first.
    later = await client.post("/telegram/webhook", json=start_update(1500, 29_999), headers=headers)
    assert later.status_code == 200
    await until(lambda: tg.sent_to(29_999, "sendMessage"), "the answer to the new update")
    assert _sent(tg) == 501
    assert all(len(tg.sent_to(20_000 + i, "sendMessage")) == 1 for i in range(100))
    assert _count(engine, ProcessedMessage) == 501 and _count(engine, InboundMessage) == 0


def test_old_update_ids_are_pruned(engine: Engine) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.inbox import store_updates
    from core.chat.inbox import prune

    store_updates(engine, [start_update(1, 1), start_update(2, 2)])
    with Session(engine) as s:
        s.add(
            ProcessedMessage(
                channel="telegram",
                message_id="1",
                processed_at=datetime.now(UTC) - timedelta(days=8),
            )
        )
        s.commit()
    assert prune(engine, now=datetime.now(UTC) + timedelta(days=8)) == 3
    assert _count(engine, InboundMessage) == 0 and _count(engine, ProcessedMessage) == 0
