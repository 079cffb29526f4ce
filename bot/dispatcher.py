"""The outbox dispatcher: sends pending OutboundMessages through the Bot API.

Paced under Telegram's flood limits (30 messages/s overall, 20/min per chat); a 429 pauses
everything for `retry_after`; network errors back off and retry; 403 (the user blocked the
bot) and 400 fail the message for good. A message is marked sent only after Telegram
accepted it, so a crash in between re-sends that one message rather than dropping it
(at most one duplicate per dispatcher: messages are sent one at a time). Messages to one
chat go out in the order they were written.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from conversations.notices import render
from core.outbox.models import OutboundMessage, OutboxStatus
from core.shared.clock import utcnow
from core.shared.db import writer

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class DispatchLimits:
    # A hair under 30: with exactly 1/30 s spacing, 31 sends can fall in one second.
    per_second: float = 29.5
    per_chat_per_minute: int = 20
    batch: int = 100
    lease: timedelta = timedelta(seconds=60)
    max_backoff_s: float = 300.0


def retry_after_seconds(exc: RetryAfter) -> float:
    """Seconds to wait: an int in PTB 22, a timedelta in later versions; both work."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        bot: Bot,
        limits: DispatchLimits | None = None,
        *,
        clock: Clock = utcnow,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.engine = engine
        self.bot = bot
        self.limits = limits or DispatchLimits()
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self._last_send = -1e18
        self._paused_until = -1e18
        self._per_chat: dict[int, deque[float]] = defaultdict(deque)
        self.wakeup = asyncio.Event()

    # -- claiming --------------------------------------------------------------------------
    def _claim_batch(self) -> list[OutboundMessage]:
        now = self.clock()
        earlier = aliased(OutboundMessage)
        not_locked = or_(
            col(OutboundMessage.locked_until).is_(None), col(OutboundMessage.locked_until) < now
        )
        with Session(writer(self.engine), expire_on_commit=False) as session:
            candidates = session.exec(
                select(OutboundMessage)
                .where(
                    OutboundMessage.status == OutboxStatus.pending.value,
                    col(OutboundMessage.next_attempt_at) <= now,
                    not_locked,
                    # Order per chat: nothing overtakes an earlier pending message.
                    ~exists().where(
                        and_(
                            col(earlier.chat_id) == col(OutboundMessage.chat_id),
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
    async def _wait_global(self) -> None:
        gap = 1.0 / self.limits.per_second
        wait = max(self._last_send + gap, self._paused_until) - self.monotonic()
        if wait > 0:
            await self.sleep(wait)

    def _chat_window_full(self, chat_id: int) -> float | None:
        """Seconds until the chat may receive again, or None when it may now."""
        window = self._per_chat[chat_id]
        now = self.monotonic()
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) < self.limits.per_chat_per_minute:
            return None
        return 60.0 - (now - window[0])

    # -- sending ---------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Send what is due now; returns how many messages Telegram accepted."""
        sent = 0
        blocked_chats: set[int] = set()
        for msg in await asyncio.to_thread(self._claim_batch):
            if msg.chat_id in blocked_chats:
                await asyncio.to_thread(self._finish, msg.id)  # release: keeps its order
                continue
            later = self._chat_window_full(msg.chat_id)
            if later is not None:
                blocked_chats.add(msg.chat_id)
                next_at = self.clock() + timedelta(seconds=later)
                await asyncio.to_thread(self._finish, msg.id, next_attempt_at=next_at)
                continue
            outcome = await self._send(msg)
            if outcome == "sent":
                sent += 1
            elif outcome == "stop":
                break
            else:
                blocked_chats.add(msg.chat_id)
        return sent

    async def _send(self, msg: OutboundMessage) -> str:
        await self._wait_global()
        rendered = render(msg)
        markup = None
        if rendered.buttons:
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                    for row in rendered.buttons
                ]
            )
        self._last_send = self.monotonic()
        try:
            if msg.photo:
                caption = rendered.text[:1024]
                result = await self.bot.send_photo(
                    msg.chat_id, photo=msg.photo, caption=caption, reply_markup=markup
                )
            else:
                result = await self.bot.send_message(
                    msg.chat_id, rendered.text, reply_markup=markup
                )
        except RetryAfter as exc:
            delay = retry_after_seconds(exc)
            self._paused_until = self.monotonic() + delay
            log.warning("Telegram asks to slow down for %.0f s", delay)
            await asyncio.to_thread(
                self._finish, msg.id, next_attempt_at=self.clock() + timedelta(seconds=delay)
            )
            return "stop"
        except (Forbidden, BadRequest) as exc:
            log.info("outbound message %s failed for good: %s", msg.id, exc)
            await asyncio.to_thread(
                self._finish,
                msg.id,
                status=OutboxStatus.failed.value,
                last_error=str(exc)[:500],
                attempts=msg.attempts + 1,
            )
            return "failed"
        except (TelegramError, OSError) as exc:
            attempts = msg.attempts + 1
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
        self._per_chat[msg.chat_id].append(self.monotonic())
        await asyncio.to_thread(
            self._finish,
            msg.id,
            status=OutboxStatus.sent.value,
            sent_at=self.clock(),
            telegram_message_id=result.message_id,
            attempts=msg.attempts + 1,
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
