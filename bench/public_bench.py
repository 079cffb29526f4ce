"""Benchmark: the public transparency page over a year of data for all units.

Loads N survey responses and N cases (default 1,000,000 each) spread over the last 365 days
for 60 units (a share resolved, a few `rahasia`), then times
(a) `core.transparency.snapshot.refresh_public_figures` (the scheduler's job: every figure of
    every unit and period, from aggregates), median of 3 runs after one warm-up;
(b) the cached pages rendered server-side through the ASGI app (`/transparansi` for the year
    and a unit's detail), median of R requests, against the floor: a bare endpoint returning
    a constant in the same app, through the same client.
It prints the data size (database, snapshot) and the figures; the issue's bar: < 200 ms.

    python bench/public_bench.py [--rows N] [--engine sqlite|postgres|both] [--requests R]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import httpx
from common import postgres_database
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.site import create_site
from core.cases.categories import CATEGORIES
from core.policies import build
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from core.transparency.snapshot import refresh_public_figures

UNITS = 60
BUDGET_MS = 200.0
NOW = datetime.now(UTC).replace(microsecond=0)
SPAN = int(timedelta(days=365).total_seconds())
RESPONSE_COLS = "unit_id, q1, q2, q3, q4, q5, q6, q7, q8, q9, channel, local_date, created_at"
CASE_COLS = (
    "reference, channel, privacy, unit_id, category, description, status, priority, "
    "received_at, resolved_at, verify_due_at, resolve_due_at, reopened_count, updated_at"
)


def _fmt(moment: datetime | None, sqlite: bool) -> object:
    if moment is None or not sqlite:
        return moment
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def responses(n: int, sqlite: bool) -> list[tuple[object, ...]]:
    rng = random.Random(7)
    out = []
    for _ in range(n):
        moment = NOW - timedelta(seconds=rng.randrange(SPAN))
        answers = [rng.choice((1, 2, 3, 3, 4, 4)) for _ in range(9)]
        local_day = (moment + timedelta(hours=8)).date()
        out.append(
            (rng.randrange(1, UNITS + 1), *answers, "bench",
             local_day.isoformat() if sqlite else local_day, _fmt(moment, sqlite))
        )  # fmt: skip
    return out


def cases(n: int, sqlite: bool) -> list[tuple[object, ...]]:
    rng = random.Random(11)
    codes = list(CATEGORIES)
    out = []
    for i in range(1, n + 1):
        received = NOW - timedelta(seconds=rng.randrange(SPAN))
        resolved = None
        if rng.random() < 0.7:
            resolved = received + timedelta(hours=rng.randrange(4, 24 * 40))
            if resolved > NOW:
                resolved = None
        privacy = rng.choices(("biasa", "anonim", "rahasia"), (90, 7, 3))[0]
        out.append(
            (
                f"KPG-{received:%y%m}-{i:07d}",
                "telegram",
                privacy,
                rng.randrange(1, UNITS + 1),
                rng.choice(codes),
                f"Laporan {i}",
                "resolved" if resolved else "in_progress",
                "normal",
                _fmt(received, sqlite),
                _fmt(resolved, sqlite),
                _fmt(received + timedelta(days=3), sqlite),
                _fmt(received + timedelta(days=rng.choice((14, 30, 60))), sqlite),
                0,
                _fmt(received, sqlite),
            )
        )
    return out


def load(url: str, n: int) -> float:
    upgrade(url)
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    survey_rows, case_rows = responses(n, sqlite), cases(n, sqlite)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO unit (id, code, name, active, created_at) VALUES "
                 "(:id, :code, :name, true, :now)"),
            [{"id": i, "code": f"u{i}", "name": f"Unit {i:02d}", "now": NOW}
             for i in range(1, UNITS + 1)],
        )  # fmt: skip
        if not sqlite:
            conn.execute(text("SELECT setval('unit_id_seq', :n)"), {"n": UNITS})
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if sqlite:
            marks = ", ".join("?" * 13)
            cur.executemany(
                f"INSERT INTO survey_response ({RESPONSE_COLS}) VALUES ({marks})", survey_rows
            )
            marks = ", ".join("?" * 14)
            cur.executemany(f"INSERT INTO cases ({CASE_COLS}) VALUES ({marks})", case_rows)
            raw.commit()
            cur.execute("ANALYZE")
        else:
            with cur.copy(f"COPY survey_response ({RESPONSE_COLS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in survey_rows:
                    copy.write_row(row)
            with cur.copy(f"COPY cases ({CASE_COLS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in case_rows:
                    copy.write_row(row)
            raw.commit()
            cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    return time.perf_counter() - t0


def _database_mb(engine: Engine, url: str) -> float:
    if engine.dialect.name == "sqlite":
        return os.path.getsize(url.removeprefix("sqlite:///")) / 1e6
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    return int(size) / 1e6


def _snapshot_kb(engine: Engine) -> tuple[int, float, float]:
    with engine.connect() as conn:
        count, total, largest = conn.execute(
            text("SELECT count(*), sum(length(body)), max(length(body)) FROM public_figures")
        ).one()
    return int(count), int(total) / 1e3, int(largest) / 1e3


async def _median_ms(client: httpx.AsyncClient, path: str, runs: int) -> tuple[float, int]:
    first = await client.get(path)
    assert first.status_code == 200, (path, first.status_code)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    return statistics.median(times), len(first.content)


async def pages(url: str, runs: int) -> list[tuple[str, float, int]]:
    settings = load_settings(
        database_url=url, environment="test", public_cache_seconds=600, _env_file=None
    )
    engine = make_engine(url)
    site = create_site(build(settings, engine))

    async def floor(_: Request) -> Response:
        return PlainTextResponse("ok")

    site.add_public_route(Route("/bench-floor", floor))
    year = str(NOW.astimezone(settings.tz).year)
    paths = [
        ("floor (constant)", "/bench-floor"),
        ("all units, year", f"/transparansi?periode={year}"),
        ("one unit, year", f"/transparansi/u7?periode={year}"),
        ("open data JSON, year", f"/data/pengaduan.json?periode={year}"),
    ]
    transport = httpx.ASGITransport(app=site)
    found = []
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for label, path in paths:
            ms, size = await _median_ms(client, path, runs)
            found.append((label, ms, size))
    engine.dispose()
    return found


def bench(label: str, url: str, rows: int, runs: int) -> None:
    load_s = load(url, rows)
    settings = load_settings(database_url=url, environment="test", _env_file=None)
    engine = make_engine(url)
    refresh_public_figures(engine, settings)  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        refresh_public_figures(engine, settings)
        times.append(time.perf_counter() - t0)
    count, total_kb, largest_kb = _snapshot_kb(engine)
    print(
        f"{label:10s} responses={rows:,d} cases={rows:,d} units={UNITS} load={load_s:.1f}s "
        f"database={_database_mb(engine, url):.0f} MB"
    )
    print(
        f"{'':10s} refresh (all units, {count} scopes, {total_kb:.0f} kB of JSON, largest "
        f"{largest_kb:.1f} kB): median {statistics.median(times):.2f}s of 3"
    )
    engine.dispose()
    for name, ms, size in asyncio.run(pages(url, runs)):
        verdict = "" if name.startswith("floor") else ("  OK" if ms < BUDGET_MS else "  OVER")
        print(f"{'':10s} {name:22s} median {ms:7.2f} ms  ({size / 1e3:.1f} kB){verdict}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    print(
        f"Public page benchmark: {args.rows:,d} survey responses and {args.rows:,d} cases over "
        f"365 days, {UNITS} units; {args.requests} requests per page (bar: < {BUDGET_MS:.0f} ms)"
    )
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            bench("sqlite", f"sqlite:///{tmp}/bench.db", args.rows, args.requests)
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            bench("postgresql", url, args.rows, args.requests)


if __name__ == "__main__":
    main()
