"""/readyz answers 503 when the outbox backs up (too many messages wait, or one waits too
long), names the check that failed, and answers 200 again once the bot has sent them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import Bot

from app.site import create_site
from bot.dispatcher import TelegramSender
from core.outbox.dispatch import Dispatcher
from core.outbox.models import OutboundMessage, OutboxStatus
from core.people.models import Channel
from core.policies import build
from core.shared.clock import utcnow
from core.shared.config import ConfigError, load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from tests.botkit import FakeTelegram

MAX_PENDING = 5
MAX_AGE = 600
TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
def migrated(fresh_db_url: str) -> Iterator[tuple[str, Engine]]:
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    yield fresh_db_url, engine
    engine.dispose()


@pytest.fixture
def site(migrated: tuple[str, Engine]) -> Iterator[TestClient]:
    url, engine = migrated
    settings = load_settings(
        database_url=url,
        environment="test",
        outbox_ready_max_pending=MAX_PENDING,
        outbox_ready_max_age_seconds=MAX_AGE,
        telegram_bot_token=TOKEN,  # a channel that can send: the outbox is judged
        _env_file=None,
    )
    with TestClient(create_site(build(settings, engine))) as client:
        yield client


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    """The bot's Telegram, back after an outage."""
    fake = FakeTelegram()
    bot = Bot("123456:TEST-TOKEN", request=fake, get_updates_request=fake)
    await bot.initialize()
    yield fake, bot
    await bot.shutdown()


def _queue(engine: Engine, count: int, age: timedelta = timedelta(0)) -> None:
    """Messages to staff that wait to be sent (the bot is down), queued `age` ago."""
    queued = utcnow() - age
    with Session(engine) as s:
        s.add_all(
            OutboundMessage(
                channel=Channel.telegram.value,
                address=str(7000 + i),
                template="plain",
                params=json.dumps({"text": f"Laporan baru {i}"}),
                created_at=queued,
                next_attempt_at=queued,
            )
            for i in range(count)
        )
        s.commit()


async def _bot_sends_them(engine: Engine, telegram: tuple[FakeTelegram, Bot]) -> None:
    fake, bot = telegram
    dispatcher = Dispatcher(engine, {Channel.telegram: TelegramSender(bot)})
    while await dispatcher.run_once():
        pass
    with Session(engine) as s:
        statuses = set(s.exec(select(OutboundMessage.status)).all())
    assert statuses == {OutboxStatus.sent.value}
    assert fake.calls, "Telegram was asked to send them"


async def test_too_many_waiting_messages_make_it_unready_until_sent(
    migrated: tuple[str, Engine], site: TestClient, telegram: tuple[FakeTelegram, Bot]
) -> None:
    _, engine = migrated
    _queue(engine, MAX_PENDING)
    at_limit = site.get("/readyz")
    assert at_limit.status_code == 200, at_limit.json()
    assert at_limit.json()["failed"] == {} and at_limit.json()["outbox_pending"] == MAX_PENDING

    _queue(engine, 1)
    backed_up = site.get("/readyz")
    assert backed_up.status_code == 503
    body = backed_up.json()
    assert body["ready"] is False and body["database"] is True
    assert body["migrations_at_head"] is True
    assert body["outbox_pending"] == MAX_PENDING + 1
    assert body["outbox_max_pending"] == MAX_PENDING
    assert list(body["failed"]) == ["outbox_pending"]
    assert "OUTBOX_READY_MAX_PENDING" in body["failed"]["outbox_pending"]

    await _bot_sends_them(engine, telegram)
    ready = site.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["outbox_pending"] == 0 and ready.json()["failed"] == {}


async def test_a_message_waiting_too_long_makes_it_unready_until_sent(
    migrated: tuple[str, Engine], site: TestClient, telegram: tuple[FakeTelegram, Bot]
) -> None:
    _, engine = migrated
    _queue(engine, 1, age=timedelta(seconds=MAX_AGE - 60))
    assert site.get("/readyz").status_code == 200

    _queue(engine, 1, age=timedelta(seconds=MAX_AGE + 60))
    late = site.get("/readyz")
    assert late.status_code == 503
    body = late.json()
    assert list(body["failed"]) == ["outbox_age"]
    assert "OUTBOX_READY_MAX_AGE_SECONDS" in body["failed"]["outbox_age"]
    assert body["outbox_pending"] == 2 and body["outbox_max_age_seconds"] == MAX_AGE
    assert MAX_AGE + 60 <= body["outbox_oldest_pending_seconds"] < MAX_AGE + 600

    await _bot_sends_them(engine, telegram)
    assert site.get("/readyz").status_code == 200


def test_zero_turns_the_outbox_checks_off(migrated: tuple[str, Engine]) -> None:
    url, engine = migrated
    _queue(engine, 20, age=timedelta(days=1))
    settings = load_settings(
        database_url=url,
        environment="test",
        outbox_ready_max_pending=0,
        outbox_ready_max_age_seconds=0,
        _env_file=None,
    )
    with TestClient(create_site(build(settings, engine))) as client:
        r = client.get("/readyz")
        assert r.status_code == 200 and r.json()["outbox_pending"] == 20


def test_the_default_thresholds_come_from_the_settings(migrated: tuple[str, Engine]) -> None:
    url, engine = migrated
    settings = load_settings(
        database_url=url, environment="test", telegram_bot_token=TOKEN, _env_file=None
    )
    with TestClient(create_site(build(settings, engine))) as client:
        body = client.get("/readyz").json()
        assert body["outbox_max_pending"] == 1000 and body["outbox_max_age_seconds"] == 900


def test_without_a_bot_waiting_messages_do_not_make_it_unready(
    migrated: tuple[str, Engine],
) -> None:
    """The demo and a console-only install: nothing can send, so nothing is judged."""
    url, engine = migrated
    settings = load_settings(database_url=url, environment="test", _env_file=None)
    _queue(engine, MAX_PENDING + 5, timedelta(hours=1))
    with TestClient(create_site(build(settings, engine))) as client:
        body = client.get("/readyz").json()
        assert body["ready"] is True and body["outbox_pending"] == MAX_PENDING + 5


@pytest.mark.parametrize(
    ("key", "value"),
    [("outbox_ready_max_pending", -1), ("outbox_ready_max_age_seconds", -5)],
)
def test_a_bad_threshold_is_refused_naming_the_key(key: str, value: int) -> None:
    with pytest.raises(ConfigError, match=key.upper()):
        load_settings(environment="test", _env_file=None, **{key: value})
