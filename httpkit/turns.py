"""SQLite's one writer, taken in turns in the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import Engine
from starlette.requests import Request

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_TURN_SECONDS = 30.0


class DatabaseBusy(Exception):
    """The write turn did not come within WRITE_TURN_SECONDS: answer 503, try again."""


def _lock(request: Request) -> asyncio.Lock:
    state = request.app.state
    lock: asyncio.Lock | None = getattr(state, "write_turn", None)
    if lock is None:
        lock = state.write_turn = asyncio.Lock()
    return lock


@asynccontextmanager
async def write_turn(request: Request, engine: Engine, *, writes: bool) -> AsyncIterator[None]:
    """On SQLite, work that writes takes turns here, before any database work.

    SQLite has one writer. A request that writes holds SQLite's write lock from its first
    query to its commit, across several hops through the thread pool; if the requests
    waiting for that lock sat in the pool's threads, the holder could find no thread to
    finish on (found by bench/load_bench.py: 500s after a 10 s stall). Waiting happens here,
    in the event loop, where it holds no thread."""
    if not writes or engine.dialect.name != "sqlite":
        yield
        return
    turn = _lock(request)
    try:
        await asyncio.wait_for(turn.acquire(), WRITE_TURN_SECONDS)
    except TimeoutError:
        raise DatabaseBusy from None
    try:
        yield
    finally:
        turn.release()
