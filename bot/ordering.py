"""Handle updates of different chats at the same time, and each chat's updates in order.

Most of an update's time is spent waiting (for the database, then for Telegram to accept the
answer: 100-300 ms from Indonesia), so handling one update at a time caps a bot at a handful
of updates per second. python-telegram-bot can run updates concurrently but does not keep a
chat's updates in order, and a conversation step must see the step before it. This processor
takes a per-chat lock before the concurrency slot: PTB starts one task per update in arrival
order, the tasks reach the lock in that order, and asyncio locks are first come, first
served, so a chat's updates run one after another in the order Telegram sent them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates PTB may start before they wait here (a backlog after an outage is replayed from the
# database in chunks far smaller than this).
PARKED_UPDATES = 100_000


class ChatOrderedProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` updates handled at once, a chat's one at a time.

    PTB's own slot (a semaphore taken before `do_process_update`) is made wide enough never to
    be the limit, because a chat's waiting updates would otherwise hold slots that other chats
    need; the real limit is taken here, after the chat's lock."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(PARKED_UPDATES)
        self.limit = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}
        self.in_hand = 0  # updates started and not finished (running or waiting their turn)
        # Set (and replaced by a fresh one) each time an update finishes: waiters wake then.
        self._finished = asyncio.Event()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self.in_hand += 1
        try:
            await self._in_turn(update, coroutine)
        finally:
            self.in_hand -= 1
            finished, self._finished = self._finished, asyncio.Event()
            finished.set()

    async def until(self, ready: Callable[[], bool]) -> None:
        """Return once `ready()` holds, looking again each time an update finishes (the only
        moment the number of updates queued or in hand goes down)."""
        while not ready():
            await self._finished.wait()

    async def _in_turn(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._slots:
                await coroutine
            return
        lock = self._take(chat.id)
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._release(chat.id)

    def _take(self, chat_id: int) -> asyncio.Lock:
        lock, users = self._chats.get(chat_id) or (asyncio.Lock(), 0)
        self._chats[chat_id] = (lock, users + 1)
        return lock

    def _release(self, chat_id: int) -> None:
        lock, users = self._chats[chat_id]
        if users <= 1:
            del self._chats[chat_id]  # no update of this chat waiting: forget its lock
        else:
            self._chats[chat_id] = (lock, users - 1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class WriteGate:
    """Serialises the bot's database transactions on SQLite, where writers queue anyway.

    SQLite allows one writer; a second one sleeps in its busy handler (milliseconds at a time)
    and that sleep is slower than waiting in line here. On PostgreSQL there is no gate."""

    def __init__(self, serialise: bool) -> None:
        self._lock = threading.Lock() if serialise else None

    def __enter__(self) -> None:
        if self._lock is not None:
            self._lock.acquire()

    def __exit__(self, *_: object) -> None:
        if self._lock is not None:
            self._lock.release()
