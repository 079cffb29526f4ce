"""Requests no page can take, refused before any route sees them: a NUL character in the
path, the query or a form or JSON body (PostgreSQL text cannot hold one: it would fail deep
inside a query instead of being answered), and bodies larger than the site takes.

Other bodies (multipart forms with files) go on to their route as they arrive: their bytes
are counted as the route reads them, whether a Content-Length announced them or not
(chunked), and past the limit the read raises `BodyTooLarge` (an app may answer it with its
own page; else the guard answers 413) without the rest being read."""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 10 * 1024 * 1024
# How each kind of text body writes a NUL character.
_NUL_IN = {
    b"application/x-www-form-urlencoded": (b"\x00", b"%00"),
    b"application/json": (b"\x00", b"\\u0000"),
    b"text/": (b"\x00",),
}


class BodyTooLarge(Exception):
    """A streamed request body went past the guard's limit while a route read it."""


class RequestGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        if b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(
            scope.get("query_string", b"")
        ):
            await _refuse(scope, send, 400)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body_bytes:
            await _refuse(scope, send, 413)
            return
        content_type = headers.get(b"content-type", b"").lower()
        nuls = next((n for kind, n in _NUL_IN.items() if content_type.startswith(kind)), None)
        if nuls is None:  # files: bytes are theirs to be, counted as they stream
            await self._counted(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
            if len(body) > self.max_body_bytes:
                await _refuse(scope, send, 413)
                return
        if any(nul in body for nul in nuls):
            await _refuse(scope, send, 400)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app with the body's bytes counted as it reads them. Past the limit the read
        raises BodyTooLarge: an app that answers it (the public site: its own 413 page) is
        let answer; one that makes a 500 of it is silenced, and the guard answers 413."""
        seen = 0
        overflowed = started = muted = False

        async def counting_receive() -> Message:
            nonlocal seen, overflowed
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    overflowed = True
                    raise BodyTooLarge(f"more than {self.max_body_bytes} bytes")
            return message

        async def noting_send(message: Message) -> None:
            nonlocal started, muted
            if message["type"] == "http.response.start":
                if overflowed and message["status"] >= 500:
                    muted = True
                    return
                started = True
            if not muted:
                await send(message)

        try:
            await self.app(scope, counting_receive, noting_send)
        except Exception:
            if not overflowed:  # (what the overflow made of it is answered below)
                raise
        if overflowed and not started:
            await _refuse(scope, send, 413)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


async def _refuse(scope: Scope, send: Send, status: int) -> None:
    """A short answer in the asker's terms: problem JSON for the API, text otherwise."""
    if scope.get("path", "").startswith("/api/"):
        detail = {
            400: "the request contains a NUL character, which no field may hold",
            413: f"the request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB",
        }[status]
        body = json.dumps({"type": "about:blank", "status": status, "detail": detail}).encode()
        content_type = b"application/problem+json"
    else:
        text = {
            400: "Permintaan memuat karakter yang tidak diizinkan (NUL). "
            "/ The request contains a character that is not allowed (NUL).",
            413: "Isian terlalu besar. / The request is too large.",
        }[status]
        body = text.encode()
        content_type = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
