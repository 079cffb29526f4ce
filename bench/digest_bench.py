"""Benchmark: weekly digests and the outbox under Telegram's flood limit.

1. Loads 60 units (each with a linked unit head), 1,000,000 cases and 2,000,000 survey
   responses over a year, then times building and queueing every unit's digest (figures,
   12-week trend, PNG chart) for one week.
2. Starts a local HTTP server speaking the Bot API that answers 429 whenever more than 30
   messages arrive within one second, and times the real dispatcher (python-telegram-bot
   over HTTP) sending 600 queued messages: messages per second and 429 answers.

    python bench/digest_bench.py [--cases N] [--responses N] [--messages N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Bot

from bot.dispatcher import telegram_dispatcher
from core.digests.service import IsoWeek, send_all_digests
from core.outbox.models import OutboundMessage
from core.shared.db import make_engine
from core.shared.migrate import upgrade

TZ = ZoneInfo("Asia/Makassar")
UNITS = 60
WEEK = IsoWeek(2026, 46)
TOKEN = "123456:BENCH"  # noqa: S105 (a fake token for a local server)
START = datetime(2025, 11, 20, tzinfo=UTC)
SPAN = int(timedelta(days=365).total_seconds())


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def load(engine: Engine, cases: int, responses: int) -> float:
    rng = random.Random(8)
    t0 = time.perf_counter()
    now = _t(datetime(2026, 11, 20, tzinfo=UTC))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.executemany(
            "INSERT INTO unit (id, code, name, active, service_population, created_at) "
            "VALUES (?, ?, ?, 1, 2500, ?)",
            [(i, f"u{i}", f"Unit {i:02d}", now) for i in range(1, UNITS + 1)],
        )
        cur.executemany(
            "INSERT INTO officer (id, nip, name, position, unit_id, active, public_code, "
            "created_at) VALUES (?, ?, ?, '', ?, 1, ?, ?)",
            [
                (i, f"{198001010000000000 + i}", f"Officer {i}", 1 + i % UNITS, f"c{i:06d}", now)
                for i in range(1, 601)
            ],
        )
        cur.executemany(
            "INSERT INTO app_user (id, username, password_hash, role, active, "
            "language, created_at) VALUES (?, ?, '$argon2id$x', 'unit_head', 1, ?, ?)",
            [(i, f"head{i}", "id" if i % 2 else "en", now) for i in range(1, UNITS + 1)],
        )
        cur.executemany(
            "INSERT INTO contact (channel, address, user_id, created_at)"
            " VALUES ('telegram', ?, ?, ?)",
            [(str(500_000 + i), i, now) for i in range(1, UNITS + 1)],
        )
        cur.executemany(
            "INSERT INTO user_unit (user_id, unit_id) VALUES (?, ?)",
            [(i, i) for i in range(1, UNITS + 1)],
        )
        rows = []
        for _ in range(responses):
            m = START + timedelta(seconds=rng.randrange(SPAN))
            q = [rng.choice((2, 3, 3, 4)) for _ in range(9)]
            rows.append(
                (
                    rng.randrange(1, UNITS + 1),
                    *q,
                    "bench",
                    (m + timedelta(hours=8)).date().isoformat(),
                    _t(m),
                )
            )
        cur.executemany(
            "INSERT INTO survey_response (unit_id, q1, q2, q3, q4, q5, q6, q7, q8, q9, channel, "
            "local_date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        rows = []
        for i in range(1, cases + 1):
            m = START + timedelta(seconds=rng.randrange(SPAN))
            status = rng.choice(
                ("closed", "closed", "closed", "resolved", "in_progress", "received")
            )
            due = _t(m + timedelta(days=5)) if status in ("in_progress", "received") else None
            resolved = _t(m + timedelta(days=3)) if status in ("closed", "resolved") else None
            outcome = (
                rng.choice(("substantiated", "partly", "unsubstantiated")) if resolved else None
            )
            officer = rng.randrange(1, 601) if rng.random() < 0.4 else None
            rows.append(
                (
                    f"KPG-B-{i:07d}",
                    rng.choice(("biasa", "anonim", "rahasia")),
                    1 + (officer or rng.randrange(UNITS)) % UNITS,
                    officer,
                    "pungli",
                    "bench",
                    status,
                    _t(m),
                    _t(m),
                    _t(m),
                    due,
                    resolved,
                    outcome,
                    _t(m),
                )
            )
        cur.executemany(
            "INSERT INTO cases (reference, privacy, unit_id, officer_id, category, description, "
            "status, priority, received_at, verify_due_at, resolve_due_at, due_at, resolved_at, "
            "outcome, reopened_count, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'normal', ?, ?, ?, ?, ?, ?, 0, ?)",
            rows,
        )
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - t0


class FloodLimitedBotApi:
    """Answers sendMessage/sendPhoto; 429 (retry_after 1) past 30 messages in one second."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.window: deque[float] = deque()
        self.accepted = 0
        self.refused = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rsplit("/", 1)[-1]
                status, body = server.answer(method)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, method: str) -> tuple[int, dict[str, Any]]:
        if method == "getMe":
            return 200, {
                "ok": True,
                "result": {"id": 1, "is_bot": True, "first_name": "B", "username": "bench_bot"},
            }
        now = time.monotonic()
        with self.lock:
            while self.window and now - self.window[0] >= 1.0:
                self.window.popleft()
            if len(self.window) >= 30:
                self.refused += 1
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests",
                    "parameters": {"retry_after": 1},
                }
            self.window.append(now)
            self.accepted += 1
        message = {"message_id": self.accepted, "date": 0, "chat": {"id": 1, "type": "private"}}
        return 200, {"ok": True, "result": message}


async def send_through_dispatcher(engine: Engine, count: int) -> None:
    now = datetime.now(UTC)
    with Session(engine) as s:
        for i in range(count):
            s.add(
                OutboundMessage(
                    channel="telegram",
                    address=str(900_000 + i),
                    template="plain",
                    params=json.dumps({"text": f"Pesan {i}"}),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        s.commit()
    api = FloodLimitedBotApi()
    bot = Bot(TOKEN, base_url=f"{api.url}/bot", base_file_url=f"{api.url}/file/bot")
    await bot.initialize()
    dispatcher = telegram_dispatcher(engine, bot)
    t0 = time.perf_counter()
    sent = 0
    while sent < count:
        sent += await dispatcher.run_once()
    elapsed = time.perf_counter() - t0
    await bot.shutdown()
    api.httpd.shutdown()
    rate = sent / elapsed
    print(
        f"  dispatcher: {sent} messages in {elapsed:.1f} s = {rate:.1f} msg/s "
        f"({rate / 30:.0%} of 30/s); 429 answers: {api.refused}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--responses", type=int, default=2_000_000)
    parser.add_argument("--messages", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        print(
            f"Digest benchmark (SQLite): {UNITS} units, {args.cases:,d} cases, "
            f"{args.responses:,d} survey responses"
        )
        print(f"  loaded in {load(engine, args.cases, args.responses):.0f} s")
        t0 = time.perf_counter()
        report = send_all_digests(
            engine, WEEK, TZ, 1000, "bench", now=datetime(2026, 11, 16, tzinfo=UTC)
        )
        build = time.perf_counter() - t0
        print(
            f"  digests for {report.units} units with charts: {build:.2f} s "
            f"({report.messages} outbox messages)"
        )
        with Session(engine) as s:
            s.execute(OutboundMessage.__table__.delete())  # type: ignore[attr-defined]
            s.commit()
        asyncio.run(send_through_dispatcher(engine, args.messages))


if __name__ == "__main__":
    main()
