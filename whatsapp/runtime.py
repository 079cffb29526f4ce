"""Handling stored WhatsApp messages: in order per citizen, exactly once, replayed after a
crash, answered through the Graph API.

The webhook stores each message before Meta hears 200 (`whatsapp.webhook`), then hands the
fresh ones here. Each becomes a `conversations.engine.Inbound` and goes through
`conversations.flow.handle` in one write transaction, with `core.chat.window.note_inbound`
(the 24-hour window); handling claims the wamid and deletes the stored copy in that
transaction, so whatever was stored and not handled when the process stopped is replayed at
the next start (`core.chat.inbox.unprocessed`), and a message delivered twice is handled once.

A citizen's messages are handled one after another in arrival order (a per-citizen lock
taken in arrival order: asyncio locks are first come, first served), different citizens'
at the same time (at most `bot_concurrent_updates` in the database at once). The answer
(`whatsapp.render.render_outcome`) is sent payload by payload in order; rate limits (429,
codes 130429/131056/80007), conflicts (409), WhatsApp's 5xx and network failures are
retried with backoff (Retry-After when given) while later messages of that citizen wait, so
answers never overtake each other. The handled state is committed before sending: a
failure to send never undoes a step; the citizen's next message continues from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from starlette.routing import Route

from conversations.engine import FlowConfig, Inbound, Outcome
from conversations.flow import handle
from conversations.i18n import t
from core.chat.inbox import unprocessed
from core.chat.state import claim_message
from core.chat.window import note_inbound
from core.people.citizens import get_citizen
from core.people.models import Channel
from core.policies import Policies
from core.shared.db import session_scope
from whatsapp.graph import GraphClient, GraphError
from whatsapp.media import fetch_attachments, sweep_forever
from whatsapp.render import render_outcome
from whatsapp.webhook import webhook_route

log = logging.getLogger(__name__)

# Messages queued or in hand before the webhook waits to store more (Meta retries a slow
# webhook, so memory stays flat however large a burst is).
MAX_BACKLOG = 500
REPLAY_CHUNK = 200
# Graph API error codes that mean "later", whatever the HTTP status.
RETRY_CODES = frozenset({4, 80007, 130429, 131056, 131000, 133004})
COMMAND_RE = re.compile(r"^/([A-Za-z_]{1,32})(?:@\S*)?(?:\s+(.*))?$", re.DOTALL)
# The first message of a QR card's wa.me link ("START u_dukcapil"), or its payload alone.
START_RE = re.compile(r"^/?start(?:\s+([A-Za-z0-9_-]{1,64}))?\s*$", re.IGNORECASE)
PAYLOAD_RE = re.compile(r"^[uso]_[A-Za-z0-9_-]{1,62}$")


def to_inbound(message: dict[str, Any]) -> Inbound | None:
    """A stored (cleaned) message as the conversation's event; None when it is not one."""
    wamid, sender = message.get("id"), message.get("from")
    if not isinstance(wamid, str) or not isinstance(sender, str) or not wamid or not sender:
        return None
    ids = (Channel.whatsapp, wamid, sender)
    kind = message.get("type")
    if kind == "text":
        return _text(ids, str(message.get("text", {}).get("body", "")))
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get(interactive.get("type")) or {}
        return Inbound(*ids, kind="callback", data=str(reply.get("id", "")))
    if kind == "button":
        return Inbound(*ids, kind="callback", data=str(message["button"].get("payload", "")))
    if kind == "image":
        return Inbound(*ids, kind="photo", data=str(message["image"].get("id", "")))
    if kind == "location":
        place = message["location"]
        return Inbound(
            *ids,
            kind="location",
            latitude=float(place["latitude"]),
            longitude=float(place["longitude"]),
        )
    return Inbound(*ids, kind="other")


def _text(ids: tuple[Channel, str, str], text: str) -> Inbound:
    stripped = text.strip()
    start = START_RE.match(stripped)
    if start:
        return Inbound(*ids, kind="command", command="start", args=start.group(1) or "")
    if PAYLOAD_RE.match(stripped):
        return Inbound(*ids, kind="command", command="start", args=stripped)
    command = COMMAND_RE.match(stripped)
    if command:
        return Inbound(
            *ids, kind="command", command=command.group(1).lower(), args=command.group(2) or ""
        )
    return Inbound(*ids, kind="text", text=text)


def received_at(message: dict[str, Any], now: datetime) -> datetime:
    """When the citizen wrote (WhatsApp's timestamp), never later than now."""
    ts = message.get("timestamp")
    if isinstance(ts, str) and ts.isdigit():
        with contextlib.suppress(OverflowError, OSError, ValueError):
            at = datetime.fromtimestamp(int(ts), UTC)
            aware_now = now if now.tzinfo else now.replace(tzinfo=UTC)
            return min(at, aware_now)
    return now


class Pacer:
    """At most `per_second` sends per second from this process (the number's throughput)."""

    def __init__(self, per_second: int) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        at = max(now, self._next)
        self._next = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)


@dataclass
class Handled:
    outcome: Outcome
    lang: str


def flow_config(policies: Policies) -> FlowConfig:
    settings = policies.settings
    return FlowConfig(
        tz=settings.tz,
        area_name=settings.area_name,
        case_policy=policies.cases,
        pseudonym_key=settings.pseudonym_key,
        outbox_retention_days=settings.outbox_retention_days,
        clock=policies.clock,
    )


class WhatsAppRuntime:
    """Takes stored messages (`submit`), handles them, sends the answers."""

    def __init__(
        self,
        policies: Policies,
        client: GraphClient,
        *,
        backoff: float = 1.0,
        send_deadline: float = 900.0,
        sweep_every: float = 60.0,
    ) -> None:
        settings = policies.settings
        self.policies = policies
        self.engine: Engine = policies.engine
        self.client = client
        self.cfg = flow_config(policies)
        self.root = Path(settings.attachments_dir)
        self.max_bytes = settings.attachment_max_bytes
        self.backoff = backoff
        self.send_deadline = send_deadline
        self.sweep_every = sweep_every
        self.pacer = Pacer(settings.whatsapp_messages_per_second)
        self._gate = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        self._slots = asyncio.Semaphore(settings.bot_concurrent_updates)
        self._citizens: dict[str, tuple[asyncio.Lock, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self._stop = asyncio.Event()
        self._sweep: asyncio.Task[None] | None = None
        self.in_hand = 0
        self.failed_sends = 0  # payloads given up on (logged): for tests and monitoring

    # -- life ------------------------------------------------------------------------------

    async def start(self) -> int:
        """Replay what was stored but never handled, start the photo sweep; how many were
        replayed."""
        replay = await asyncio.to_thread(unprocessed, self.engine, Channel.whatsapp)
        for start in range(0, len(replay), REPLAY_CHUNK):
            await self.room()
            self.submit(replay[start : start + REPLAY_CHUNK])
        replayed = len(replay)
        if replayed:
            log.info("replayed %d stored WhatsApp message(s) not handled before", replayed)
        self._sweep = asyncio.ensure_future(
            sweep_forever(
                self.client, self.engine, self.root, self.max_bytes, self._stop, self.sweep_every
            )
        )
        return replayed

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Let the messages in hand finish (for at most `drain_seconds`), stop the sweep."""
        self._stop.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(drain_seconds):
                await self.until(lambda: self.in_hand == 0)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._sweep is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sweep, 10)

    def route(self) -> Route:
        return webhook_route(self.policies.settings, self.engine, self)

    # -- intake ----------------------------------------------------------------------------

    async def room(self) -> None:
        """Wait until the backlog is below MAX_BACKLOG."""
        await self.until(lambda: self.in_hand < MAX_BACKLOG)

    async def until(self, ready: Callable[[], bool]) -> None:
        """Return once `ready()` holds, looking again each time a message finishes."""
        while not ready():
            changed = self._changed
            await changed.wait()

    def submit(self, messages: list[dict[str, Any]]) -> None:
        """Handle stored messages (in this order for each citizen)."""
        for message in messages:
            self.in_hand += 1
            self._spawn(self._in_turn(message))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finished(self) -> None:
        self.in_hand -= 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _in_turn(self, message: dict[str, Any]) -> None:
        address = str(message.get("from") or "")
        lock = self._take(address)
        try:
            async with lock:
                try:
                    await self._one(message)
                except Exception:
                    # Not handled (rolled back): stored still, replayed at the next start.
                    log.exception("error while handling a WhatsApp message")
                    await self._sorry(address)
        finally:
            self._release(address)
            self._finished()

    async def _sorry(self, address: str) -> None:
        """Tell the citizen something went wrong (as the bot does), in both languages."""
        if not address:
            return
        body = f"{t('id', 'error.generic')}\n\n{t('en', 'error.generic')}"
        with contextlib.suppress(Exception):
            await self.send({"type": "text", "text": {"body": body}, "to": address})

    def _take(self, address: str) -> asyncio.Lock:
        lock, users = self._citizens.get(address) or (asyncio.Lock(), 0)
        self._citizens[address] = (lock, users + 1)
        return lock

    def _release(self, address: str) -> None:
        lock, users = self._citizens[address]
        if users <= 1:
            del self._citizens[address]
        else:
            self._citizens[address] = (lock, users - 1)

    # -- one message -----------------------------------------------------------------------

    async def _one(self, message: dict[str, Any]) -> None:
        inbound = to_inbound(message)
        if inbound is None:  # not a message we can answer: remember it was seen
            wamid = message.get("id")
            if isinstance(wamid, str) and wamid:
                async with self._slots:
                    await asyncio.to_thread(self._mark_seen, wamid)
            return
        at = received_at(message, self.cfg.clock())
        async with self._slots:
            handled = await asyncio.to_thread(self._handle_in_db, inbound, at)
        outcome = handled.outcome
        # `again`: handled before, by this or another process (Meta never redelivers a message
        # it had its 200 for; two processes replaying at once do): never answered twice.
        if outcome.duplicate or outcome.again:
            return
        for payload in render_outcome(outcome, handled.lang):
            await self.send({**payload, "to": inbound.address})
        if outcome.attachments:
            try:
                await fetch_attachments(
                    self.client, self.engine, self.root, self.max_bytes, outcome.attachments
                )
            except Exception:  # handled and answered: the sweep fetches them later
                log.exception("the photos of a WhatsApp complaint were not fetched yet")

    def _handle_in_db(self, inbound: Inbound, at: datetime) -> Handled:
        with self._gated(), session_scope(self.engine, write=True) as session:
            # Before `handle`: an erasure in this message deletes the window with the rest.
            note_inbound(session, Channel.whatsapp, inbound.address, at)
            outcome = handle(session, self.cfg, inbound)  # its claim deletes the stored copy
            citizen = get_citizen(session, Channel.whatsapp, inbound.address)
            return Handled(outcome, citizen.language if citizen is not None else "id")

    def _mark_seen(self, wamid: str) -> None:
        with self._gated(), session_scope(self.engine, write=True) as session:
            claim_message(session, Channel.whatsapp, wamid)

    @contextlib.contextmanager
    def _gated(self) -> Any:
        """SQLite has one writer: queueing here is faster than its busy handler's sleeps."""
        if self._gate is None:
            yield
            return
        with self._gate:
            yield

    async def send(self, payload: dict[str, Any]) -> str | None:
        """Send one payload, retrying what WhatsApp says to retry (rate limits, conflicts,
        its own failures, the network) with backoff until `send_deadline`; the wamid, or
        None when given up (logged)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.send_deadline
        delay = self.backoff
        while True:
            await self.pacer.wait()
            try:
                return await self.client.send(payload)
            except GraphError as exc:
                later = exc.status in (0, 409, 429) or exc.status >= 500 or exc.code in RETRY_CODES
                wait = exc.retry_after if exc.retry_after is not None else delay
                if not later or loop.time() + wait > deadline:
                    self.failed_sends += 1
                    log.warning("a WhatsApp answer was not sent: %s", exc)
                    return None
                delay = min(delay * 2, 60.0)
                await asyncio.sleep(wait)


def graph_client(policies: Policies, http: httpx.AsyncClient) -> GraphClient:
    settings = policies.settings
    return GraphClient(
        settings.whatsapp_api_base_url,
        settings.whatsapp_phone_number_id,
        settings.whatsapp_access_token,
        http,
    )


@contextlib.asynccontextmanager
async def whatsapp_services(policies: Policies) -> AsyncIterator[WhatsAppRuntime]:
    """The WhatsApp runtime (replay, handling, the photo sweep), started and stopped; its
    `route()` is the webhook for the public listener, its `client` the Graph API client."""
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
    async with httpx.AsyncClient(limits=limits) as http:
        runtime = WhatsAppRuntime(policies, graph_client(policies, http))
        await runtime.start()
        try:
            yield runtime
        finally:
            await runtime.stop()
