"""Waiting on state, never on time: re-check a condition until it holds. The timeout only
bounds a failure, so it is generous (a busy machine is slow, not wrong); the failure says
what was awaited and how far it got."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Long enough for a machine busy with other work; a passing test never waits this long.
TIMEOUT = 60.0
_RECHECK = 0.02  # how often the condition is looked at again (not a wait for anything)

Description = str | Callable[[], str]


def _describe(what: Description) -> str:
    return what() if callable(what) else what


def gave_up(what: Description, timeout: float) -> AssertionError:
    return AssertionError(f"gave up after {timeout:.0f} s waiting for {_describe(what)}")


def eventually(
    condition: Callable[[], T], what: Description = "the condition", timeout: float = TIMEOUT
) -> T:
    """The first true value of `condition()`; `what` (a text, or a function giving the
    progress so far) says what failed to happen."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() >= deadline:
            raise gave_up(what, timeout)
        time.sleep(_RECHECK)
    return value


async def until(
    condition: Callable[[], T], what: Description = "the condition", timeout: float = TIMEOUT
) -> T:
    """`eventually` for coroutines: the event loop runs on between the checks."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() >= deadline:
            raise gave_up(what, timeout)
        await asyncio.sleep(_RECHECK)
    return value
