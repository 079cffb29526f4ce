"""Process wiring: everything in one process (`serve`), or the bot on its own (`bot`).

In one process the API (uvicorn), the bot (polling, or a webhook route on the same server),
the outbox dispatcher, the photo sweep and the scheduler share one event loop, and one
`Policies` (settings, engine, policies, clock) built once by the command (app/cli.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator, Callable, Collection, Mapping
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
from mail.sender import EmailSender
from whatsapp.runtime import whatsapp_services
from whatsapp.sender import WhatsAppSender

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


class ListenError(Exception):
    """A listener could not be opened; the message names the port (or address) and the
    setting that chooses another."""


class ListeningServer(uvicorn.Server):
    """uvicorn's server that calls `on_listening` once its listeners accept connections (so
    the URLs printed by `serve` and `api` work when they appear)."""

    def __init__(
        self, config: uvicorn.Config, on_listening: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self.on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.on_listening is not None:
            self.on_listening()


# How an operator chooses another port for each listener: command-line option, setting.
Knobs = tuple[str | None, str]
PUBLIC_PORT_KNOBS: Knobs = ("--port", "API_PORT")
STAFF_PORT_KNOBS: Knobs = (None, "STAFF_PORT")
BOT_PORT_KNOBS: Knobs = (None, "BOT_PORT")


def listeners(host: str, port: int, staff_port: int) -> list[socket.socket]:
    """The public listener, and the staff listener when STAFF_PORT is set (app/site.py).
    ListenError says which port could not be had and how to choose another."""
    if staff_port == port:
        raise ValueError(
            f"STAFF_PORT ({staff_port}) must differ from the public port: on one port the"
            " staff console would be public"
        )
    wanted = [(port, PUBLIC_PORT_KNOBS)]
    if staff_port:
        wanted.append((staff_port, STAFF_PORT_KNOBS))
    sockets: list[socket.socket] = []
    try:
        for number, knobs in wanted:
            sockets.append(bind(host, number, knobs, avoid={port, staff_port}))
    except ListenError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def bind(
    host: str,
    port: int,
    knobs: Knobs = PUBLIC_PORT_KNOBS,
    avoid: Collection[int] = (),
) -> socket.socket:
    """A socket bound to host:port (uvicorn listens on it), or ListenError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(_cannot_listen(host, port, knobs, avoid, exc)) from None
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _cannot_listen(host: str, port: int, knobs: Knobs, avoid: Collection[int], exc: OSError) -> str:
    option, setting = knobs
    if exc.errno == errno.EADDRINUSE:
        free = _free_port_near(host, port, avoid)
        how = f"{setting}={free} in .env" if free else f"{setting} in .env"
        if option:
            how = f"`{option} {free or 'PORT'}`, or " + how
        zero = " (0: the staff console on the public port)" if setting == "STAFF_PORT" else ""
        which = f"port {port}" if option else f"{setting} {port}"
        return (
            f"{which} on {host} is taken: another program listens there"
            f" (perhaps asn-feedback already runs; `ss -ltnp 'sport = :{port}'` shows which)."
            f" Stop it, or choose another port: {how}{zero}"
        )
    if exc.errno == errno.EACCES:
        return (
            f"port {port} needs root (ports below 1024): choose one from 1024 up"
            f" ({f'{option} or ' if option else ''}{setting}) behind a reverse proxy"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        knob = "BOT_HOST" if setting == "BOT_PORT" else "API_HOST, or --host"
        return f"{host} is not an address of this machine: choose another ({knob})"
    return f"cannot listen on {host}:{port} ({setting}): {exc.strerror or exc}"


def _free_port_near(host: str, port: int, avoid: Collection[int]) -> int | None:
    """A port just above `port` that nothing listens on now (a suggestion, not a promise)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in range(port + 1, min(port + 50, 65536)):
        if candidate in avoid:
            continue
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return None


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
    sockets: list[socket.socket] | None = None,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """API + bot + dispatcher + scheduler until SIGINT/SIGTERM or until `stop` is set.

    The listeners are opened first (`sockets`, or here: ListenError before anything starts);
    `on_listening` is called once they accept connections."""
    settings = policies.settings
    if sockets is None:
        sockets = listeners(host, port, settings.staff_port)
    site = create_site(policies)
    server = ListeningServer(site_config(site, host, port), on_listening)
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
        if settings.smtp_host:
            senders[Channel.email] = EmailSender.from_settings(settings)
        else:
            log.info("e-mail is off: set SMTP_HOST and SMTP_FROM in .env to turn it on")
        if settings.whatsapp_phone_number_id:
            wa = await stack.enter_async_context(whatsapp_services(policies))
            site.add_public_route(wa.route())
            senders[Channel.whatsapp] = WhatsAppSender(
                policies.engine, wa.client, settings, clock=policies.clock
            )
        await stack.enter_async_context(dispatching(policies, senders, outbox_idle))
        try:
            await server.serve(sockets=sockets)
        finally:
            for sock in sockets:
                sock.close()
            if watcher is not None:
                watcher.cancel()
            if scheduler is not None:
                scheduler.shutdown(wait=False)


async def run_bot(policies: Policies, stop: asyncio.Event) -> None:
    """`asn-feedback bot`: polling, or a small webhook server on BOT_HOST:BOT_PORT (bound
    first: ListenError before the bot starts)."""
    settings = policies.settings
    sockets: list[socket.socket] = []
    if settings.telegram_webhook_url:
        sockets.append(bind(settings.bot_host, settings.bot_port, BOT_PORT_KNOBS))
    async with contextlib.AsyncExitStack() as stack:
        for sock in sockets:
            stack.callback(sock.close)
        runtime = await stack.enter_async_context(bot_services(policies))
        senders: dict[Channel, Sender] = {Channel.telegram: TelegramSender(runtime.app.bot)}
        if settings.smtp_host:
            senders[Channel.email] = EmailSender.from_settings(settings)
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
            await server.serve(sockets=sockets)
        finally:
            watcher.cancel()


def run(
    policies: Policies,
    host: str,
    port: int,
    *,
    sockets: list[socket.socket] | None = None,
    on_listening: Callable[[], None] | None = None,
) -> None:
    asyncio.run(serve(policies, host, port, sockets=sockets, on_listening=on_listening))
