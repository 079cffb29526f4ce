"""Benchmark: the staff console over 1,000,000 cases, on SQLite and PostgreSQL.

1. Loads N cases (default 1,000,000) with two events each over 60 units and two years
   (`cases_bench.load`: the same data as the case list benchmark).
2. Signs in as a supervisor of five units through the console's login form and the API's
   token route, then times, in process (the site's ASGI app, no network), a few hundred
   requests each: the inbox `GET /staff/` over its views and searches, a case page
   `GET /staff/cases/<ref>`, and the JSON list `GET /api/cases` with the same filters as the
   inbox views (the floor, on the same data in the same run): p50 and p95 of each.
3. The first load of the inbox: HTML + CSS + JS, each gzip-compressed (level 6, as a
   reverse proxy sends them; the app itself does not compress), in KB.

    python bench/console_bench.py [--rows N] [--engine sqlite|postgres|both] [--requests R]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cases_bench import SCOPE, load
from common import postgres_database
from sqlalchemy import bindparam, func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.site import create_site
from core.access import Actor, visible_cases_clause
from core.cases.models import Case
from core.cases.queries import (
    VIEW_SORT,
    CaseFilter,
    count_views,
    list_cases,
    view_conditions,
    views_for,
)
from core.people.models import Role
from core.policies import build
from core.shared.config import load_settings
from core.shared.db import make_engine

PASSWORD = "benchmark-password"  # noqa: S105 (cases_bench.load's supervisor `spv`)
BUDGET_MS = 100.0  # the bar: p95 < 100 ms server-side
BUDGET_KB = 150.0  # and the inbox's first load < 150 KB compressed
# The inbox's views with the JSON list's equivalent filters (the same statuses and sort).
VIEWS = {
    "verify": "status=received&sort=due",
    "overdue": "status=received&status=verified&status=in_progress&overdue=true&sort=due",
    "handling": "status=verified&status=in_progress&sort=due",
    "waiting": "status=waiting_citizen&sort=newest",
    "rating": "status=resolved&sort=newest",
    "all": "sort=newest",
}
SEARCHES = ("loket", "pungutan", "berkas hilang")


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def _sign_in(client: httpx.AsyncClient) -> str:
    """Console session cookie in `client`; returns the API's bearer token."""
    page = await client.get("/staff/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None, "the login form has no CSRF field"
    signed = await client.post(
        "/staff/login",
        data={"username": "spv", "password": PASSWORD, "csrf": token.group(1), "next": "/staff/"},
    )
    assert signed.status_code == 303, signed.text[:300]
    api = await client.post("/api/auth/token", data={"username": "spv", "password": PASSWORD})
    assert api.status_code == 200, api.text[:300]
    return str(api.json()["access_token"])


async def _time(
    client: httpx.AsyncClient, paths: list[str], headers: dict[str, str]
) -> list[float]:
    await client.get(paths[0], headers=headers)  # warm-up
    timings = []
    for path in paths:
        t0 = time.perf_counter()
        response = await client.get(path, headers=headers)
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return timings


def _visible_references(url: str, rng: random.Random, count: int) -> list[str]:
    """References of cases the supervisor may open (their five units; supervisors see
    `rahasia` ones too), sampled over the whole table."""
    engine = make_engine(url)
    with engine.connect() as conn:
        top = int(conn.execute(text("SELECT max(id) FROM cases")).scalar_one())
        refs: list[str] = []
        while len(refs) < count:
            ids = [rng.randrange(1, top + 1) for _ in range(200)]
            query = text("SELECT reference, unit_id FROM cases WHERE id IN :ids")
            query = query.bindparams(bindparam("ids", expanding=True))
            rows = conn.execute(query, {"ids": ids}).all()
            refs.extend(ref for ref, unit in rows if unit in SCOPE)
    engine.dispose()
    return refs[:count]


async def _first_load(client: httpx.AsyncClient) -> tuple[float, float, list[str]]:
    """Raw and gzip-compressed KB of the inbox page and every asset it loads."""
    page = await client.get("/staff/")
    html = page.content
    assets = re.findall(r'(?:href|src)="(/staff/static/[^"]+)"', page.text)
    raw, packed = len(html), len(gzip.compress(html, 6))
    lines = [f"      HTML /staff/: {len(html) / 1024:.1f} KB, gzip {packed / 1024:.1f} KB"]
    for asset in assets:
        body = (await client.get(asset)).content
        size = len(gzip.compress(body, 6))
        raw += len(body)
        packed += size
        lines.append(f"      {asset}: {len(body) / 1024:.1f} KB, gzip {size / 1024:.1f} KB")
    return raw / 1024, packed / 1024, lines


async def measure(url: str, requests: int) -> None:
    settings = load_settings(database_url=url, environment="test", _env_file=None)
    engine = make_engine(url)
    site = create_site(build(settings, engine))
    rng = random.Random(13)
    transport = httpx.ASGITransport(app=site)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        token = await _sign_in(client)
        bearer = {"Authorization": f"Bearer {token}"}
        inbox, api = [], []
        for _ in range(requests):
            view = rng.choice(list(VIEWS))
            if rng.random() < 0.15:
                q = rng.choice(SEARCHES)
                inbox.append(f"/staff/?view={view}&q={q}")
                api.append(f"/api/cases?{VIEWS[view]}&q={q}&limit=50")
            else:
                inbox.append(f"/staff/?view={view}")
                api.append(f"/api/cases?{VIEWS[view]}&limit=50")
        refs = _visible_references(url, rng, requests)
        cases = [f"/staff/cases/{ref}" for ref in refs]
        results = {
            "GET /staff/ (inbox)": await _time(client, inbox, {}),
            "GET /staff/cases/<ref>": await _time(client, cases, {}),
            "GET /api/cases (JSON, same filters)": await _time(client, api, bearer),
        }
        for name, timings in results.items():
            p95 = _pct(timings, 95)
            verdict = "ok" if name.startswith("GET /api") or p95 < BUDGET_MS else "OVER"
            print(
                f"    {name:38s} n={len(timings):4d}  p50={_pct(timings, 50):6.1f} ms  "
                f"p95={p95:6.1f} ms  max={max(timings):6.1f} ms  [{verdict}]"
            )
        per_view: dict[str, list[float]] = {}
        for path, ms in zip(inbox, results["GET /staff/ (inbox)"], strict=True):
            key = path.split("view=")[1].split("&")[0] + (" +q" if "&q=" in path else "")
            per_view.setdefault(key, []).append(ms)
        views = sorted(per_view.items())
        print(
            "    inbox by view: "
            + ", ".join(f"{k} p50 {_pct(v, 50):.0f}/p95 {_pct(v, 95):.0f} ms" for k, v in views)
        )
        raw, packed, lines = await _first_load(client)
        verdict = "ok" if packed < BUDGET_KB else "OVER"
        print(
            f"    first load of the inbox: {raw:.1f} KB, gzip-compressed {packed:.1f} KB "
            f"[{verdict}, bar {BUDGET_KB:.0f} KB]"
        )
        print("\n".join(lines))
    engine.dispose()


def _median_ms(step: object, times: int = 5) -> float:
    assert callable(step)
    step()
    timings = []
    for _ in range(times):
        t0 = time.perf_counter()
        step()
        timings.append((time.perf_counter() - t0) * 1000)
    return _pct(timings, 50)


def breakdown(url: str) -> None:
    """Where the inbox's time goes: core's count of every view (one statement), each
    view's count alone, and each view's first page, without and with a search word."""
    settings = load_settings(database_url=url, environment="test", _env_file=None)
    engine = make_engine(url)
    actor = Actor(1, "spv", Role.supervisor, SCOPE)
    tz, now = settings.tz, build(settings, engine).now()
    with Session(engine) as session:
        for word in (None, "loket"):
            filters = CaseFilter(text=word)
            every = _median_ms(
                lambda filters=filters: count_views(session, filters, tz, actor=actor, now=now)
            )
            where = visible_cases_clause(actor=actor)
            if word:
                where.append(func.lower(Case.description).like(f"%{word}%"))
            parts = []
            for view in views_for(actor=actor):
                one = sa_select(func.count()).select_from(Case)
                one = one.where(*where, *view_conditions(view, actor=actor, now=now))
                count_ms = _median_ms(lambda one=one: session.execute(one).scalar())
                page_ms = _median_ms(
                    lambda view=view, filters=filters: list_cases(
                        session, filters, tz, actor=actor, view=view,
                        sort=VIEW_SORT[view], limit=50, now=now,
                    )
                )  # fmt: skip
                parts.append(f"{view.value} {count_ms:.0f}+{page_ms:.0f}")
            label = f"q={word!r}" if word else "no search"
            print(
                f"    core, {label}: count_views {every:.0f} ms; per view count+page ms: "
                + ", ".join(parts)
            )
    engine.dispose()


def _run(label: str, url: str, rows: int, requests: int) -> None:
    print(f"  {label}: loaded in {load(url, rows):.0f} s")
    if label == "postgresql":  # as autovacuum would have done: index-only scans need it
        admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("VACUUM ANALYZE cases"))
            conn.execute(text("VACUUM ANALYZE case_event"))
        admin.dispose()
    asyncio.run(measure(url, requests))
    breakdown(url)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(
        f"Console benchmark: {args.rows:,d} cases, {2 * args.rows:,d} events, 60 units; "
        f"a supervisor of {len(SCOPE)} units; {args.requests} requests per route, "
        f"server-side (in process), bar p95 < {BUDGET_MS:.0f} ms"
    )
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            _run("sqlite", f"sqlite:///{tmp}/bench.db", args.rows, args.requests)
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            _run("postgresql", url, args.rows, args.requests)


if __name__ == "__main__":
    main()
