"""Benchmark: inbound messages per second through the whole survey path, WhatsApp against
Telegram, on the same machine and the same database.

Each citizen runs the whole survey (16 messages: a first message, language, consent, menu,
a unit, nine answers, no comment, no profile) through each channel's real webhook, posted
over ASGI one message after another (the next once the webhook said 200, so each citizen's
messages arrive in order), all citizens at once:

- Telegram: `bot.runtime.webhook_route` (the secret checked, the update stored, queued) and
  the real Application answering through an in-process Bot API (`LocalBotApi`);
- WhatsApp: `whatsapp.runtime.WhatsAppRuntime.route()` (the signature checked, the message
  stored, handed over) and the runtime answering through `GraphClient` with an in-process
  Graph API (an httpx MockTransport answering as the Cloud API does).

The time runs from the first POST until every message is handled and answered; every
survey must be stored. `--latency-ms` makes each call to the channel's API take that long
(a call from Kupang to Telegram or Meta), for a second pair of figures.

    python bench/whatsapp_bench.py [--engine sqlite|postgres|both] [--citizens N] [--rows N]
                                   [--latency-ms MS]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from bot_bench import load_rows
from common import postgres_database
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from bot import build_application
from bot.local_transport import LocalBotApi
from bot.runtime import SECRET_HEADER, BotRuntime, webhook_route
from core.policies import build
from core.shared.config import Settings, load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from whatsapp.graph import GraphClient
from whatsapp.runtime import WhatsAppRuntime

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.botkit import survey_updates

CONCURRENCY = 16
TG_SECRET = "bench-telegram-webhook-secret-0123"  # noqa: S105
WA_SECRET = "bench-whatsapp-app-secret-0123456"  # noqa: S105
WA_VERIFY = "bench-whatsapp-verify-token-0123"
PHONE_NUMBER_ID = "106540352242922"


def settings_for(url: str) -> Settings:
    return load_settings(
        database_url=url,
        environment="test",
        telegram_bot_token="1:bench",  # noqa: S106
        telegram_webhook_url="https://bench.example/telegram/webhook",
        telegram_webhook_secret=TG_SECRET,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_access_token="bench-token",  # noqa: S106
        whatsapp_app_secret=WA_SECRET,
        whatsapp_verify_token=WA_VERIFY,
        whatsapp_api_base_url="http://graph.invalid/v21.0",
        # The number's pacing is not what is measured (its default, 20/s, would be).
        whatsapp_messages_per_second=1000,
        bot_concurrent_updates=CONCURRENCY,
        _env_file=None,
    )


# -- what the citizens send ----------------------------------------------------------------


def telegram_posts(citizens: range, unit_id: int) -> list[list[tuple[bytes, dict[str, str]]]]:
    headers = {"Content-Type": "application/json", SECRET_HEADER: TG_SECRET}
    return [
        [
            (json.dumps(u).encode(), headers)
            for u in survey_updates(700_000 + c, unit_id, 20_000_000 + c * 100)
        ]
        for c in citizens
    ]


_WAMIDS = itertools.count(1)


def whatsapp_survey(number: str, unit_id: int) -> list[dict[str, Any]]:
    """The same 16 steps as `tests.botkit.survey_updates`, as WhatsApp messages."""
    steps = [
        "lang:id",
        "consent:yes",
        "m:rate",
        f"svy:u:{unit_id}",
        *[f"svy:a:{i}:3" for i in range(9)],
        "svy:c:skip",
        "svy:p:skip",
    ]
    base = {"from": number, "timestamp": "1764490000"}
    out: list[dict[str, Any]] = [
        {**base, "id": f"wamid.B{next(_WAMIDS)}", "type": "text", "text": {"body": "Halo"}}
    ]
    for data in steps:
        reply = {"type": "button_reply", "button_reply": {"id": data, "title": "x"}}
        out.append(
            {**base, "id": f"wamid.B{next(_WAMIDS)}", "type": "interactive", "interactive": reply}
        )
    return out


def whatsapp_posts(citizens: range, unit_id: int) -> list[list[tuple[bytes, dict[str, str]]]]:
    posts = []
    for c in citizens:
        number = f"62812{c:08d}"
        mine = []
        for message in whatsapp_survey(number, unit_id):
            value = {
                "messaging_product": "whatsapp",
                "metadata": {
                    "display_phone_number": "6281100000000",
                    "phone_number_id": PHONE_NUMBER_ID,
                },
                "contacts": [{"profile": {"name": "Warga"}, "wa_id": number}],
                "messages": [message],
            }
            body = {
                "object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
            }
            raw = json.dumps(body).encode()
            sig = "sha256=" + hmac.new(WA_SECRET.encode(), raw, hashlib.sha256).hexdigest()
            mine.append((raw, {"Content-Type": "application/json", "X-Hub-Signature-256": sig}))
        posts.append(mine)
    return posts


async def post_all(app: Any, path: str, posts: list[list[tuple[bytes, dict[str, str]]]]) -> None:
    """Every citizen at once, each one's messages one after another."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def citizen(mine: list[tuple[bytes, dict[str, str]]]) -> None:
            for raw, headers in mine:
                r = await client.post(path, content=raw, headers=headers)
                assert r.status_code == 200, (r.status_code, r.text)

        await asyncio.gather(*(citizen(m) for m in posts))


async def until(ready: Callable[[], bool]) -> None:
    while not ready():
        await asyncio.sleep(0.002)


def surveys(engine: Engine, channel: str) -> int:
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM survey_response WHERE channel = :c")
        return int(conn.execute(query, {"c": channel}).scalar_one())


# -- the two paths ---------------------------------------------------------------------------


async def telegram_path(
    settings: Settings,
    engine: Engine,
    posts: list[list[tuple[bytes, dict[str, str]]]],
    latency: float,
) -> float:
    app = build_application(settings, engine, request=LocalBotApi(latency=latency))
    await app.initialize()
    await app.start()
    runtime = BotRuntime(app, engine, settings)
    web = Starlette(routes=[webhook_route(runtime)])
    t0 = time.perf_counter()
    await post_all(web, settings.webhook_path, posts)
    await until(lambda: runtime.backlog == 0)
    elapsed = time.perf_counter() - t0
    await app.stop()
    await app.shutdown()
    return elapsed


def graph_transport(latency: float) -> httpx.MockTransport:
    ids = itertools.count(1)

    async def answer(request: httpx.Request) -> httpx.Response:
        if latency:
            await asyncio.sleep(latency)
        to = json.loads(request.content).get("to", "")
        body = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": f"wamid.OUT{next(ids)}"}],
        }
        return httpx.Response(200, json=body)

    return httpx.MockTransport(answer)


async def whatsapp_path(
    settings: Settings,
    engine: Engine,
    posts: list[list[tuple[bytes, dict[str, str]]]],
    latency: float,
) -> float:
    policies = build(settings, engine)
    async with httpx.AsyncClient(transport=graph_transport(latency)) as http:
        client = GraphClient(settings.whatsapp_api_base_url, PHONE_NUMBER_ID, "bench-token", http)
        runtime = WhatsAppRuntime(policies, client)
        await runtime.start()
        web = Starlette(routes=[runtime.route()])
        t0 = time.perf_counter()
        await post_all(web, settings.whatsapp_webhook_path, posts)
        await runtime.until(lambda: runtime.in_hand == 0)
        elapsed = time.perf_counter() - t0
        await runtime.stop()
    return elapsed


async def compare(url: str, citizens: int, rows: int, latencies: list[float]) -> None:
    upgrade(url)
    engine = make_engine(url)
    unit_id = load_rows(engine, rows)
    settings = settings_for(url)
    n = citizens * 16
    start = 0
    for latency in latencies:
        group = range(start, start + citizens)
        start += citizens
        figures = []
        for name, channel, path, make in (
            ("Telegram", "telegram", telegram_path, telegram_posts),
            ("WhatsApp", "whatsapp", whatsapp_path, whatsapp_posts),
        ):
            posts = make(group, unit_id)
            before = surveys(engine, channel)
            elapsed = await path(settings, engine, posts, latency)
            done = surveys(engine, channel) - before
            assert done == citizens, f"{name}: {done} surveys stored, expected {citizens}"
            figures.append(f"{name} {n / elapsed:.0f} messages/s ({elapsed:.2f} s)")
        print(
            f"  {n:,d} messages ({citizens} whole surveys per channel, all stored) over"
            f" {rows:,d} rows, {latency * 1000:.0f} ms per API call: " + "; ".join(figures)
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    latencies = [0.0] + ([args.latency_ms / 1000] if args.latency_ms > 0 else [])
    print(
        f"WhatsApp vs Telegram: inbound messages/s through the whole survey path (webhook,"
        f" store, handle, answer), {CONCURRENCY} conversations handled at once"
    )
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print("sqlite:")
            asyncio.run(compare(f"sqlite:///{tmp}/bench.db", args.citizens, args.rows, latencies))
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            print("postgresql:")
            asyncio.run(compare(url, args.citizens, args.rows, latencies))


if __name__ == "__main__":
    main()
