"""Password hashes (argon2id) and a bound on how many are checked at once in a process.

One check with the production parameters takes 64 MiB and about 0.15 s of CPU. A burst of
logins checked all at once grew the API by gigabytes, so checks run on a small pool of
threads (PASSWORD_CHECKS_AT_ONCE, default 2) and further ones wait their turn in the pool's
queue, first come first served; a waiting check holds no thread and no argon2 memory.

Tests set ASN_FEEDBACK_CHEAP_ARGON2=1 (tests/conftest.py): 1 MiB and one pass, about a
millisecond a hash. A production configuration refuses that variable (core.shared.config).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

from core.shared.config import cheap_requested

DEFAULT_CHECKS_AT_ONCE = 2
# Checks run at a lower CPU priority than the rest of the process (nice +10), so a burst of
# logins keeps every CPU busy without slowing the other requests much.
CHECK_NICENESS = 10


@dataclass(frozen=True)
class Argon2Cost:
    memory_kib: int
    time_cost: int
    parallelism: int


# argon2-cffi's defaults (RFC 9106, "second recommended option"): 64 MiB, 3 passes, 4 lanes.
PRODUCTION_COST = Argon2Cost(memory_kib=64 * 1024, time_cost=3, parallelism=4)
CHEAP_COST = Argon2Cost(memory_kib=1024, time_cost=1, parallelism=1)


def cost_from_env(environ: Mapping[str, str] = os.environ) -> Argon2Cost:
    """The cost of new hashes: production's unless the tests' variable asks for cheap ones."""
    return CHEAP_COST if cheap_requested(environ) else PRODUCTION_COST


@functools.cache
def _argon2() -> PasswordHash:
    cost = cost_from_env()
    return PasswordHash(
        (
            Argon2Hasher(
                time_cost=cost.time_cost,
                memory_cost=cost.memory_kib,
                parallelism=cost.parallelism,
            ),
        )
    )


@functools.cache
def dummy_hash() -> str:
    """Checked when the username is unknown, so both paths cost one argon2 check."""
    return _argon2().hash("not-a-real-password-used-for-timing")


def hash_password(password: str) -> str:
    return _argon2().hash(password)


def check_now(password: str, password_hash: str | None) -> bool:
    """One argon2 check in the calling thread, unbounded: use `verify` or `PasswordChecks`.

    `None` (no such account) and a hash that is not argon2 cost a check of the dummy hash
    and are wrong."""
    if password_hash is not None:
        try:
            return _argon2().verify(password, password_hash)
        except UnknownHashError:
            pass
    _argon2().verify(password, dummy_hash())
    return False


class PasswordChecks:
    """Runs password checks `at_once` at a time; the others wait in a first-in-first-out
    queue. `verify` blocks the calling thread; `verify_async` waits in the event loop."""

    def __init__(self, at_once: int) -> None:
        if at_once < 1:
            raise ValueError("at_once must be at least 1")
        self.at_once = at_once
        self._pool = ThreadPoolExecutor(
            max_workers=at_once, thread_name_prefix="password-check", initializer=_yield_cpu
        )
        self._lock = threading.Lock()
        self._waiting = 0
        self._running = 0

    @property
    def waiting(self) -> int:
        """Checks queued, not yet started."""
        return self._waiting

    @property
    def running(self) -> int:
        """Checks under way (at most `at_once`)."""
        return self._running

    def verify(self, password: str, password_hash: str | None) -> bool:
        return self._submit(password, password_hash).result()

    async def verify_async(self, password: str, password_hash: str | None) -> bool:
        return await asyncio.wrap_future(self._submit(password, password_hash))

    def shutdown(self) -> None:
        """No new checks; the queued ones still run."""
        self._pool.shutdown(wait=False)

    def _submit(self, password: str, password_hash: str | None) -> Future[bool]:
        with self._lock:
            self._waiting += 1
        future = self._pool.submit(self._run, password, password_hash)
        future.add_done_callback(self._forget_if_cancelled)
        return future

    def _run(self, password: str, password_hash: str | None) -> bool:
        with self._lock:
            self._waiting -= 1
            self._running += 1
        try:
            return check_now(password, password_hash)
        finally:
            with self._lock:
                self._running -= 1

    def _forget_if_cancelled(self, future: Future[bool]) -> None:
        if future.cancelled():  # it never ran
            with self._lock:
                self._waiting -= 1


def _yield_cpu() -> None:
    """Lower this thread's CPU priority (on Linux the nice value is per thread)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CHECK_NICENESS)


_checks: PasswordChecks | None = None
_checks_lock = threading.Lock()


def checks(at_once: int | None = None) -> PasswordChecks:
    """This process's password checks. `at_once` (PASSWORD_CHECKS_AT_ONCE) sizes them; a
    different size replaces the pool (the old one finishes its queue)."""
    global _checks
    with _checks_lock:
        if _checks is None or (at_once is not None and at_once != _checks.at_once):
            if _checks is not None:
                _checks.shutdown()
            _checks = PasswordChecks(at_once or DEFAULT_CHECKS_AT_ONCE)
        return _checks


def verify(password: str, password_hash: str | None) -> bool:
    """Check `password` against `password_hash` (None: no such account) within this
    process's bound, blocking the calling thread while it waits its turn."""
    return checks().verify(password, password_hash)
