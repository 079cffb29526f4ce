"""Short database steps run apart from the request thread pool, so that slow work between
them (a password check) holds no transaction, no connection and, on SQLite, no write turn."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.requests import Request

from core.shared.db import session_scope
from httpkit.turns import write_turn

T = TypeVar("T")
# Threads for these steps (per process), apart from the thread pool of the other requests:
# a burst of logins queues here, in the event loop, and other requests do not wait behind it.
STEP_THREADS = 4


def _step_threads(request: Request) -> anyio.CapacityLimiter:
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "login_steps", None)
    if limiter is None:
        limiter = request.app.state.login_steps = anyio.CapacityLimiter(STEP_THREADS)
    return limiter


def _in_transaction(engine: Engine, write: bool, step: Callable[[Session], T]) -> T:
    with session_scope(engine, write=write) as session:
        return step(session)


async def read_step(request: Request, engine: Engine, step: Callable[[Session], T]) -> T:
    run = partial(_in_transaction, engine, False, step)
    return await anyio.to_thread.run_sync(run, limiter=_step_threads(request))


async def write_step(request: Request, engine: Engine, step: Callable[[Session], T]) -> T:
    """A short write of its own (on SQLite after its turn, waited for in the event loop)."""
    run = partial(_in_transaction, engine, True, step)
    async with write_turn(request, engine, writes=True):
        return await anyio.to_thread.run_sync(run, limiter=_step_threads(request))


async def read(request: Request, engine: Engine, step: Callable[[Session], T]) -> T:
    """A page's reads in one transaction on the request thread pool."""
    return await anyio.to_thread.run_sync(partial(_in_transaction, engine, False, step))


async def write(request: Request, engine: Engine, step: Callable[[Session], T]) -> T:
    """A request's change in one transaction (on SQLite after its write turn)."""
    async with write_turn(request, engine, writes=True):
        return await anyio.to_thread.run_sync(partial(_in_transaction, engine, True, step))
