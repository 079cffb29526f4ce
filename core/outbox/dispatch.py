"""The outbox dispatcher: sends pending messages through each channel's sender.

It runs whether or not any channel is configured: a message waits, pending, until its
channel's sender is there. Each channel brings a `Sender` (Telegram's is in `bot/`) that
renders and sends one message and says how it went; the dispatcher paces each channel
under its own limits (messages per second overall, per address per minute), pauses a
channel that asks to slow down, backs off on network errors, and fails a message for good
when the channel refuses it (a citizen who blocked the bot). A message is marked sent only
after its channel accepted it, so a crash in between re-sends that one message rather than
dropping it (at most one duplicate per dispatcher: messages are sent one at a time).
Messages to one address go out in the order they were written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import and_, exists, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.outbox.models import OutboundMessage, OutboxStatus, without_secrets
from core.people.models import Channel
from core.shared.clock import utcnow
from core.shared.db import writer

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# A message a channel keeps answering "not yet" (5xx, a network error, an expired token) for
# this many tries or this long is failed for good: staff see it as not delivered, and later
# messages to the same person no longer wait behind it.
GIVE_UP_ATTEMPTS = 30
GIVE_UP_AFTER = timedelta(hours=48)
Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ChannelLimits:
    """How fast a channel accepts messages (Telegram's flood limits by default)."""

    # A hair under 30: with exactly 1/30 s spacing, 31 sends can fall in one second.
    per_second: float = 29.5
    per_address_per_minute: int = 20


@dataclass(frozen=True)
class DispatchLimits:
    batch: int = 100
    lease: timedelta = timedelta(seconds=60)
    max_backoff_s: float = 300.0


class SlowDown(Exception):
    """The channel asks to pause all sending for `seconds` (Telegram's 429)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"slow down for {seconds:.0f} s")
        self.seconds = seconds


class Undeliverable(Exception):
    """The channel refused this message for good (blocked, unknown address, bad request)."""


class NotSentYet(Exception):
    """The channel could not be reached: retry later with backoff."""


class Sender(Protocol):
    """What a channel gives the dispatcher: its limits, and sending one message (rendered
    by the channel in the message's language) that returns the channel's id for it."""

    @property
    def limits(self) -> ChannelLimits: ...

    async def send(self, message: OutboundMessage) -> str | None: ...


Outcome = Literal["sent", "failed", "stop"]


def _scrubbed(msg: OutboundMessage) -> dict[str, Any]:
    """What a finished message's row keeps instead of its secrets (a web report's follow-up
    code): {"params": ...}, or nothing when it has none."""
    params = without_secrets(msg.template, msg.params)
    return {} if params is None else {"params": params}


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        senders: Mapping[Channel, Sender],
        limits: DispatchLimits | None = None,
        *,
        clock: Clock = utcnow,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.engine = engine
        self.senders = dict(senders)
        self.limits = limits or DispatchLimits()
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self._last_send: dict[Channel, float] = defaultdict(lambda: -1e18)
        self._paused_until: dict[Channel, float] = defaultdict(lambda: -1e18)
        self._per_address: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.wakeup = asyncio.Event()

    # -- claiming --------------------------------------------------------------------------
    def _claim_batch(self) -> list[OutboundMessage]:
        if not self.senders:
            return []
        now = self.clock()
        earlier = aliased(OutboundMessage)
        not_locked = or_(
            col(OutboundMessage.locked_until).is_(None), col(OutboundMessage.locked_until) < now
        )
        channels = [c.value for c in self.senders]
        with Session(writer(self.engine), expire_on_commit=False) as session:
            candidates = session.exec(
                select(OutboundMessage)
                .where(
                    OutboundMessage.status == OutboxStatus.pending.value,
                    col(OutboundMessage.channel).in_(channels),
                    col(OutboundMessage.next_attempt_at) <= now,
                    not_locked,
                    # Order per address: nothing overtakes an earlier pending message.
                    ~exists().where(
                        and_(
                            col(earlier.channel) == col(OutboundMessage.channel),
                            col(earlier.address) == col(OutboundMessage.address),
                            col(earlier.status) == OutboxStatus.pending.value,
                            col(earlier.id) < col(OutboundMessage.id),
                        )
                    ),
                )
                .order_by(col(OutboundMessage.id))
                .limit(self.limits.batch)
            ).all()
            claimed = []
            lease_until = now + self.limits.lease
            for msg in candidates:
                result = session.execute(
                    update(OutboundMessage)
                    .where(col(OutboundMessage.id) == msg.id, not_locked)
                    .values(locked_until=lease_until)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    msg.locked_until = lease_until
                    claimed.append(msg)
            session.commit()
        return claimed

    def _finish(self, msg_id: int | None, **values: Any) -> None:
        with Session(writer(self.engine)) as session:
            session.execute(
                update(OutboundMessage)
                .where(col(OutboundMessage.id) == msg_id)
                .values(locked_until=None, **values)
            )
            session.commit()

    # -- pacing ----------------------------------------------------------------------------
    async def _wait_channel(self, channel: Channel, limits: ChannelLimits) -> None:
        gap = 1.0 / limits.per_second
        wait = max(self._last_send[channel] + gap, self._paused_until[channel])
        wait -= self.monotonic()
        if wait > 0:
            await self.sleep(wait)

    def _address_window_full(self, msg: OutboundMessage, limits: ChannelLimits) -> float | None:
        """Seconds until the address may receive again, or None when it may now."""
        window = self._per_address[(msg.channel, msg.address)]
        now = self.monotonic()
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) < limits.per_address_per_minute:
            return None
        return 60.0 - (now - window[0])

    # -- sending ---------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Send what is due now; returns how many messages their channels accepted."""
        sent = 0
        blocked: set[tuple[str, str]] = set()
        stopped: set[str] = set()
        for msg in await asyncio.to_thread(self._claim_batch):
            key = (msg.channel, msg.address)
            if key in blocked or msg.channel in stopped:
                await asyncio.to_thread(self._finish, msg.id)  # release: keeps its order
                continue
            channel = Channel(msg.channel)
            sender = self.senders[channel]
            later = self._address_window_full(msg, sender.limits)
            if later is not None:
                blocked.add(key)
                next_at = self.clock() + timedelta(seconds=later)
                await asyncio.to_thread(self._finish, msg.id, next_attempt_at=next_at)
                continue
            outcome = await self._send(channel, sender, msg)
            if outcome == "sent":
                sent += 1
            elif outcome == "stop":
                stopped.add(msg.channel)
            else:
                blocked.add(key)
        return sent

    async def _send(self, channel: Channel, sender: Sender, msg: OutboundMessage) -> Outcome:
        await self._wait_channel(channel, sender.limits)
        self._last_send[channel] = self.monotonic()
        try:
            external_id = await sender.send(msg)
        except SlowDown as exc:
            self._paused_until[channel] = self.monotonic() + exc.seconds
            log.warning("%s asks to slow down for %.0f s", channel.value, exc.seconds)
            next_at = self.clock() + timedelta(seconds=exc.seconds)
            await asyncio.to_thread(self._finish, msg.id, next_attempt_at=next_at)
            return "stop"
        except Undeliverable as exc:
            log.info("outbound message %s failed for good: %s", msg.id, exc)
            await asyncio.to_thread(
                self._finish,
                msg.id,
                status=OutboxStatus.failed.value,
                last_error=str(exc)[:500],
                attempts=msg.attempts + 1,
                **_scrubbed(msg),
            )
            return "failed"
        except NotSentYet as exc:
            attempts = msg.attempts + 1
            created = msg.created_at.replace(tzinfo=msg.created_at.tzinfo or UTC)
            if attempts >= GIVE_UP_ATTEMPTS or self.clock() - created > GIVE_UP_AFTER:
                # Never sent after a day or two of tries: failed for good, visible to staff as
                # not delivered, and no longer holding back what follows to this person.
                await asyncio.to_thread(
                    self._finish,
                    msg.id,
                    status=OutboxStatus.failed.value,
                    last_error=f"gave up: {exc}"[:500],
                    attempts=attempts,
                    **_scrubbed(msg),
                )
                return "failed"
            backoff = min(2.0**attempts, self.limits.max_backoff_s)
            log.warning("outbound message %s: %s; retry in %.0f s", msg.id, exc, backoff)
            await asyncio.to_thread(
                self._finish,
                msg.id,
                attempts=attempts,
                last_error=str(exc)[:500],
                next_attempt_at=self.clock() + timedelta(seconds=backoff),
            )
            return "stop"
        self._per_address[(msg.channel, msg.address)].append(self.monotonic())
        await asyncio.to_thread(
            self._finish,
            msg.id,
            status=OutboxStatus.sent.value,
            sent_at=self.clock(),
            external_id=external_id,
            attempts=msg.attempts + 1,
            **_scrubbed(msg),
        )
        return "sent"

    async def run(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        """Drain the outbox until `stop` is set; never dies on an error."""
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("outbox dispatcher error; retrying")
                sent = 0
            if sent == 0:
                self.wakeup.clear()
                waiters = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self.wakeup.wait()),
                ]
                await asyncio.wait(
                    waiters, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED
                )
                for task in waiters:
                    task.cancel()
