"""Run the API (uvicorn) and, with a token, the bot (polling) in one process and event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy.engine import Engine
from telegram.ext import Application

from admin_api import create_app
from app.scheduler import start_scheduler
from bot import build_application, set_bot_commands
from bot.attachments import sweep_forever
from bot.dispatcher import Dispatcher
from core.config import Settings

log = logging.getLogger("asn_feedback.serve")


async def start_bot(
    app: Application[Any, Any, Any, Any, Any, Any], poll_interval: float = 0.0
) -> None:
    """PTB's documented manual lifecycle (instead of run_polling, which owns the loop)."""
    await app.initialize()
    await set_bot_commands(app)
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=poll_interval, drop_pending_updates=False)
    await app.start()


async def stop_bot(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


async def serve(
    settings: Settings,
    engine: Engine,
    host: str,
    port: int,
    *,
    stop: asyncio.Event | None = None,
    poll_interval: float = 0.0,
    outbox_idle: float = 1.0,
    run_scheduler: bool = True,
) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's handlers) or until `stop` is set."""
    api = create_app(settings, engine)
    config = uvicorn.Config(api, host=host, port=port, log_level="info", lifespan="on")
    server = uvicorn.Server(config)
    watcher = asyncio.create_task(_exit_on(stop, server)) if stop is not None else None
    bot_app = None
    outbox_stop = asyncio.Event()
    outbox_task = None
    if settings.telegram_bot_token:
        bot_app = build_application(settings, engine)
        await start_bot(bot_app, poll_interval)
        log.info("bot is polling Telegram as @%s", bot_app.bot.username)
        dispatcher = Dispatcher(engine, bot_app.bot)
        outbox_task = asyncio.gather(
            dispatcher.run(outbox_stop, idle_seconds=outbox_idle),
            sweep_forever(
                bot_app.bot, engine, Path(settings.attachments_dir),
                settings.attachment_max_bytes, outbox_stop,
            ),
        )  # fmt: skip
    else:
        log.info("the bot is off: set TELEGRAM_BOT_TOKEN (from @BotFather) in .env to turn it on")
    scheduler = await start_scheduler(engine, settings) if run_scheduler else None
    try:
        await server.serve()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if watcher is not None:
            watcher.cancel()
        outbox_stop.set()
        if outbox_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(outbox_task, 10)
        if bot_app is not None:
            with contextlib.suppress(Exception):
                await stop_bot(bot_app)


async def _exit_on(stop: asyncio.Event, server: uvicorn.Server) -> None:
    await stop.wait()
    server.should_exit = True


def run(settings: Settings, engine: Engine, host: str, port: int) -> None:
    asyncio.run(serve(settings, engine, host, port))
