"""Benchmark: the supervisor's case list over 1,000,000 cases, on SQLite and PostgreSQL.

1. Loads N cases (default 1,000,000) with two events each over 60 units and two years.
2. Times `core.cases.queries.list_cases` (filters + a page of 50) for 200 varied queries of a
   supervisor with five units: p50 and p95, overall and per kind of query.
3. Serves the real API (uvicorn, one worker) and a bare FastAPI endpoint side by side, and
   drives each with 32 concurrent clients for a few seconds: requests per second of
   `GET /cases` against the bare endpoint.

    python bench/cases_bench.py [--rows N] [--engine sqlite|postgres|both] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from common import postgres_database
from sqlalchemy import text
from sqlmodel import Session

from core.access import Actor
from core.cases.models import CaseStatus
from core.cases.queries import CaseFilter, CaseSort, list_cases
from core.people.models import Role
from core.people.users import hash_password
from core.shared.db import make_engine
from core.shared.migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.processes import free_port

TZ = ZoneInfo("Asia/Makassar")
UNITS = 60
OFFICERS = 600
SCOPE = frozenset({1, 2, 3, 4, 5})
NOW = datetime(2026, 11, 27, 2, tzinfo=UTC)
CATEGORIES = (
    "penundaan_berlarut",
    "penyimpangan_prosedur",
    "tidak_memberikan_pelayanan",
    "penyalahgunaan_wewenang",
    "pungli",
    "tidak_kompeten",
    "tidak_patut",
    "diskriminasi",
    "konflik_kepentingan",
    "keberpihakan",
    "lainnya",
)
WORDS = ("antre", "loket", "pungutan", "lama", "kasar", "berkas", "hilang", "surat", "tanda")
CASE_COLS = (
    "reference, citizen_id, privacy, unit_id, officer_id, category, description, status, "
    "priority, received_at, verify_due_at, resolve_due_at, due_at, reopened_count, updated_at, "
    "channel, assignee_id"
)
EVENT_COLS = "case_id, actor_kind, kind, from_status, to_status, visibility, created_at"


def _fmt(moment: datetime | None, sqlite: bool) -> object:
    if moment is None or not sqlite:
        return moment
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(n: int, sqlite: bool) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    rng = random.Random(11)
    cases, events = [], []
    span = int(timedelta(days=730).total_seconds())
    for i in range(1, n + 1):
        received = NOW - timedelta(seconds=rng.randrange(span))
        age = (NOW - received).days
        if age < 30:
            status = rng.choice(
                ("received", "verified", "in_progress", "waiting_citizen", "resolved")
            )
        else:
            status = rng.choice(("closed",) * 8 + ("rejected", "in_progress"))
        due = None
        if status in ("received", "verified", "in_progress"):
            due = received + timedelta(days=rng.choice((3, 7, 60)))
        unit = rng.randrange(1, UNITS + 1)
        # Verified cases have a handler: one of the unit's two staff (users 2u and 2u + 1),
        # or, in the benchmark supervisor's units, them too (user 1).
        handlers = [2 * unit, 2 * unit + 1] + ([1] if unit in SCOPE else [])
        assignee = None if status == "received" else rng.choice(handlers)
        words = " ".join(rng.choice(WORDS) for _ in range(6))
        privacy = rng.choices(("biasa", "anonim", "rahasia"), (90, 7, 3))[0]
        cases.append(
            (
                f"KPG-{received:%y%m}-{i:07d}",
                None,
                privacy,
                unit,
                rng.randrange(1, OFFICERS + 1) if rng.random() < 0.3 else None,
                rng.choice(CATEGORIES),
                f"Laporan {i}: {words}.",
                status,
                "normal",
                _fmt(received, sqlite),
                _fmt(received + timedelta(days=3), sqlite),
                _fmt(received + timedelta(days=60), sqlite),
                _fmt(due, sqlite),
                0,
                _fmt(received, sqlite),
                "telegram",
                assignee,
            )
        )
        events.append((i, "citizen", "created", None, "received", "public", _fmt(received, sqlite)))
        later = received + timedelta(hours=rng.randrange(1, 72))
        events.append(
            (i, "system", "verified", "received", "verified", "public", _fmt(later, sqlite))
        )
    return cases, events


def load(url: str, n: int) -> float:
    upgrade(url)
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    cases, events = generate(n, sqlite)
    t0 = time.perf_counter()
    now = _fmt(NOW, sqlite)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO unit (id, code, name, active, created_at) "
                "VALUES (:id, :code, :name, true, :now)"
            ),
            [
                {"id": i, "code": f"u{i}", "name": f"Unit {i:02d}", "now": NOW}
                for i in range(1, UNITS + 1)
            ],
        )
        conn.execute(
            text(
                "INSERT INTO officer (id, nip, name, position, unit_id, active, public_code, "
                "created_at) VALUES (:id, :nip, :name, '', :unit, true, :code, :now)"
            ),
            [
                {
                    "id": i,
                    "nip": f"{198001010000000000 + i}",
                    "name": f"Officer {i}",
                    "unit": 1 + i % UNITS,
                    "code": f"c{i:07d}",
                    "now": NOW,
                }
                for i in range(1, OFFICERS + 1)
            ],
        )
        conn.execute(
            text(
                "INSERT INTO app_user (id, username, password_hash, role, active, created_at) "
                "VALUES (1, 'spv', :h, 'supervisor', true, :now)"
            ),
            {"h": hash_password("benchmark-password"), "now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO app_user (id, username, password_hash, role, active, created_at) "
                "VALUES (:id, :name, 'x', 'supervisor', true, :now)"
            ),
            [
                {"id": 2 * u + k, "name": f"staff{2 * u + k}", "now": NOW}
                for u in range(1, UNITS + 1)
                for k in (0, 1)
            ],
        )
        conn.execute(
            text("INSERT INTO user_unit (user_id, unit_id) VALUES (:user, :u)"),
            [{"user": 1, "u": u} for u in sorted(SCOPE)]
            + [{"user": 2 * u + k, "u": u} for u in range(1, UNITS + 1) for k in (0, 1)],
        )
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if sqlite:
            cur.executemany(
                f"INSERT INTO cases ({CASE_COLS}) VALUES ({', '.join('?' * 17)})", cases
            )
            cur.executemany(
                f"INSERT INTO case_event ({EVENT_COLS}) VALUES ({', '.join('?' * 7)})", events
            )
            raw.commit()
            cur.execute("ANALYZE")
        else:
            with cur.copy(f"COPY cases ({CASE_COLS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in cases:
                    copy.write_row(row)
            with cur.copy(f"COPY case_event ({EVENT_COLS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in events:
                    copy.write_row(row)
            raw.commit()
            cur.execute("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))")
            cur.execute("ANALYZE cases")
            cur.execute("ANALYZE case_event")
        raw.commit()
    finally:
        raw.close()
    del now
    engine.dispose()
    return time.perf_counter() - t0


def varied_queries(rng: random.Random) -> list[tuple[str, CaseFilter, CaseSort, bool]]:
    out: list[tuple[str, CaseFilter, CaseSort, bool]] = []
    open_statuses = [CaseStatus.received, CaseStatus.verified, CaseStatus.in_progress]
    for _ in range(200):
        kind = rng.choices(
            (
                "default",
                "status",
                "unit+status",
                "overdue",
                "due-sort",
                "category",
                "officer",
                "dates",
                "text",
                "page2",
            ),
            (20, 15, 15, 10, 10, 8, 5, 7, 5, 5),
        )[0]
        f = CaseFilter()
        sort = CaseSort.newest
        if kind == "status":
            f = CaseFilter(statuses=tuple(rng.sample(open_statuses, rng.randint(1, 3))))
        elif kind == "unit+status":
            f = CaseFilter(unit_id=rng.choice(sorted(SCOPE)), statuses=(rng.choice(open_statuses),))
        elif kind == "overdue":
            f = CaseFilter(overdue=True)
        elif kind == "due-sort":
            sort = CaseSort.due
        elif kind == "category":
            f = CaseFilter(category=rng.choice(CATEGORIES))
        elif kind == "officer":
            f = CaseFilter(
                officer_id=rng.choice([o for o in range(1, OFFICERS + 1) if o % UNITS in (2, 3)])
            )
        elif kind == "dates":
            start = date(2025, 1, 1) + timedelta(days=rng.randrange(600))
            f = CaseFilter(received_from=start, received_to=start + timedelta(days=30))
        elif kind == "text":
            f = CaseFilter(
                text=rng.choice(WORDS),
                unit_id=rng.choice(sorted(SCOPE)),
                received_from=date(2026, 9, 1),
            )
        out.append((kind, f, sort, kind == "page2"))
    return out


def time_queries(url: str) -> None:
    engine = make_engine(url)
    actor = Actor(1, "spv", Role.supervisor, SCOPE)
    rng = random.Random(5)
    timings: dict[str, list[float]] = defaultdict(list)
    with Session(engine) as s:
        list_cases(s, CaseFilter(), TZ, actor=actor, now=NOW)  # warm-up
        for kind, f, sort, second_page in varied_queries(rng):
            t0 = time.perf_counter()
            page = list_cases(s, f, TZ, actor=actor, sort=sort, limit=50, now=NOW)
            if second_page and page.next_cursor:
                t0 = time.perf_counter()
                page = list_cases(
                    s, f, TZ, actor=actor, sort=sort, cursor=page.next_cursor, now=NOW
                )
            timings[kind].append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    every = sorted(t for ts in timings.values() for t in ts)
    print(
        f"  list_cases, 200 queries: p50={_pct(every, 50):.1f} ms  p95={_pct(every, 95):.1f} ms"
        f"  max={every[-1]:.1f} ms"
    )
    for kind, ts in sorted(timings.items()):
        ts.sort()
        print(f"    {kind:12s} n={len(ts):3d}  p50={_pct(ts, 50):6.1f} ms  max={ts[-1]:6.1f} ms")


def _pct(sorted_values: list[float], pct: float) -> float:
    idx = min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1)))
    return sorted_values[idx]


async def _load(
    url: str, headers: dict[str, str], seconds: float, clients: int = 32
) -> tuple[float, int]:
    done = 0
    errors = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < stop_at:
                r = await client.get(url, headers=headers)
                if r.status_code == 200:
                    done += 1
                else:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return done / (time.perf_counter() - t0), errors


def _serve(app_ref: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "uvicorn",
            app_ref,
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=Path(__file__).resolve().parent,
    )


async def _wait_up(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                await client.get(f"{base}/healthz")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not start")


def throughput(url: str, seconds: float) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": "b" * 48,
        "ENVIRONMENT": "test",
        "TELEGRAM_BOT_TOKEN": "",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    ports = (free_port(), free_port())
    procs = [
        _serve("http_apps:real_app", ports[0], env),
        _serve("http_apps:bare_app", ports[1], env),
    ]
    try:

        async def run() -> None:
            real, bare = (f"http://127.0.0.1:{p}" for p in ports)
            await _wait_up(real)
            await _wait_up(bare)
            async with httpx.AsyncClient() as client:
                r = await client.post(
                    f"{real}/auth/token", data={"username": "spv", "password": "benchmark-password"}
                )
                token = r.json()["access_token"]
            h = {"Authorization": f"Bearer {token}"}
            real_rps, real_err = await _load(
                f"{real}/cases?status=received&status=in_progress", h, seconds
            )
            bare_rps, bare_err = await _load(f"{bare}/cases", h, seconds)
            print(
                f"  GET /cases, 32 clients, {seconds:.0f} s each: {real_rps:.0f} req/s "
                f"({real_err} errors); bare FastAPI endpoint: {bare_rps:.0f} req/s "
                f"({bare_err} errors); ratio {real_rps / bare_rps:.0%}"
            )

        asyncio.run(run())
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(
        f"Case list benchmark: {args.rows:,d} cases, {2 * args.rows:,d} events, {UNITS} units; "
        f"a supervisor of {len(SCOPE)} units"
    )
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            _run("sqlite", f"sqlite:///{tmp}/bench.db", args.rows, args.seconds)
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            _run("postgresql", url, args.rows, args.seconds)


def _run(label: str, url: str, rows: int, seconds: float) -> None:
    print(f"{label}: loaded in {load(url, rows):.0f} s")
    time_queries(url)
    throughput(url, seconds)


if __name__ == "__main__":
    main()
