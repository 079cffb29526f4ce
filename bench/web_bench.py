"""Benchmark: complete surveys per second through the public web form, against the bot's
survey path (bench/bot_bench.py) on the same machine, in the same run, on the same database.

With `--rows` survey responses in the database (1,000,000 by default), `--citizens`
citizens each rate the unit through the web form: GET the unit's page (the nine questions;
the unit has no services to choose), POST the answers, POST the comment page, follow the
redirect to the thank-you page: four requests, all through the whole site (RequestGuard,
gzip, the device cookie, the form stamp), `CONCURRENCY` citizens at once, over
httpx's in-process ASGI transport. In the same run, the same number of citizens take the
bot's whole survey (16 updates each) through the real Application, chats handled
concurrently as the bot's runtime feeds them (bot_bench's "queued" figure). Floors: a bare
endpoint of the same site (GET /healthz) and the echo bot.

    python bench/web_bench.py [--engine sqlite|postgres|both] [--citizens N] [--rows N]
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
from typing import Any

import httpx
from bot_bench import CONCURRENCY, echo_floor, interleaved, load_rows, run_queued
from common import postgres_database
from sqlalchemy import text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.site import create_site
from bot import build_application
from bot.local_transport import LocalBotApi
from core.policies import build
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
ANSWERS = {f"a{n}": str(1 + n % 4) for n in range(1, 10)}


def hidden(page: str) -> dict[str, str]:
    return dict(_HIDDEN.findall(page))


def stored(engine: Engine, channel: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM survey_response WHERE channel = :c"), {"c": channel}
            ).scalar_one()
        )


async def one_web_survey(app: Any, code: str) -> list[float]:
    """One citizen (their own device cookie) through every page; each request's time."""
    times = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def timed(method: str, url: str, **kw: Any) -> httpx.Response:
            started = time.perf_counter()
            response = await client.request(method, url, **kw)
            times.append(time.perf_counter() - started)
            assert response.status_code in (200, 303), (url, response.status_code)
            return response

        page = await timed("GET", f"/nilai/{code}")
        questions = await timed(
            "POST", f"/nilai/{code}/pertanyaan", data={**hidden(page.text), **ANSWERS}
        )
        done = await timed(
            "POST", f"/nilai/{code}/kirim", data={**hidden(questions.text), "sex": "perempuan"}
        )
        assert done.status_code == 303, done.text[:300]
        await timed("GET", done.headers["location"])
    return times


async def web_surveys(app: Any, code: str, citizens: int) -> tuple[float, list[float]]:
    """`citizens` surveys, CONCURRENCY at a time: seconds in all, and every request's time."""
    gate = asyncio.Semaphore(CONCURRENCY)
    times: list[float] = []

    async def citizen() -> None:
        async with gate:
            times.extend(await one_web_survey(app, code))

    started = time.perf_counter()
    await asyncio.gather(*(citizen() for _ in range(citizens)))
    return time.perf_counter() - started, times


async def bare_floor(app: Any, requests: int) -> float:
    """Requests per second of GET /healthz through the same site, CONCURRENCY at once."""
    transport = httpx.ASGITransport(app=app)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def one() -> None:
            async with gate:
                assert (await client.get("/healthz")).status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
        return requests / (time.perf_counter() - started)


async def compare(url: str, citizens: int, rows: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    unit_id = load_rows(engine, rows)
    settings = load_settings(
        database_url=url,
        environment="test",
        telegram_bot_token="1:bench",  # noqa: S106
        bot_concurrent_updates=CONCURRENCY,
        web_min_fill_seconds=0,
        web_posts_per_minute=100_000,
        _env_file=None,
    )
    # The bot: the same citizens' whole surveys, queued as its runtime feeds them.
    updates = interleaved(range(citizens), unit_id)
    app = build_application(settings, engine, request=LocalBotApi())
    await app.initialize()
    bot_seconds = await run_queued(app, updates)
    await app.shutdown()
    _, echo_queued = await echo_floor(updates)
    assert stored(engine, "telegram") == citizens
    # The web form.
    site = create_site(build(settings, engine))
    web_seconds, times = await web_surveys(site, "aaa-bench", citizens)
    assert stored(engine, "web") == citizens, stored(engine, "web")
    floor = await bare_floor(site, 4 * citizens)
    times.sort()
    p50 = statistics.median(times) * 1000
    p99 = times[int(0.99 * (len(times) - 1))] * 1000
    web_rate, bot_rate = citizens / web_seconds, citizens / bot_seconds
    print(
        f"  {citizens} complete surveys each way, {CONCURRENCY} citizens at once, over "
        f"{rows:,d} rows:\n"
        f"    web form: {web_rate:.1f} surveys/s ({4 * citizens / web_seconds:.0f} requests/s; "
        f"bare endpoint floor {floor:.0f} requests/s); p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"per request\n"
        f"    bot:      {bot_rate:.1f} surveys/s ({len(updates) / bot_seconds:.0f} updates/s; "
        f"echo floor {echo_queued:.0f} updates/s)\n"
        f"    web / bot: {web_rate / bot_rate:.2f}x "
        f"({'meets' if web_rate >= bot_rate else 'BELOW'} the bar: at least the bot's rate)"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"Web form benchmark: {args.citizens} surveys, {args.rows:,d} survey rows")
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print("sqlite:")
            asyncio.run(compare(f"sqlite:///{tmp}/bench.db", args.citizens, args.rows))
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            print("postgresql:")
            asyncio.run(compare(url, args.citizens, args.rows))


if __name__ == "__main__":
    main()
