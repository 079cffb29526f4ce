"""For tests and benchmarks that run `asn-feedback` as real processes: a free port, waiting
for a health URL, and the child's environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.bot_api_server import TOKEN, BotApiServer
from tests.waiting import TIMEOUT, eventually


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(
    url: str, timeout: float = TIMEOUT, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Until `url` answers 200 (`timeout` only bounds a failure); fails at once if `proc`,
    the process that should answer, has ended."""

    def up() -> bool:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"{proc.args!r} ended with {proc.returncode} before {url} answered"
            )
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    eventually(up, f"{url} to answer 200", timeout)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`asn-feedback <args>` as a child process, its output appended to `log`, run in the
    log's folder (so nothing it writes lands in the checkout)."""
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=log.parent,
    )


def process_env(db_url: str, bot_api: BotApiServer | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without the shell's database and Telegram settings, plus
    the given database, ENVIRONMENT=test, the local Bot API server if any, and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "DATABASE"))}
    env.update(DATABASE_URL=db_url, ENVIRONMENT="test")
    if bot_api is not None:
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=bot_api.url)
    env.update(extra)
    return env
