"""Benchmark: the bot's survey path, against python-telegram-bot's own floor, and memory.

1. With 1,000,000 survey responses in the database, 300 citizens each run the whole survey
   (16 updates: /start, language, consent, menu, unit, nine answers, comment, profile)
   through the real Application with an in-process Bot API: updates per second and the p99
   time per update. In the same run, the same number of updates goes through an Application
   whose only handler echoes (the floor: PTB plus the transport, no database).
2. `asn-feedback serve` as a process polling a local Bot API server: resident memory after
   start-up and after 10,000 updates.

    python bench/bot_bench.py [--engine sqlite|postgres|both] [--citizens N] [--rows N]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import postgres_database
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot import build_application
from bot.local_transport import LocalBotApi
from bot.ordering import ChatOrderedProcessor
from core.chat.state import claim_update
from core.masterdata.models import Unit
from core.shared.config import load_settings
from core.shared.db import make_engine, session_scope
from core.shared.migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.bot_api_server import BotApiServer
from tests.botkit import survey_updates
from tests.processes import free_port, process_env

CONCURRENCY = 16


def load_rows(engine: Engine, rows: int) -> int:
    rng = random.Random(2)
    with Session(engine) as s:
        unit = Unit(code="aaa-bench", name="AAA Bench Unit")
        s.add(unit)
        s.commit()
        unit_id = unit.id or 0
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sqlite = engine.dialect.name == "sqlite"
    data = []
    for _ in range(rows):
        m = start + timedelta(seconds=rng.randrange(300 * 86400))
        stamp: object = m.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else m
        day: object = m.date().isoformat() if sqlite else m.date()
        data.append((unit_id, *[rng.randint(1, 4) for _ in range(9)], "bench", day, stamp))
    cols = "unit_id, q1, q2, q3, q4, q5, q6, q7, q8, q9, channel, local_date, created_at"
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if sqlite:
            cur.executemany(
                f"INSERT INTO survey_response ({cols}) VALUES ({', '.join('?' * 13)})", data
            )
        else:
            with cur.copy(f"COPY survey_response ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in data:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    return unit_id


async def run_updates(
    app: Application[Any, Any, Any, Any, Any, Any], updates: list[dict[str, Any]]
) -> tuple[float, list[float]]:
    """One update at a time through `process_update`: the time each one takes."""
    times = []
    t0 = time.perf_counter()
    for raw in updates:
        u = Update.de_json(raw, app.bot)
        s = time.perf_counter()
        await app.process_update(u)
        times.append(time.perf_counter() - s)
    return time.perf_counter() - t0, times


async def run_queued(
    app: Application[Any, Any, Any, Any, Any, Any], updates: list[dict[str, Any]]
) -> float:
    """All updates on the Application's queue, as the runtime feeds it: seconds until done."""
    await app.start()
    t0 = time.perf_counter()
    for raw in updates:
        app.update_queue.put_nowait(Update.de_json(raw, app.bot))
    await app.update_queue.join()
    elapsed = time.perf_counter() - t0
    await app.stop()
    return elapsed


def interleaved(citizens: range, unit_id: int) -> list[dict[str, Any]]:
    """Each citizen's 16 updates in order, citizens taking turns (as real traffic arrives)."""
    per_citizen = [survey_updates(800_000 + c, unit_id, 10_000_000 + c * 100) for c in citizens]
    return [u for step in zip(*per_citizen, strict=True) for u in step]


def echo_app(
    latency: float = 0.0, engine: Engine | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Echo every update; with `engine`, first claim its id in one committed transaction
    (the least a bot that survives being killed must do: the durable floor)."""
    app = (
        ApplicationBuilder()
        .token("1:echo")
        .request(LocalBotApi(latency=latency))
        .concurrent_updates(ChatOrderedProcessor(CONCURRENCY))
        .build()
    )

    async def echo(update: Update, _: Any) -> None:
        if engine is not None:
            await asyncio.to_thread(claim_in_db, engine)
        if update.callback_query is not None:
            await update.callback_query.answer()
            await update.callback_query.edit_message_text("echo")
        elif update.effective_chat is not None:
            await update.effective_chat.send_message("echo")

    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(echo))
    return app


_CLAIMS = itertools.count(2_000_000_000)


def claim_in_db(engine: Engine) -> None:
    """One committed row, a new one every time (the same updates go through several runs)."""
    with session_scope(engine) as session:
        assert claim_update(session, next(_CLAIMS))


async def echo_floor(
    updates: list[dict[str, Any]], latency: float = 0.0, engine: Engine | None = None
) -> tuple[float, float]:
    """The echo bot's updates/s, one at a time (not with latency: too slow) and queued."""
    app = echo_app(latency, engine)
    await app.initialize()
    one_by_one = 0.0 if latency else (await run_updates(app, updates))[0]
    queued = await run_queued(app, updates)
    await app.shutdown()
    return (len(updates) / one_by_one if one_by_one else 0.0), len(updates) / queued


def stored_surveys(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM survey_response WHERE channel = 'telegram'")
            ).scalar_one()
        )


async def survey_path(url: str, citizens: int, rows: int, latency_ms: float) -> None:
    upgrade(url)
    engine = make_engine(url)
    unit_id = load_rows(engine, rows)
    settings = load_settings(
        database_url=url,
        environment="test",
        telegram_bot_token="1:bench",  # noqa: S106
        bot_concurrent_updates=CONCURRENCY,
        _env_file=None,
    )

    def bot(latency: float = 0.0) -> Application[Any, Any, Any, Any, Any, Any]:
        return build_application(settings, engine, request=LocalBotApi(latency=latency))

    # 1. One update at a time: the time each takes.
    first = interleaved(range(citizens), unit_id)
    app = bot()
    await app.initialize()
    elapsed, times = await run_updates(app, first)
    # 2. The same traffic through the queue, chats handled concurrently.
    second = interleaved(range(citizens, 2 * citizens), unit_id)
    queued = await run_queued(app, second)
    await app.shutdown()
    floor_seq, floor_queued = await echo_floor(first)
    durable_seq, durable_queued = await echo_floor(second, engine=engine)
    stored = stored_surveys(engine)
    assert stored == 2 * citizens, f"{stored} surveys stored, expected {2 * citizens}"
    times.sort()
    p99 = times[int(0.99 * (len(times) - 1))] * 1000
    p50 = statistics.median(times) * 1000
    n = len(first)
    print(
        f"  survey path, {n:,d} updates ({citizens} surveys, all stored) over {rows:,d} rows:\n"
        f"    one at a time: {n / elapsed:.0f} updates/s (echo floor {floor_seq:.0f}/s, "
        f"{n / elapsed / floor_seq:.0%}); p50 {p50:.1f} ms, p99 {p99:.1f} ms per update\n"
        f"    queued, {CONCURRENCY} chats at once: {n / queued:.0f} updates/s "
        f"(echo floor {floor_queued:.0f}/s, {n / queued / floor_queued:.0%})\n"
        f"    durable floor (echo + one committed claim of the update id): "
        f"{durable_seq:.0f}/s one at a time ({n / elapsed / durable_seq:.0%} of it), "
        f"{durable_queued:.0f}/s queued ({n / queued / durable_queued:.0%})"
    )
    if latency_ms > 0:
        await with_latency(bot, engine, citizens, unit_id, latency_ms / 1000)
    engine.dispose()


async def with_latency(
    bot: Any, engine: Engine, citizens: int, unit_id: int, latency: float
) -> None:
    """Every Bot API call takes `latency` seconds, as a call to Telegram from Kupang does."""
    before = stored_surveys(engine)
    updates = interleaved(range(2 * citizens, 3 * citizens), unit_id)
    app = bot(latency)
    await app.initialize()
    queued = await run_queued(app, updates)
    await app.shutdown()
    _, floor = await echo_floor(updates, latency)
    assert stored_surveys(engine) == before + citizens
    one_at_a_time = 1 / (2 * latency)  # an answer and an edit per button press, at best
    print(
        f"    with {latency * 1000:.0f} ms per Bot API call: {len(updates) / queued:.0f} "
        f"updates/s queued (echo floor {floor:.0f}/s, {len(updates) / queued / floor:.0%}); "
        f"one at a time could not exceed {one_at_a_time:.0f}/s"
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def push_messages(server: BotApiServer, first: int, count: int) -> None:
    for i in range(first, first + count):
        uid = 900_000 + i % 2000
        server.push(
            {
                "update_id": 50_000_000 + i,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "text": "halo",
                    "from": {"id": uid, "is_bot": False, "first_name": "M"},
                    "chat": {"id": uid, "type": "private"},
                },
            }
        )


def wait_handled(engine: Engine, count: int) -> int:
    deadline = time.monotonic() + 600
    done = 0
    while time.monotonic() < deadline and done < count:
        time.sleep(0.5)
        with engine.connect() as conn:
            done = conn.execute(
                text(
                    "SELECT count(*) FROM processed_update"
                    " WHERE update_id BETWEEN 50000000 AND 99999999"
                )
            ).scalar_one()
    return int(done)


def serve_memory(url: str, updates: int, rounds: int = 2) -> None:
    """RSS after start-up and after each round of `updates` (a leak grows every round)."""
    server = BotApiServer().start()
    env = process_env(url, server, API_PORT=str(free_port()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = make_engine(url)
    try:
        time.sleep(6)
        figures = [f"{rss_mb(proc.pid):.0f} MB after start-up"]
        for r in range(rounds):
            push_messages(server, r * updates, updates)
            done = wait_handled(engine, (r + 1) * updates)
            figures.append(f"{rss_mb(proc.pid):.0f} MB after {done:,d} updates")
        print(f"  asn-feedback serve resident memory: {', '.join(figures)}")
    finally:
        engine.dispose()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-updates", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    print(
        f"Bot benchmark: {args.citizens} full surveys, {args.rows:,d} survey rows in the database"
    )
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            print("sqlite:")
            asyncio.run(survey_path(url, args.citizens, args.rows, args.latency_ms))
            serve_memory(url, args.memory_updates)
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            print("postgresql:")
            asyncio.run(survey_path(url, args.citizens, args.rows, args.latency_ms))


if __name__ == "__main__":
    main()
