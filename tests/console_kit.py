"""Driving the console in a real browser: the whole site served by uvicorn on a free port
in a thread, and the distribution's Chromium under Playwright."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from tests.waiting import eventually

CHROMIUM = "/usr/bin/chromium"
# Chromium's own background traffic (updates, sync, safe browsing) must not try the closed
# network: every request a page makes goes to the server under test.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
AXE = Path(__file__).resolve().parent / "vendor" / "axe" / "axe.min.js"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 in a thread; yields its base URL once it accepts requests."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve())

    thread = threading.Thread(target=run, name="console-live-server", daemon=True)
    thread.start()
    eventually(lambda: server.started or not thread.is_alive(), "the live server to start")
    if not server.started:
        raise RuntimeError("the live server stopped before it started serving")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
