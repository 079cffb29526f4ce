"""A small local HTTP server speaking the Bot API (getUpdates long polling, sendMessage,
editMessageText, ...), so the real bot can poll it over real HTTP."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs

from tests.botkit import FakeTelegram
from tests.waiting import TIMEOUT, Description, gave_up

T = TypeVar("T")
TOKEN = "123456:TEST-TOKEN"
# The calls that put a message on the citizen's screen.
SCREEN_METHODS = frozenset({"sendMessage", "editMessageText", "sendPhoto"})


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A poller that goes away mid-request (a bot stopping) is expected here.
        return None


class BotApiServer:
    def __init__(self) -> None:
        self.state = FakeTelegram()
        self.updates: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, body = server.handle(self.path, self.headers.get("Content-Type", ""), raw)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> BotApiServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.cond:
            self.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    def push(self, update: dict[str, Any]) -> None:
        with self.cond:
            self.updates.append(update)
            self.cond.notify_all()

    def wait_until(
        self, condition: Callable[[], T | None], what: Description, timeout: float = TIMEOUT
    ) -> T:
        """The first true value of `condition()`, checked now and again after each call the
        bot makes (the state a test needs, never a quiet period). `timeout` only bounds a
        failure; `what` says what did not come."""
        with self.cond:
            value = self.cond.wait_for(condition, timeout)
            if not value:
                raise gave_up(what, timeout)
            return value

    def mark(self) -> int:
        """A bookmark in the bot's calls: `screens_since` counts what comes after it."""
        with self.cond:
            return len(self.state.calls)

    def screens_since(self, mark: int, chat_id: int) -> list[dict[str, Any]]:
        """The messages the bot sent or edited in `chat_id` after `mark`, in order."""
        with self.cond:
            return [
                params
                for method, params in self.state.calls[mark:]
                if method in SCREEN_METHODS and int(params.get("chat_id") or 0) == chat_id
            ]

    def handle(self, path: str, content_type: str, raw: bytes) -> tuple[int, bytes]:
        prefix = f"/bot{TOKEN}/"
        if not path.startswith(prefix):
            return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
        method = path[len(prefix) :]
        params = _parse(content_type, raw)
        if method == "getUpdates":
            return 200, json.dumps({"ok": True, "result": self._get_updates(params)}).encode()
        with self.cond:
            result = self.state.answer(method, params)
            self.state.calls.append((method, params))
            self.cond.notify_all()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)  # as Telegram: 1-100
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        with self.cond:
            # Confirmed updates (below offset) are forgotten, as Telegram does.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and time.monotonic() < deadline:
                self.cond.wait(deadline - time.monotonic())
            return self.updates[:limit]


def _parse(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        data: dict[str, Any] = json.loads(raw)
    else:
        data = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
    for key, value in list(data.items()):
        if isinstance(value, str) and value[:1] in "{[":
            with contextlib.suppress(ValueError):
                data[key] = json.loads(value)
    return data
