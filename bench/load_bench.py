"""Load: the admin API under 64 concurrent clients, and 2,000 citizens through the webhook.

1. 1,000,000 cases (SQLite); `asn-feedback api` as its own process; 64 clients for 60 s doing
   a supervisor's mix: 80% case lists with varied filters, 10% case details, 10% internal
   notes (writes that add an audit event). Errors, p50/p95/p99, requests per second.
2. `asn-feedback bot` in webhook mode; 2,000 citizens complete the survey concurrently
   (16 updates each, each citizen's updates in order, 200 citizens at a time): surveys stored
   vs started, and the time it took.

    python bench/load_bench.py [--cases N] [--seconds S] [--citizens N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from cases_bench import SCOPE, load
from common import postgres_database
from sqlmodel import Session, func, select

from core.masterdata.models import Unit
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from core.surveys.models import SurveyResponse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.bot_api_server import BotApiServer
from tests.botkit import survey_updates
from tests.processes import free_port, process_env, wait_http

SECRET = "load-bench-webhook-secret-0123456789"  # noqa: S105 (a local test secret)


async def api_load(base: str, seconds: float, clients: int = 64) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        r = await c.post("/auth/token", data={"username": "spv", "password": "benchmark-password"})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        first = (await c.get("/cases?limit=200", headers=headers)).json()["items"]
    case_ids = [item["id"] for item in first]
    queries = [
        "",
        "status=received",
        "status=in_progress&status=verified",
        "overdue=true",
        "sort=due",
        "category=pungli",
        "q=loket",
        f"unit=u{min(SCOPE)}&status=received",
        "received_from=2026-01-01&received_to=2026-01-31",
    ]
    latencies: list[float] = []
    errors: dict[int | str, int] = {}  # HTTP status, or the transport error's name
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as c:

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < stop_at:
                roll = rng.random()
                t0 = time.perf_counter()
                try:
                    if roll < 0.8:
                        r = await c.get(f"/cases?{rng.choice(queries)}", headers=headers)
                    elif roll < 0.9:
                        r = await c.get(f"/cases/{rng.choice(case_ids)}", headers=headers)
                    else:
                        r = await c.post(
                            f"/cases/{rng.choice(case_ids)}/notes",
                            headers=headers,
                            json={"body": "Dicek oleh pengawas."},
                        )
                except httpx.TransportError as exc:
                    name = type(exc).__name__
                    errors[name] = errors.get(name, 0) + 1
                    continue
                latencies.append(time.perf_counter() - t0)
                if r.status_code >= 300:
                    errors[r.status_code] = errors.get(r.status_code, 0) + 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - t0
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    print(
        f"  API, {clients} clients for {seconds:.0f} s: {len(latencies):,d} requests "
        f"({len(latencies) / elapsed:.0f}/s), errors {sum(errors.values())} {errors or ''}; "
        f"p50 {pct(50):.0f} ms, p95 {pct(95):.0f} ms, p99 {pct(99):.0f} ms"
    )


async def webhook_load(port: int, unit_id: int, citizens: int, engine: Any) -> None:
    ids = iter(range(10_000_000, 20_000_000))
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    gate = asyncio.Semaphore(200)
    refused = 0

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:

        async def citizen(n: int) -> None:
            nonlocal refused
            async with gate:
                for update in survey_updates(8_000_000 + n, unit_id):
                    r = await c.post(
                        "/telegram/webhook",
                        json={**update, "update_id": next(ids)},
                        headers=headers,
                    )
                    if r.status_code != 200:
                        refused += 1
                    # a person reads before tapping: let the bot answer the previous step
                    await asyncio.sleep(0.05)

        t0 = time.perf_counter()
        await asyncio.gather(*(citizen(n) for n in range(citizens)))
        sent = time.perf_counter() - t0
    stored = 0
    for _ in range(600):
        with Session(engine) as s:
            stored = int(s.exec(select(func.count()).select_from(SurveyResponse)).one())
        if stored >= citizens:
            break
        await asyncio.sleep(1)
    total = time.perf_counter() - t0
    print(
        f"  webhook: {citizens:,d} citizens, {16 * citizens:,d} updates sent in {sent:.0f} s "
        f"({refused} refused); surveys stored {stored:,d} of {citizens:,d} "
        f"({citizens - stored} lost) after {total:.0f} s"
    )


def run_api_part(url: str, label: str, cases: int, seconds: float, log: Path) -> None:
    print(f"{label}: loaded {cases:,d} cases in {load(url, cases):.0f} s")
    env = process_env(url, JWT_SECRET="l" * 48)
    port = free_port()
    with log.open("ab") as err:
        api = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "app", "api", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            asyncio.run(api_load(f"http://127.0.0.1:{port}/api", seconds))
        finally:
            api.send_signal(signal.SIGTERM)
            api.wait(30)


def run_webhook_part(tmp: str, citizens: int) -> None:
    url = f"sqlite:///{tmp}/hook.db"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s:
        unit = Unit(code="aaa-load", name="AAA Load Unit")
        s.add(unit)
        s.commit()
        unit_id = unit.id or 0
    server = BotApiServer().start()
    port = free_port()
    env = process_env(
        url,
        server,
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        BOT_PORT=str(port),
    )
    bot = subprocess.Popen(
        [sys.executable, "-m", "app", "bot"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        print("sqlite, `asn-feedback bot` in webhook mode:")
        asyncio.run(webhook_load(port, unit_id, citizens, engine))
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(60)
        server.stop()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "api.log"
        if args.engine in ("postgres", "both"):
            with postgres_database() as url:
                run_api_part(url, "postgresql", args.cases, args.seconds, log)
        if args.engine in ("sqlite", "both"):
            run_api_part(f"sqlite:///{tmp}/load.db", "sqlite", args.cases, args.seconds, log)
        run_webhook_part(tmp, args.citizens)
        errors = [line for line in log.read_text().splitlines() if "Error:" in line]
        print(f"  API server log: {len(errors)} error line(s) {sorted(set(errors))[:3]}")


if __name__ == "__main__":
    main()
