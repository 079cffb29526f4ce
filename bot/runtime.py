"""Running the bot: polling or webhook, with every update stored before it is acknowledged.

Polling: our own loop calls getUpdates and stores the batch before the next call moves the
offset (which is how Telegram learns they arrived). Webhook: the route stores the update,
then answers 200. Either way the update goes on the Application's queue; handling claims its
id (`processed_message`) in the same transaction as its effects, so stored-but-unhandled
updates are replayed at the next start and nothing acknowledged is lost or done twice.
Updates are stored without names (`bot.inbox.strip_personal`) and the bot handles that
stored copy, so live handling and a replay see the same thing; handling deletes the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update, User
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.application import set_bot_commands
from bot.dispatcher import retry_after_seconds
from bot.inbox import store_updates, unprocessed_updates
from bot.ordering import ChatOrderedProcessor
from core.masterdata.bot_identity import record_bot_identity
from core.shared.config import Settings
from core.shared.db import session_scope

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
POLL_TIMEOUT = 10
# Updates queued or in hand before the runtime stops taking more: Telegram keeps the rest
# (24 hours) and the database already holds what was taken, so memory stays flat however
# large a burst or a backlog after an outage is.
MAX_BACKLOG = 500
# Requests Telegram may have open to the webhook at once (its default, stated): each one
# waits for room before it stores, so a webhook backlog stays under MAX_BACKLOG + this.
WEBHOOK_MAX_CONNECTIONS = 40
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)

App = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class BotRuntime:
    app: App
    engine: Engine
    settings: Settings
    stop_polling: asyncio.Event = field(default_factory=asyncio.Event)
    poller: asyncio.Task[None] | None = None

    @property
    def webhook(self) -> bool:
        return bool(self.settings.telegram_webhook_url)

    async def start(self) -> None:
        """Initialize, replay what was stored but not handled, then poll or set the webhook."""
        await self.app.initialize()  # asks Telegram who the bot is (getMe)
        await asyncio.to_thread(record_identity, self.engine, self.app.bot.bot)
        await set_bot_commands(self.app)
        await self.app.start()
        replay = await asyncio.to_thread(unprocessed_updates, self.engine)
        for raw in replay:
            await self.room()
            await self.app.update_queue.put(Update.de_json(raw, self.app.bot))
        if replay:
            log.info("replaying %d stored update(s) not handled before the last stop", len(replay))
        if self.webhook:
            await self.app.bot.set_webhook(
                url=self.settings.telegram_webhook_url,
                secret_token=self.settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
                max_connections=WEBHOOK_MAX_CONNECTIONS,
            )
            log.info("webhook set: %s", self.settings.telegram_webhook_url)
        else:
            await self.app.bot.delete_webhook()
            self.poller = asyncio.create_task(self._poll())
            log.info("polling Telegram as @%s", self.app.bot.username)

    @property
    def backlog(self) -> int:
        processor = self.app.update_processor
        in_hand = processor.in_hand if isinstance(processor, ChatOrderedProcessor) else 0
        return self.app.update_queue.qsize() + in_hand

    async def room(self) -> None:
        """Wait until the backlog is below MAX_BACKLOG."""
        await self._until(lambda: self.backlog < MAX_BACKLOG)

    async def _until(self, ready: Callable[[], bool]) -> None:
        processor = self.app.update_processor
        if isinstance(processor, ChatOrderedProcessor):
            await processor.until(ready)  # woken when an update finishes
            return
        while not ready():  # another processor (not used by the bot): look again now and then
            await asyncio.sleep(0.02)

    async def enqueue(self, raws: list[dict[str, Any]]) -> None:
        await self.room()
        fresh = await asyncio.to_thread(store_updates, self.engine, raws)
        for raw in fresh:
            await self.app.update_queue.put(Update.de_json(raw, self.app.bot))

    async def _poll(self) -> None:
        offset: int | None = None
        backoff = 1.0
        while not self.stop_polling.is_set():
            try:
                updates = await self.app.bot.get_updates(
                    offset=offset,
                    timeout=POLL_TIMEOUT,
                    allowed_updates=ALLOWED_UPDATES,
                    read_timeout=POLL_TIMEOUT + 10,
                )
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except (NetworkError, TimedOut) as exc:
                log.warning("getUpdates failed (%s); retrying in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60)
                continue
            backoff = 1.0
            if not updates:
                continue
            await self.enqueue([u.to_dict() for u in updates])  # stored before the next offset
            offset = updates[-1].update_id + 1

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Stop taking updates, let the queue and the updates in hand drain (for at most
        `drain_seconds`), then stop the Application."""
        self.stop_polling.set()
        if self.poller is not None:
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller
        if self.app.running:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(drain_seconds):
                    await self._until(lambda: self.backlog == 0)
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()


def record_identity(engine: Engine, me: User) -> None:
    """Record who getMe says the bot is, for the QR cards (core.masterdata.bot_identity):
    they are printed only for the bot that really runs on this database."""
    if not me.username:
        log.warning("getMe gave no username; QR cards cannot be checked against it")
        return
    with session_scope(engine, write=True) as session:
        record_bot_identity(session, me.id, me.username, me.first_name)
    log.info("recorded the bot's identity: @%s (id %d)", me.username, me.id)


def webhook_route(runtime: BotRuntime) -> Route:
    """POST <webhook path>: 403 without the secret; otherwise store, queue, answer 200."""
    secret = runtime.settings.telegram_webhook_secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secret or not hmac.compare_digest(given, secret):
            return Response(status_code=403)
        try:
            raw = await request.json()
        except ValueError:
            return Response(status_code=400)
        if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
            return Response(status_code=400)
        await runtime.enqueue([raw])
        return Response(status_code=200)

    return Route(runtime.settings.webhook_path, receive, methods=["POST"])
