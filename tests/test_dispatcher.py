"""The outbox dispatcher against a fake Bot API: pacing, 429, 403, network errors, restarts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import Bot

from bot.dispatcher import TelegramSender, telegram_dispatcher
from core.outbox.dispatch import ChannelLimits, Dispatcher, SlowDown
from core.outbox.models import OutboundMessage
from core.people.models import Channel
from tests.botkit import FakeTelegram


class FakeTime:
    def __init__(self) -> None:
        self.wall = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
        self.t = 1000.0

    def now(self) -> datetime:
        return self.wall

    def mono(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.wall += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def tg(clock: FakeTime) -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    fake = FakeTelegram()
    fake.timer = clock.mono
    bot = Bot("123456:TEST-TOKEN", request=fake, get_updates_request=fake)
    await bot.initialize()
    yield fake, bot
    await bot.shutdown()


def queue(
    engine: Engine,
    clock: FakeTime,
    chats: list[int],
    template: str = "case_verified",
    lang: str = "id",
) -> list[int]:
    with Session(engine) as s:
        rows = [
            OutboundMessage(
                channel="telegram",
                address=str(chat),
                language=lang,
                template=template,
                params=json.dumps(
                    {"ref": f"KPG-2611-{i:04d}", "body": "Selesai.", "outcome": "partly"}
                ),
                next_attempt_at=clock.now(),
                created_at=clock.now(),
            )
            for i, chat in enumerate(chats)
        ]
        s.add_all(rows)
        s.commit()
        return [r.id or 0 for r in rows]


def statuses(engine: Engine) -> dict[int, str]:
    with Session(engine) as s:
        return {m.id or 0: m.status for m in s.exec(select(OutboundMessage)).all()}


def texts_to(fake: FakeTelegram, chat: int) -> list[str]:
    return [p["text"] for p in fake.sent_to(chat, "sendMessage")]


async def drain(d: Dispatcher, clock: FakeTime, rounds: int = 500, step: float = 1.0) -> None:
    for _ in range(rounds):
        if not await d.run_once():
            clock.advance(step)


async def test_renders_in_the_recipients_language_with_buttons(
    engine: Engine, clock: FakeTime, tg: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = tg
    queue(engine, clock, [11], "case_resolved", "en")
    queue(engine, clock, [12], "case_verified", "id")
    d = telegram_dispatcher(engine, bot, clock=clock.now, monotonic=clock.mono, sleep=clock.sleep)
    assert await d.run_once() == 2
    [resolved] = fake.sent_to(11, "sendMessage")
    assert "Report KPG-2611-0000 has been resolved" in resolved["text"]
    assert "Finding: Partly substantiated" in resolved["text"]
    buttons = [b["callback_data"] for b in resolved["reply_markup"]["inline_keyboard"][0]]
    assert buttons == ["case:rate:KPG-2611-0000:y", "case:rate:KPG-2611-0000:n"]
    assert "telah diverifikasi" in texts_to(fake, 12)[0]
    with Session(engine) as s:
        msgs = s.exec(select(OutboundMessage)).all()
        assert all(m.status == "sent" and m.external_id for m in msgs)
    assert await d.run_once() == 0  # nothing is sent twice


async def test_pacing_under_thirty_per_second(
    engine: Engine, clock: FakeTime, tg: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = tg
    queue(engine, clock, list(range(100, 190)))  # 90 messages to 90 chats
    d = telegram_dispatcher(engine, bot, clock=clock.now, monotonic=clock.mono, sleep=clock.sleep)
    await drain(d, clock)
    times = fake.send_times
    assert len(times) == 90
    for i in range(len(times) - 30):
        assert times[i + 30] - times[i] >= 1.0 - 1e-9  # never 31 sends within one second
    assert times[-1] - times[0] >= 89 / 30 - 1e-9


async def test_at_most_twenty_a_minute_to_one_chat_in_order(
    engine: Engine, clock: FakeTime, tg: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = tg
    queue(engine, clock, [42] * 25)
    d = telegram_dispatcher(engine, bot, clock=clock.now, monotonic=clock.mono, sleep=clock.sleep)
    await drain(d, clock, rounds=40, step=1.0)
    assert len(texts_to(fake, 42)) == 20  # the first minute is full
    await drain(d, clock, rounds=80, step=1.0)
    sent = texts_to(fake, 42)
    assert len(sent) == 25
    refs = [t.split()[2] for t in sent]
    assert refs == sorted(refs)  # in the order they were written
    times = fake.send_times
    assert times[20] - times[0] >= 60.0


async def test_429_waits_retry_after_then_delivers(
    engine: Engine, clock: FakeTime, tg: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = tg
    ids = queue(engine, clock, [1, 2, 3])
    fake.failures = [("429", 7)]
    d = telegram_dispatcher(engine, bot, clock=clock.now, monotonic=clock.mono, sleep=clock.sleep)
    assert await d.run_once() == 0
    assert statuses(engine)[ids[0]] == "pending"
    start = clock.mono()
    await drain(d, clock)
    assert statuses(engine) == dict.fromkeys(ids, "sent")
    assert fake.errors_returned == [429]
    assert fake.send_times[0] - start >= 7.0 - 1e-9  # nothing was sent during the pause


async def test_blocked_user_fails_for_good_and_others_go_on(
    engine: Engine, clock: FakeTime, tg: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = tg
    ids = queue(engine, clock, [5, 6])
    fake.failures = [("403", "")]
    d = telegram_dispatcher(engine, bot, clock=clock.now, monotonic=clock.mono, sleep=clock.sleep)
    await drain(d, clock, rounds=5)
    assert statuses(engine) == {ids[0]: "failed", ids[1]: "sent"}
    with Session(engine) as s:
        failed = s.get(OutboundMessage, ids[0])
        assert failed is not None and "blocked" in (failed.last_error or "")


async def test_network_errors_back_off_and_keep_order_per_chat(
    engine: Engine, clock: FakeTime, tg: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = tg
    ids = queue(engine, clock, [9, 9, 9])
    fake.failures = [("net", ""), ("net", ""), ("net", "")]
    d = telegram_dispatcher(engine, bot, clock=clock.now, monotonic=clock.mono, sleep=clock.sleep)
    await drain(d, clock, rounds=60)
    assert statuses(engine) == dict.fromkeys(ids, "sent")
    refs = [t.split()[2] for t in texts_to(fake, 9)]
    assert refs == ["KPG-2611-0000", "KPG-2611-0001", "KPG-2611-0002"]
    with Session(engine) as s:
        first = s.get(OutboundMessage, ids[0])
        assert first is not None and first.attempts == 4


async def test_nothing_is_lost_when_a_dispatcher_dies_after_claiming(
    engine: Engine, clock: FakeTime, tg: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = tg
    ids = queue(engine, clock, [21, 22, 23])
    dead = telegram_dispatcher(
        engine, bot, clock=clock.now, monotonic=clock.mono, sleep=clock.sleep
    )
    claimed = dead._claim_batch()  # claimed, then the process is killed before sending
    assert len(claimed) == 3
    fresh = telegram_dispatcher(
        engine, bot, clock=clock.now, monotonic=clock.mono, sleep=clock.sleep
    )
    assert await fresh.run_once() == 0  # leased to the dead one for now
    clock.advance(61)
    assert await fresh.run_once() == 3
    assert statuses(engine) == dict.fromkeys(ids, "sent")
    assert sorted(
        int(p["chat_id"]) for p in fake.sent_to(21) + fake.sent_to(22) + fake.sent_to(23)
    ) == [
        21,
        22,
        23,
    ]


async def test_a_ten_minute_outage_loses_nothing_and_keeps_order(
    engine: Engine, clock: FakeTime, tg: tuple[FakeTelegram, Bot]
) -> None:
    """502s and timeouts for ten minutes, then Telegram is back: every message arrives, in
    order per chat, with no 429."""
    fake, bot = tg
    chats = [70, 71, 72] * 10
    ids = queue(engine, clock, chats)
    d = telegram_dispatcher(engine, bot, clock=clock.now, monotonic=clock.mono, sleep=clock.sleep)
    outage_ends = clock.mono() + 600
    while clock.mono() < outage_ends:
        fake.failures = [("502", "") if int(clock.mono()) % 2 else ("net", "")]
        await d.run_once()
        clock.advance(5)
    assert fake.sent_to(70, "sendMessage") == []  # nothing got through during the outage
    fake.failures = []
    await drain(d, clock, rounds=2000, step=5.0)
    assert statuses(engine) == dict.fromkeys(ids, "sent")
    assert 429 not in fake.errors_returned
    for chat in (70, 71, 72):
        refs = [t.split()[2] for t in texts_to(fake, chat)]
        assert refs == sorted(refs) and len(refs) == 10


class RecordingSender:
    """A second channel: records what it is given, or asks to slow down while `busy`."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []
        self.busy = False

    @property
    def limits(self) -> ChannelLimits:
        return ChannelLimits(per_second=10, per_address_per_minute=5)

    async def send(self, message: OutboundMessage) -> str | None:
        if self.busy:
            raise SlowDown(30)
        self.got.append((message.address, message.template))
        return f"wamid.{len(self.got)}"


def queue_to(engine: Engine, clock: FakeTime, channel: str, address: str) -> int:
    with Session(engine) as s:
        row = OutboundMessage(
            channel=channel,
            address=address,
            template="plain",
            params=json.dumps({"text": f"untuk {address}"}),
            next_attempt_at=clock.now(),
            created_at=clock.now(),
        )
        s.add(row)
        s.commit()
        return row.id or 0


async def test_each_message_goes_through_its_own_channel_and_waits_for_a_missing_one(
    engine: Engine, clock: FakeTime, tg: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = tg
    to_chat = queue_to(engine, clock, "telegram", "11")
    to_phone = queue_to(engine, clock, "whatsapp", "+6281234567890")
    to_mail = queue_to(engine, clock, "email", "warga@example.id")  # no e-mail sender yet
    timing = {"clock": clock.now, "monotonic": clock.mono, "sleep": clock.sleep}
    assert await Dispatcher(engine, {}, **timing).run_once() == 0  # runs with no channel at all
    whatsapp = RecordingSender()
    senders = {Channel.telegram: TelegramSender(bot), Channel.whatsapp: whatsapp}
    d = Dispatcher(engine, senders, **timing)
    assert await d.run_once() == 2
    assert texts_to(fake, 11) == ["untuk 11"]
    assert whatsapp.got == [("+6281234567890", "plain")]
    assert statuses(engine) == {to_chat: "sent", to_phone: "sent", to_mail: "pending"}
    with Session(engine) as s:
        sent = s.get(OutboundMessage, to_phone)
        assert sent is not None and sent.external_id == "wamid.1"


async def test_a_channel_that_asks_to_slow_down_does_not_hold_up_the_others(
    engine: Engine, clock: FakeTime, tg: tuple[FakeTelegram, Bot]
) -> None:
    fake, bot = tg
    whatsapp = RecordingSender()
    whatsapp.busy = True
    first = queue_to(engine, clock, "whatsapp", "+6281111111111")
    later = [queue_to(engine, clock, "telegram", str(chat)) for chat in (21, 22)]
    senders = {Channel.telegram: TelegramSender(bot), Channel.whatsapp: whatsapp}
    d = Dispatcher(engine, senders, clock=clock.now, monotonic=clock.mono, sleep=clock.sleep)
    assert await d.run_once() == 2  # Telegram's two go out behind WhatsApp's pause
    assert statuses(engine) == {first: "pending", later[0]: "sent", later[1]: "sent"}
    assert texts_to(fake, 21) == ["untuk 21"] and texts_to(fake, 22) == ["untuk 22"]
    whatsapp.busy = False
    clock.advance(31)
    assert await d.run_once() == 1
    assert whatsapp.got == [("+6281111111111", "plain")]
