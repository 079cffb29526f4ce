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
import os
import random
import signal
import socket
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
from core.config import load_settings
from core.db import make_engine
from core.migrate import upgrade
from core.models import Unit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.bot_api_server import TOKEN, BotApiServer
from tests.botkit import survey_updates


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
    times = []
    t0 = time.perf_counter()
    for raw in updates:
        u = Update.de_json(raw, app.bot)
        s = time.perf_counter()
        await app.process_update(u)
        times.append(time.perf_counter() - s)
    return time.perf_counter() - t0, times


async def echo_floor(updates: list[dict[str, Any]]) -> float:
    app = ApplicationBuilder().token("1:echo").request(LocalBotApi()).build()

    async def echo(update: Update, _: Any) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()
            await update.callback_query.edit_message_text("echo")
        elif update.effective_chat is not None:
            await update.effective_chat.send_message("echo")

    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(echo))
    await app.initialize()
    elapsed, _ = await run_updates(app, updates)
    await app.shutdown()
    return len(updates) / elapsed


async def survey_path(url: str, citizens: int, rows: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    unit_id = load_rows(engine, rows)
    settings = load_settings(
        database_url=url,
        environment="test",
        telegram_bot_token="1:bench",  # noqa: S106
        _env_file=None,
    )
    app = build_application(settings, engine, request=LocalBotApi())
    await app.initialize()
    updates = [
        u for c in range(citizens) for u in survey_updates(800_000 + c, unit_id, 10_000 + c * 100)
    ]
    elapsed, times = await run_updates(app, updates)
    await app.shutdown()
    floor = await echo_floor(updates)
    rate = len(updates) / elapsed
    times.sort()
    p99 = times[int(0.99 * (len(times) - 1))] * 1000
    p50 = statistics.median(times) * 1000
    print(
        f"  survey path: {len(updates):,d} updates ({citizens} surveys) over {rows:,d} rows: "
        f"{rate:.0f} updates/s; echo floor {floor:.0f} updates/s; {rate / floor:.0%} of floor; "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    engine.dispose()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve_memory(url: str, updates: int) -> None:
    server = BotApiServer().start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "ENVIRONMENT": "test",
        "TELEGRAM_API_BASE_URL": server.url,
        "API_PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(6)
        after_start = rss_mb(proc.pid)
        for i in range(updates):
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
        engine = make_engine(url)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                done = conn.execute(
                    text("SELECT count(*) FROM processed_update WHERE update_id >= 50000000")
                ).scalar_one()
            if done >= updates:
                break
            time.sleep(1)
        after = rss_mb(proc.pid)
        print(
            f"  asn-feedback serve resident memory: {after_start:.0f} MB after start-up, "
            f"{after:.0f} MB after {done:,d} updates"
        )
        engine.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-updates", type=int, default=10_000)
    args = parser.parse_args()
    print(
        f"Bot benchmark: {args.citizens} full surveys, {args.rows:,d} survey rows in the database"
    )
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            print("sqlite:")
            asyncio.run(survey_path(url, args.citizens, args.rows))
            serve_memory(url, args.memory_updates)
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            print("postgresql:")
            asyncio.run(survey_path(url, args.citizens, args.rows))


if __name__ == "__main__":
    main()
