"""Benchmark: the bot's survey path, against python-telegram-bot's own floor, and memory.

1. With 1,000,000 survey responses in the database, 300 citizens each run the whole survey
   (16 updates: /start, language, consent, menu, unit, nine answers, comment, profile)
   through the real Application with an in-process Bot API: updates per second and the p99
   time per update. In the same run, the same number of updates goes through an Application
   whose only handler echoes (the floor: PTB plus the transport, no database).
2. `asn-feedback serve` as a process polling a local Bot API server: resident memory after
   start-up and after 10,000 updates.

    python bench/bot_bench.py [--engine sqlite|postgres|both] [--citizens N] [--rows N]
                              [--profile] [--two-trips] [--no-memory] [--poller N]

`--profile` breaks the run with latency down: Bot API calls and SQL statements per update,
the wait for the chat's turn and a slot, the thread hops, the database work, the Bot API
calls; and the share of echo the time in turn allows (slots are the limit when all are busy).
`--two-trips` makes the bot answer a button press before editing (as it did before).
`--poller N` (only that): N surveys through `asn-feedback bot` polling the local Bot API
server over HTTP, as `make soak` runs it without the kills: updates/s and the process's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import postgres_database
from sqlalchemy import event, text
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
from telegram.request import RequestData

import bot.application as bot_application
import bot.telegram_io as telegram_io
from bot import build_application
from bot.local_transport import LocalBotApi
from bot.ordering import ChatOrderedProcessor
from core.chat.state import claim_message
from core.masterdata.models import Unit
from core.people.models import Channel
from core.shared.config import load_settings
from core.shared.db import make_engine, session_scope
from core.shared.migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.bot_api_server import BotApiServer
from tests.botkit import survey_updates
from tests.processes import free_port, process_env, spawn

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
    latency: float = 0.0,
    engine: Engine | None = None,
    request: LocalBotApi | None = None,
    *,
    answer_first: bool = False,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Echo every update; with `engine`, first claim its id in one committed transaction
    (the least a bot that survives being killed must do: the durable floor). A button press
    is answered while the message is edited, as the bot does (`bot.telegram_io.deliver`);
    `answer_first` answers it before the edit (two round trips, as the bot did before)."""
    app = (
        ApplicationBuilder()
        .token("1:echo")
        .request(request or LocalBotApi(latency=latency))
        .concurrent_updates(ChatOrderedProcessor(CONCURRENCY))
        .build()
    )

    async def echo(update: Update, _: Any) -> None:
        if engine is not None:
            await asyncio.to_thread(claim_in_db, engine)
        query = update.callback_query
        if query is not None and answer_first:
            await query.answer()
            await query.edit_message_text("echo")
        elif query is not None:
            await asyncio.gather(query.answer(), query.edit_message_text("echo"))
        elif update.effective_chat is not None:
            await update.effective_chat.send_message("echo")

    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(echo))
    return app


_CLAIMS = itertools.count(2_000_000_000)


def claim_in_db(engine: Engine) -> None:
    """One committed row, a new one every time (the same updates go through several runs)."""
    with session_scope(engine) as session:
        assert claim_message(session, Channel.telegram, str(next(_CLAIMS)))


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


async def survey_path(
    url: str, citizens: int, rows: int, latency_ms: float, profile: bool = False
) -> None:
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

    def bot(request: LocalBotApi | None = None) -> Application[Any, Any, Any, Any, Any, Any]:
        return build_application(settings, engine, request=request or LocalBotApi())

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
        await with_latency(bot, engine, citizens, unit_id, latency_ms / 1000, profile)
    engine.dispose()


async def with_latency(
    bot: Any, engine: Engine, citizens: int, unit_id: int, latency: float, profile: bool
) -> None:
    """Every Bot API call takes `latency` seconds, as a call to Telegram from Kupang does."""
    before = stored_surveys(engine)
    updates = interleaved(range(2 * citizens, 3 * citizens), unit_id)
    api = CountingBotApi(latency)
    app = bot(api)
    await app.initialize()
    probe = Probe()
    api.calls = 0
    with probing(app, probe) if profile else contextlib.nullcontext():
        queued = await run_queued(app, updates)
    calls = api.calls
    await app.shutdown()
    echo_probe = Probe()
    echo_api = CountingBotApi(latency)
    echo = echo_app(request=echo_api)
    await echo.initialize()
    echo_api.calls = 0
    with probing(echo, echo_probe) if profile else contextlib.nullcontext():
        floor_elapsed = await run_queued(echo, updates)
    await echo.shutdown()
    floor = len(updates) / floor_elapsed
    two_trips = echo_app(latency, answer_first=True)
    await two_trips.initialize()
    floor_two_trips = len(updates) / await run_queued(two_trips, updates)
    await two_trips.shutdown()
    assert stored_surveys(engine) == before + citizens
    rate = len(updates) / queued
    print(
        f"    with {latency * 1000:.0f} ms per Bot API call: {rate:.0f} updates/s queued "
        f"(echo floor {floor:.0f}/s, {rate / floor:.0%}; an echo answering a press before "
        f"editing, two round trips: {floor_two_trips:.0f}/s, {rate / floor_two_trips:.0%})"
    )
    if profile:
        print(f"    survey path, {queued:.2f} s:\n{probe.report(queued, calls)}")
        echo_report = echo_probe.report(floor_elapsed, echo_api.calls)
        print(f"    echo, {floor_elapsed:.2f} s:\n{echo_report}")
        in_turn = statistics.fmean(probe.durations("turn", "done"))
        echo_in_turn = statistics.fmean(echo_probe.durations("turn", "done"))
        print(
            f"    time in turn per update: survey {in_turn * 1000:.1f} ms, echo "
            f"{echo_in_turn * 1000:.1f} ms: at equal slot use the survey can reach "
            f"{echo_in_turn / in_turn:.0%} of echo"
        )


async def deliver_in_two_trips(update: Update, outcome: Any) -> None:
    """The bot's delivery as it was: the press answered, then the screens (`--two-trips`)."""
    if update.callback_query is not None:
        await telegram_io._answer(update.callback_query, outcome.toast)
    await telegram_io._show(update, outcome)


class CountingBotApi(LocalBotApi):
    """The in-process Bot API, counting the calls made to it."""

    def __init__(self, latency: float) -> None:
        super().__init__(latency=latency)
        self.calls = 0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *a: Any, **k: Any
    ) -> tuple[int, bytes]:
        self.calls += 1
        return await super().do_request(url, method, request_data, *a, **k)


class Probe:
    """Moments in each update's life, by update id (perf_counter seconds)."""

    STEPS = (
        ("chat's turn and a slot", "enter", "turn"),
        ("to the database thread", "turn", "db"),
        ("write gate (SQLite)", "db", "gate"),
        ("database work", "gate", "db_done"),
        ("back to the event loop", "db_done", "deliver"),
        ("Bot API calls", "deliver", "deliver_done"),
        ("in turn, in all", "turn", "done"),
    )

    def __init__(self) -> None:
        self.t: dict[int, dict[str, float]] = {}
        self.in_thread = threading.local()
        self.statements = 0
        self.in_execute = 0.0
        self.kinds: Counter[str] = Counter()

    def mark(self, update_id: int, name: str) -> None:
        self.t.setdefault(update_id, {})[name] = time.perf_counter()

    def durations(self, start: str, end: str) -> list[float]:
        return sorted(m[end] - m[start] for m in self.t.values() if start in m and end in m)

    def statement(self, started: float, sql: str) -> None:
        """A statement the database thread of the current update ran, and its time."""
        self.statements += 1
        self.kinds[" ".join(sql.split())[:90]] += 1
        self.in_execute += time.perf_counter() - started

    def report(self, elapsed: float, calls: int) -> str:
        n = len(self.t)
        lines = [f"      {calls / n:.2f} Bot API calls per update"]
        if self.statements:
            lines.append(
                f"      {self.statements / n:.1f} SQL statements per update,"
                f" {self.in_execute / n * 1000:.1f} ms in cursor.execute per update"
            )
            for sql, count in self.kinds.most_common(8):
                lines.append(f"        {count / n:4.2f} x {sql}")
        for label, start, end in self.STEPS:
            d = self.durations(start, end)
            if d:
                p50, p99 = d[len(d) // 2] * 1000, d[int(0.99 * (len(d) - 1))] * 1000
                lines.append(
                    f"      {label:24s} mean {statistics.fmean(d) * 1000:6.1f} ms, "
                    f"p50 {p50:6.1f}, p99 {p99:6.1f}"
                )
        busy = sum(self.durations("turn", "done"))
        lines.append(
            f"      slots busy on average: {busy / elapsed:.1f} of {CONCURRENCY}"
            f" (updates/s = slots busy / mean time in turn)"
        )
        return "\n".join(lines)


class TimedGate:
    """The application's write gate, noting when a thread got through it."""

    def __init__(self, gate: Any, probe: Probe) -> None:
        self.gate, self.probe = gate, probe

    def __enter__(self) -> None:
        self.gate.__enter__()
        self.probe.mark(self.probe.in_thread.update_id, "gate")

    def __exit__(self, *exc: object) -> None:
        self.gate.__exit__(*exc)


@contextlib.contextmanager
def probing(app: Application[Any, Any, Any, Any, Any, Any], probe: Probe) -> Iterator[None]:
    """Note the moments of each update in `probe` (the bench's instrument, not the product's)."""
    processor = app.update_processor
    process = processor.do_process_update

    async def timed_process(update: object, coroutine: Awaitable[Any]) -> None:
        uid = update.update_id if isinstance(update, Update) else 0
        probe.mark(uid, "enter")

        async def in_turn() -> None:
            probe.mark(uid, "turn")
            try:
                await coroutine
            finally:
                probe.mark(uid, "done")

        await process(update, in_turn())

    handle_in_db, deliver = bot_application._handle_in_db, bot_application.deliver

    def timed_db(engine: Engine, gate: Any, cfg: Any, inbound: Any) -> Any:
        update_id = int(inbound.message_id)
        probe.in_thread.update_id = update_id
        probe.mark(update_id, "db")
        try:
            return handle_in_db(engine, TimedGate(gate, probe), cfg, inbound)
        finally:
            probe.mark(update_id, "db_done")

    async def timed_deliver(update: Update, outcome: Any) -> None:
        probe.mark(update.update_id, "deliver")
        await deliver(update, outcome)
        probe.mark(update.update_id, "deliver_done")

    engine: Engine = app.bot_data.get(bot_application.ENGINE_KEY) or make_engine("sqlite://")

    def before(conn: Any, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        probe.statement(conn.info.pop("bench_started", time.perf_counter()), sql)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    processor.do_process_update = timed_process  # type: ignore[method-assign]
    bot_application._handle_in_db = timed_db  # type: ignore[assignment]
    bot_application.deliver = timed_deliver  # type: ignore[assignment]
    try:
        yield
    finally:
        del processor.do_process_update
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        bot_application._handle_in_db = handle_in_db
        bot_application.deliver = deliver


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
                    "SELECT count(*) FROM processed_message WHERE channel = 'telegram'"
                    " AND CAST(message_id AS BIGINT) BETWEEN 50000000 AND 99999999"
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


def through_poller(url: str, citizens: int, keep_alive: bool) -> None:
    """`asn-feedback bot` as a process polling the local Bot API server over HTTP (as
    `make soak` runs it, without the kills): all surveys pushed at once, updates/s from the
    first update handled to the last, and the test server's own time per call."""
    with Session(make_engine(url)) as s:
        unit = Unit(code=f"poll-{int(keep_alive)}", name="Poller Bench Unit")
        s.add(unit)
        s.commit()
        unit_id = unit.id or 0
    server = BotApiServer()
    if keep_alive:  # HTTP/1.1: the bot's client reuses its connections
        server.httpd.RequestHandlerClass.protocol_version = "HTTP/1.1"  # type: ignore[attr-defined]
    handle = server.handle
    spent = [0.0, 0.0]  # seconds inside the server's handler, calls

    def timed_handle(path: str, content_type: str, raw: bytes) -> tuple[int, bytes]:
        started = time.perf_counter()
        try:
            return handle(path, content_type, raw)
        finally:
            if not path.endswith("/getUpdates"):
                spent[0] += time.perf_counter() - started
                spent[1] += 1

    server.handle = timed_handle  # type: ignore[method-assign]
    server.start()
    first_id = 60_000_000 + 100_000 * int(keep_alive)
    per_citizen = [
        survey_updates(3_000_000 + 10_000 * int(keep_alive) + c, unit_id) for c in range(citizens)
    ]
    updates = [u for step in zip(*per_citizen, strict=True) for u in step]
    for n, raw in enumerate(updates):
        server.push({**raw, "update_id": first_id + n})
    env = process_env(url, server)
    with tempfile.TemporaryDirectory() as tmp:
        spawned = time.perf_counter()
        proc = spawn(["bot"], env, Path(tmp) / "bot.log")
        engine = make_engine(url)
        ids = (
            "channel = 'telegram' AND CAST(message_id AS BIGINT)"
            f" BETWEEN {first_id} AND {first_id + len(updates)}"
        )
        try:
            first = last = cpu_first = cpu_last = 0.0
            done = 0
            deadline = time.monotonic() + 600
            while done < len(updates) and time.monotonic() < deadline:
                time.sleep(0.05)
                with engine.connect() as conn:
                    done = conn.execute(
                        text(f"SELECT count(*) FROM processed_message WHERE {ids}")
                    ).scalar_one()
                if done and not first:
                    first, cpu_first = time.perf_counter(), cpu_seconds(proc.pid)
                last, cpu_last = time.perf_counter(), cpu_seconds(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            server.stop()
            engine.dispose()
    http = "HTTP/1.1 keep-alive" if keep_alive else "HTTP/1.0, a connection per call"
    print(
        f"  through the poller ({http}): {done} of {len(updates)} updates, "
        f"{done / max(last - first, 1e-9):.0f} updates/s after the first (which came "
        f"{first - spawned:.1f} s after the start); the bot process "
        f"used {(cpu_last - cpu_first) / max(last - first, 1e-9):.0%} of a core, "
        f"{(cpu_last - cpu_first) / max(done, 1) * 1000:.1f} ms CPU per update; test server "
        f"{spent[0] / max(spent[1], 1) * 1000:.2f} ms per call in its handler"
    )


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-updates", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--profile", action="store_true", help="where the time goes (latency run)")
    parser.add_argument(
        "--switch-interval", type=float, help="sys.setswitchinterval (GIL hand-over), seconds"
    )
    parser.add_argument(
        "--poller", type=int, default=0, help="only: N surveys through `asn-feedback bot` (SQLite)"
    )
    parser.add_argument(
        "--two-trips", action="store_true", help="the bot answers a press before editing (old)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the serve memory run")
    args = parser.parse_args()
    if args.two_trips:
        bot_application.deliver = deliver_in_two_trips  # type: ignore[assignment]
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    print(
        f"Bot benchmark: {args.citizens} full surveys, {args.rows:,d} survey rows in the database"
    )
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            print("sqlite:")
            if args.poller:  # only this
                upgrade(url)
                through_poller(url, args.poller, keep_alive=False)
                through_poller(url, args.poller, keep_alive=True)
                return
            asyncio.run(survey_path(url, args.citizens, args.rows, args.latency_ms, args.profile))
            if not args.no_memory:
                serve_memory(url, args.memory_updates)
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            print("postgresql:")
            asyncio.run(survey_path(url, args.citizens, args.rows, args.latency_ms, args.profile))


if __name__ == "__main__":
    main()
