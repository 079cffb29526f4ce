"""Benchmark: the console's satisfaction pages over 1,000,000 survey answers (issue 15: the
IKM overview of every unit for a quarter in < 1 s server-side).

Loads N answers (default 1,000,000) over 60 units and one quarter (`ikm_bench`'s data), signs
in as an admin (every unit), then times, in process, the overview `GET /staff/scores` for
the quarter, a unit's page and its XLSX report; against a floor measured in the same run:
the JSON API's `GET /api/scores/units` for the same quarter (the same figures, no page).

    python bench/console_scores_bench.py [--rows N] [--engine sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import postgres_database
from ikm_bench import _load, _rows
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.site import create_site
from core.people.models import Role
from core.people.users import create_user
from core.policies import build
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade

PASSWORD = "benchmark-password"  # noqa: S105
BUDGET_MS = 1000.0
QUARTER = "kind=quarter&on=2026-08-15"


async def _median_ms(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> float:
    times = []
    for i in range(6):
        t0 = time.perf_counter()
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.text[:300])
        if i:  # the first one warms the caches
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def run(label: str, url: str, rows: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    t0 = time.perf_counter()
    _load(engine, _rows(rows))
    loaded = time.perf_counter() - t0
    with Session(engine) as s:
        create_user(s, "adm", Role.admin, PASSWORD)
        s.commit()
    settings = load_settings(database_url=url, environment="test", _env_file=None)
    site = create_site(build(settings, engine))
    transport = httpx.ASGITransport(app=site)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        page = await client.get("/staff/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        form = {"username": "adm", "password": PASSWORD, "csrf": csrf.group(1), "next": "/staff/"}
        assert (await client.post("/staff/login", data=form)).status_code == 303
        token = await client.post("/api/auth/token", data={"username": "adm", "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        floor = await _median_ms(
            client, "/api/scores/units?start=2026-07-01&end=2026-09-30", bearer
        )
        print(f"  {label}: loaded in {loaded:.0f} s; floor JSON /api/scores/units {floor:.1f} ms")
        for path in (f"/staff/scores?{QUARTER}", f"/staff/scores/u7?{QUARTER}"):
            ms = await _median_ms(client, path, {})
            verdict = "ok" if ms < BUDGET_MS else "OVER"
            print(
                f"    {path.split('?')[0]:26s} median {ms:7.1f} ms ({ms / floor:.1f}x) [{verdict}]"
            )
        ms = await _median_ms(client, f"/staff/scores/u7/report.xlsx?{QUARTER}", {})
        print(f"    {'/staff/scores/u7/report.xlsx':26s} median {ms:7.1f} ms")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    print(f"Console satisfaction benchmark: {args.rows:,d} answers, 60 units, one quarter")
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run("sqlite", f"sqlite:///{tmp}/bench.db", args.rows))
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            asyncio.run(run("postgresql", url, args.rows))


if __name__ == "__main__":
    main()
