"""Process wiring: everything in one process (`serve`), or the bot on its own (`bot`).

In one process the API (uvicorn), the bot (polling, or a webhook route on the same server),
the outbox dispatcher, the photo sweep and the scheduler share one event loop, and one
`Policies` (settings, engine, policies, clock) built once by the command (app/cli.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.asgi import KEEP_ALIVE_SECONDS
from app.scheduler import start_scheduler
from app.site import create_site
from bot import build_application
from bot.attachments import sweep_forever
from bot.dispatcher import TelegramSender
from bot.runtime import BotRuntime, webhook_route
from core.outbox.dispatch import Dispatcher, DispatchLimits, Sender
from core.people.models import Channel
from core.policies import Policies
from core.shared.config import Settings

log = logging.getLogger("asn_feedback.serve")


async def _exit_on(stop: asyncio.Event, server: uvicorn.Server) -> None:
    await stop.wait()
    server.should_exit = True


def site_config(app: Any, host: str, port: int, workers: int = 1) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # X-Forwarded-For only from TRUSTED_PROXIES (core.people.login_limits)
        proxy_headers=False,
    )


def listeners(host: str, port: int, staff_port: int) -> list[socket.socket]:
    """The public listener, and the staff listener when STAFF_PORT is set (app/site.py)."""
    if staff_port == port:
        raise ValueError(
            f"STAFF_PORT ({staff_port}) must differ from the public port: on one port the"
            " staff console would be public"
        )
    ports = [port] if not staff_port else [port, staff_port]
    return [_bind(host, p) for p in ports]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def dispatch_limits(settings: Settings) -> DispatchLimits:
    return DispatchLimits(lease=timedelta(seconds=settings.outbox_lease_seconds))


@contextlib.asynccontextmanager
async def bot_services(policies: Policies) -> AsyncIterator[BotRuntime]:
    """The bot runtime and its photo sweep, started and stopped."""
    settings, engine = policies.settings, policies.engine
    runtime = BotRuntime(build_application(policies), engine, settings)
    await runtime.start()
    stop = asyncio.Event()
    sweep = asyncio.ensure_future(
        sweep_forever(
            runtime.app.bot,
            engine,
            Path(settings.attachments_dir),
            settings.attachment_max_bytes,
            stop,
        )
    )
    try:
        yield runtime
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sweep, 10)
        await runtime.stop()


@contextlib.asynccontextmanager
async def dispatching(
    policies: Policies, senders: Mapping[Channel, Sender], outbox_idle: float = 1.0
) -> AsyncIterator[Dispatcher]:
    """The outbox dispatcher over the configured channels (none configured: it still runs,
    and messages wait until their channel is)."""
    limits = dispatch_limits(policies.settings)
    dispatcher = Dispatcher(policies.engine, senders, limits, clock=policies.clock)
    stop = asyncio.Event()
    task = asyncio.ensure_future(dispatcher.run(stop, idle_seconds=outbox_idle))
    try:
        yield dispatcher
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


async def serve(
    policies: Policies,
    host: str,
    port: int,
    *,
    stop: asyncio.Event | None = None,
    outbox_idle: float = 1.0,
    run_scheduler: bool = True,
) -> None:
    """API + bot + dispatcher + scheduler until SIGINT/SIGTERM or until `stop` is set."""
    settings = policies.settings
    site = create_site(policies)
    server = uvicorn.Server(site_config(site, host, port))
    watcher = asyncio.create_task(_exit_on(stop, server)) if stop is not None else None
    scheduler = await start_scheduler(policies) if run_scheduler else None
    async with contextlib.AsyncExitStack() as stack:
        senders: dict[Channel, Sender] = {}
        if settings.telegram_bot_token:
            runtime = await stack.enter_async_context(bot_services(policies))
            senders[Channel.telegram] = TelegramSender(runtime.app.bot)
            if runtime.webhook:
                site.add_public_route(webhook_route(runtime))
        else:
            log.info(
                "the bot is off: set TELEGRAM_BOT_TOKEN (from @BotFather) in .env to turn it on"
            )
        await stack.enter_async_context(dispatching(policies, senders, outbox_idle))
        try:
            await server.serve(sockets=listeners(host, port, settings.staff_port))
        finally:
            if watcher is not None:
                watcher.cancel()
            if scheduler is not None:
                scheduler.shutdown(wait=False)


async def run_bot(policies: Policies, stop: asyncio.Event) -> None:
    """`asn-feedback bot`: polling, or a small webhook server on BOT_HOST:BOT_PORT."""
    settings = policies.settings
    async with contextlib.AsyncExitStack() as stack:
        runtime = await stack.enter_async_context(bot_services(policies))
        senders: dict[Channel, Sender] = {Channel.telegram: TelegramSender(runtime.app.bot)}
        await stack.enter_async_context(dispatching(policies, senders))
        if not runtime.webhook:
            await stop.wait()
            return

        async def healthz(_: object) -> JSONResponse:
            return JSONResponse({"status": "ok"})

        web = Starlette(routes=[webhook_route(runtime), Route("/healthz", healthz)])
        config = uvicorn.Config(
            web,
            host=settings.bot_host,
            port=settings.bot_port,
            log_level="warning",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        server = uvicorn.Server(config)
        watcher = asyncio.create_task(_exit_on(stop, server))
        try:
            await server.serve()
        finally:
            watcher.cancel()


def run(policies: Policies, host: str, port: int) -> None:
    asyncio.run(serve(policies, host, port))
