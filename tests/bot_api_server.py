"""A small local HTTP server speaking the Bot API (getUpdates long polling, sendMessage,
editMessageText, ...), so the real bot can poll it over real HTTP."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.botkit import FakeTelegram

TOKEN = "123456:TEST-TOKEN"


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
        self.version = 0  # bumps on every call the bot makes
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

    def wait_for_calls(self, since: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.version == since:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the bot did not answer")
                self.cond.wait(left)

    def wait_until_quiet(self, since: int, quiet: float = 0.2, timeout: float = 10.0) -> None:
        """Wait for the bot's first call after `since`, then until it makes no call for `quiet`
        seconds: one update can bring several calls (answer the button, then edit or send)."""
        self.wait_for_calls(since, timeout)
        deadline = time.monotonic() + timeout
        with self.cond:
            seen = self.version
            while time.monotonic() < deadline:
                self.cond.wait(quiet)
                if self.version == seen:
                    return
                seen = self.version
        raise TimeoutError("the bot did not settle")

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
            self.version += 1
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
