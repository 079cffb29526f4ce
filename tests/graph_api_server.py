"""A small local HTTP server speaking the WhatsApp Cloud API (Graph API) shapes the channel
uses, so the real adapter talks to it over real HTTP; and builders for signed webhook POSTs.

Shapes (checked against Meta's Cloud API reference for messages, media and webhooks):
- POST /{version}/{phone_number_id}/messages (Authorization: Bearer <token>, JSON body with
  messaging_product "whatsapp", to, type, ...) ->
  {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
   "messages": [{"id": "wamid.…"}]}
- GET /{version}/{media_id} -> {"messaging_product": "whatsapp", "url": …, "mime_type": …,
  "sha256": …, "file_size": "…", "id": media_id}; GET of that url (with the bearer token) ->
  the bytes.
- Errors: {"error": {"message": …, "type": "OAuthException", "code": …, "error_data":
  {"messaging_product": "whatsapp", "details": …}, "fbtrace_id": …}}. Programmable: rate
  limits (130429 throughput, 131056 pair rate), 131047 re-engagement (outside the 24-hour
  window), 500s; the version segment is optional.
- Webhook notifications: {"object": "whatsapp_business_account", "entry": [{"id": WABA,
  "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp", "metadata":
  {...}, "contacts": [...], "messages": [...], "statuses": [...]}}]}]}, signed with
  X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from tests.waiting import TIMEOUT, Description, gave_up

T = TypeVar("T")

PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN = "TEST-WA-ACCESS-TOKEN"
APP_SECRET = "test-app-secret-0123456789abcdef"
VERIFY_TOKEN = "test-verify-token-0123456789"
BUSINESS_NUMBER = "6281100000000"
WABA_ID = "102290129340398"
VERSION = "v21.0"

RATE_LIMIT = 130429  # Cloud API throughput reached
PAIR_RATE_LIMIT = 131056  # too many messages to the same recipient
RE_ENGAGEMENT = 131047  # more than 24 hours since the customer last wrote
GENERIC = 131000  # "Something went wrong"
_TITLES = {
    RATE_LIMIT: "Rate limit hit",
    PAIR_RATE_LIMIT: "(Business Account, Consumer Account) pair rate limit hit",
    RE_ENGAGEMENT: "Re-engagement message",
    GENERIC: "Something went wrong",
    190: "Invalid OAuth access token",
    100: "Invalid parameter",
}


@dataclass
class Failure:
    """The next `times` sends (to `to`, or to anyone) answer `status` with WhatsApp `code`."""

    status: int
    code: int
    times: int = 1
    to: str | None = None
    retry_after: float | None = None


@dataclass
class Medium:
    data: bytes
    mime_type: str = "image/jpeg"
    downloads: int = 0


@dataclass
class Attempt:
    """One POST to /messages: the payload, and what it got (a wamid, or an error code)."""

    payload: dict[str, Any]
    status: int
    wamid: str | None = None
    code: int | None = None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None


@dataclass
class _State:
    failures: list[Failure] = field(default_factory=list)
    outside_window: set[str] = field(default_factory=set)
    media: dict[str, Medium] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)


class GraphApiServer:
    """A fake Graph API for one business phone number. `base_url` is what
    settings.whatsapp_api_base_url points at (it includes the version)."""

    def __init__(
        self, phone_number_id: str = PHONE_NUMBER_ID, access_token: str = ACCESS_TOKEN
    ) -> None:
        self.phone_number_id = phone_number_id
        self.access_token = access_token
        self.state = _State()
        self.cond = threading.Condition()
        self._ids = itertools.count(1)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _answer(
                self, status: int, body: bytes, content_type: str, extra: dict[str, str]
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                self._answer(*server.handle("POST", self.path, dict(self.headers), raw))

            def do_GET(self) -> None:
                self._answer(*server.handle("GET", self.path, dict(self.headers), b""))

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- running ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/{VERSION}"

    def start(self) -> GraphApiServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.cond:
            self.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> GraphApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- programming it --------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        code: int,
        *,
        times: int = 1,
        to: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """The next `times` sends (to `to`, or any) fail with HTTP `status` and WhatsApp
        error `code` (e.g. 429/RATE_LIMIT, 429/PAIR_RATE_LIMIT, 500/GENERIC)."""
        with self.cond:
            self.state.failures.append(Failure(status, code, times, to, retry_after))

    def close_window(self, wa_id: str) -> None:
        """Free-form messages to `wa_id` now fail with 131047 (templates still go)."""
        with self.cond:
            self.state.outside_window.add(wa_id)

    def open_window(self, wa_id: str) -> None:
        with self.cond:
            self.state.outside_window.discard(wa_id)

    def add_media(
        self, data: bytes, mime_type: str = "image/jpeg", media_id: str | None = None
    ) -> str:
        """A medium a citizen sent; its id (as the webhook's image.id carries it)."""
        with self.cond:
            media_id = media_id or f"{900000000000 + next(self._ids)}"
            self.state.media[media_id] = Medium(data, mime_type)
            return media_id

    def downloads(self, media_id: str) -> int:
        with self.cond:
            return self.state.media[media_id].downloads

    # -- what happened ---------------------------------------------------------------------

    @property
    def attempts(self) -> list[Attempt]:
        with self.cond:
            return list(self.state.attempts)

    def mark(self) -> int:
        """A bookmark in the sends: `sent_since` lists what came after it."""
        with self.cond:
            return len(self.state.attempts)

    def sent_since(self, mark: int = 0, to: str | None = None) -> list[dict[str, Any]]:
        """The payloads accepted (not refused) after `mark`, to `to` (or anyone), in order."""
        with self.cond:
            return [
                a.payload
                for a in self.state.attempts[mark:]
                if a.wamid is not None and (to is None or a.payload.get("to") == to)
            ]

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        return self.sent_since(0, to)

    def texts(self, to: str | None = None, mark: int = 0) -> list[str]:
        """The visible text of each accepted message (text body, interactive body, template
        name), in order: what the citizen reads."""
        return [message_text(p) for p in self.sent_since(mark, to)]

    def wait_until(
        self, condition: Callable[[], T | None], what: Description, timeout: float = TIMEOUT
    ) -> T:
        """The first true value of `condition()`, checked now and after each request."""
        with self.cond:
            value = self.cond.wait_for(condition, timeout)
            if not value:
                raise gave_up(what, timeout)
            return value

    # -- the HTTP side ---------------------------------------------------------------------

    def handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, bytes, str, dict[str, str]]:
        parts = urlsplit(path)
        segments = [s for s in parts.path.split("/") if s]
        if segments and segments[0].startswith("v") and segments[0][1:2].isdigit():
            segments = segments[1:]
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if auth != f"Bearer {self.access_token}":
            return _error(401, 190, "Error validating access token")
        if method == "POST" and segments == [self.phone_number_id, "messages"]:
            return self._send(raw)
        if method == "GET" and len(segments) == 2 and segments[0] == "download":
            return self._download(segments[1])
        if method == "GET" and len(segments) == 1:
            return self._media_url(segments[0], parse_qs(parts.query))
        return _error(400, 100, "Unsupported request")

    def _send(self, raw: bytes) -> tuple[int, bytes, str, dict[str, str]]:
        try:
            payload = json.loads(raw)
        except ValueError:
            return _error(400, 100, "Invalid JSON")
        with self.cond:
            try:
                status, code, retry_after = self._verdict(payload)
                if code is not None:
                    self.state.attempts.append(Attempt(payload, status, code=code))
                    extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
                    return _error(status, code, _TITLES.get(code, "Error"), extra)
                wamid = f"wamid.OUT{next(self._ids):08d}"
                self.state.attempts.append(Attempt(payload, 200, wamid=wamid))
                to = str(payload["to"])
                body = {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": wamid}],
                }
                return 200, json.dumps(body).encode(), "application/json", {}
            finally:
                self.cond.notify_all()

    def _verdict(self, payload: Any) -> tuple[int, int | None, float | None]:
        if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
            return 400, 100, None
        to = payload.get("to")
        kind = payload.get("type", "text")
        if not isinstance(to, str) or not to.isdigit() or not isinstance(kind, str):
            return 400, 100, None
        if kind not in payload:
            return 400, 100, None
        for failure in self.state.failures:
            if failure.times > 0 and failure.to in (None, to):
                failure.times -= 1
                return failure.status, failure.code, failure.retry_after
        if to in self.state.outside_window and kind != "template":
            return 400, RE_ENGAGEMENT, None
        return 200, None, None

    def _media_url(
        self, media_id: str, query: dict[str, list[str]]
    ) -> tuple[int, bytes, str, dict[str, str]]:
        with self.cond:
            medium = self.state.media.get(media_id)
        if medium is None:
            return _error(400, 100, "Unsupported get request: media does not exist")
        pnid = query.get("phone_number_id")
        if pnid and pnid[0] != self.phone_number_id:
            return _error(400, 100, "Media does not belong to this phone number")
        body = {
            "messaging_product": "whatsapp",
            "url": f"{self.url}/download/{media_id}",
            "mime_type": medium.mime_type,
            "sha256": hashlib.sha256(medium.data).hexdigest(),
            "file_size": str(len(medium.data)),
            "id": media_id,
        }
        return 200, json.dumps(body).encode(), "application/json", {}

    def _download(self, media_id: str) -> tuple[int, bytes, str, dict[str, str]]:
        with self.cond:
            medium = self.state.media.get(media_id)
            if medium is None:
                return 404, b"", "text/plain", {}
            medium.downloads += 1
            self.cond.notify_all()
        return 200, medium.data, medium.mime_type, {}


def _error(
    status: int, code: int, message: str, extra: dict[str, str] | None = None
) -> tuple[int, bytes, str, dict[str, str]]:
    body = {
        "error": {
            "message": f"({'#'}{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message},
            "fbtrace_id": "AbCdEfGhIjK",
        }
    }
    return status, json.dumps(body).encode(), "application/json", dict(extra or {})


def message_text(payload: dict[str, Any]) -> str:
    """What a citizen reads of an outgoing payload: a text's body, an interactive message's
    body text, an image's caption, a template's name."""
    kind = payload.get("type", "text")
    if kind == "text":
        return str(payload["text"]["body"])
    if kind == "interactive":
        return str(payload["interactive"].get("body", {}).get("text", ""))
    if kind == "template":
        return str(payload["template"]["name"])
    if kind == "image":
        return str(payload["image"].get("caption", ""))
    return ""


def choices(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """The (id, title) a citizen can tap on an interactive message (buttons or list rows)."""
    if payload.get("type") != "interactive":
        return []
    action = payload["interactive"].get("action", {})
    found = [(b["reply"]["id"], b["reply"]["title"]) for b in action.get("buttons", [])]
    for section in action.get("sections", []):
        found.extend((r["id"], r["title"]) for r in section.get("rows", []))
    return found


# -- webhook notifications (what Meta POSTs to us) ---------------------------------------------

_inbound_ids = itertools.count(1)


def new_wamid() -> str:
    return f"wamid.IN{next(_inbound_ids):010d}"


def now_ts() -> str:
    """WhatsApp's timestamp of a message sent now (Unix seconds, as a string)."""
    return str(int(time.time()))


def text_message(
    sender: str, body: str, wamid: str | None = None, ts: int | None = None
) -> dict[str, Any]:
    return {
        "from": sender,
        "id": wamid or new_wamid(),
        "timestamp": now_ts() if ts is None else str(ts),
        "type": "text",
        "text": {"body": body},
    }


def button_reply(
    sender: str, reply_id: str, title: str = "OK", wamid: str | None = None
) -> dict[str, Any]:
    return {
        "from": sender,
        "id": wamid or new_wamid(),
        "timestamp": now_ts(),
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }


def list_reply(
    sender: str, reply_id: str, title: str = "OK", wamid: str | None = None
) -> dict[str, Any]:
    return {
        "from": sender,
        "id": wamid or new_wamid(),
        "timestamp": now_ts(),
        "type": "interactive",
        "interactive": {
            "type": "list_reply",
            "list_reply": {"id": reply_id, "title": title, "description": ""},
        },
    }


def image_message(
    sender: str, media_id: str, caption: str = "", wamid: str | None = None
) -> dict[str, Any]:
    image: dict[str, Any] = {"mime_type": "image/jpeg", "sha256": "x", "id": media_id}
    if caption:
        image["caption"] = caption
    return {
        "from": sender,
        "id": wamid or new_wamid(),
        "timestamp": now_ts(),
        "type": "image",
        "image": image,
    }


def location_message(
    sender: str, latitude: float, longitude: float, name: str = "", wamid: str | None = None
) -> dict[str, Any]:
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if name:
        location["name"] = name
    return {
        "from": sender,
        "id": wamid or new_wamid(),
        "timestamp": now_ts(),
        "type": "location",
        "location": location,
    }


def status_update(
    wamid: str,
    status: str,
    recipient: str,
    errors: list[dict[str, Any]] | None = None,
    ts: int = 1764490000,
) -> dict[str, Any]:
    """A delivery status (sent, delivered, read, failed) of a message we sent."""
    update: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(ts),
        "recipient_id": recipient,
    }
    if errors:
        update["errors"] = errors
    return update


def notification(
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One webhook notification carrying `messages` and/or `statuses` (a contacts entry with
    a profile name for each sender, as Meta sends)."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": BUSINESS_NUMBER, "phone_number_id": phone_number_id},
    }
    if messages:
        senders = dict.fromkeys(m["from"] for m in messages)
        value["contacts"] = [
            {"profile": {"name": (names or {}).get(s, "Warga")}, "wa_id": s} for s in senders
        ]
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
    }


def signature(raw: bytes, app_secret: str = APP_SECRET) -> str:
    """The X-Hub-Signature-256 header value Meta puts on `raw`."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def signed(
    body: dict[str, Any] | bytes, app_secret: str = APP_SECRET
) -> tuple[bytes, dict[str, str]]:
    """(raw body, headers) of a webhook POST as Meta sends it, signed with `app_secret`."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature(raw, app_secret),
    }


def labels(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(id, label as the citizen reads it) of each choice: a list row shortened with "…"
    reads in full in its description."""
    if payload.get("type") != "interactive":
        return []
    action = payload["interactive"].get("action", {})
    found = [(b["reply"]["id"], b["reply"]["title"]) for b in action.get("buttons", [])]
    for section in action.get("sections", []):
        for row in section.get("rows", []):
            title = row["title"]
            if title.endswith("…") and row.get("description"):
                title = row["description"]
            found.append((row["id"], title))
    return found


# -- the real site with the WhatsApp channel, and citizens writing to it -----------------------


def whatsapp_settings(db_url: str, graph: GraphApiServer, **overrides: Any) -> Any:
    """Settings with the WhatsApp channel on, talking to `graph`."""
    from core.shared.config import load_settings

    values: dict[str, Any] = {
        "database_url": db_url,
        "environment": "test",
        "timezone": "Asia/Makassar",
        "whatsapp_phone_number_id": graph.phone_number_id,
        "whatsapp_access_token": graph.access_token,
        "whatsapp_app_secret": APP_SECRET,
        "whatsapp_verify_token": VERIFY_TOKEN,
        "whatsapp_business_number": BUSINESS_NUMBER,
        "whatsapp_api_base_url": graph.base_url,
        "whatsapp_messages_per_second": 1000,
        **overrides,
    }
    return load_settings(_env_file=None, **values)


class WhatsAppUnderTest:
    """The real site (`app.site.create_site`) with the WhatsApp webhook and runtime, reached
    over ASGI in this event loop; the runtime answers through `graph` over real HTTP."""

    def __init__(self, site: Any, runtime: Any, graph: GraphApiServer, http: Any) -> None:
        self.site = site
        self.runtime = runtime
        self.graph = graph
        self.http = http
        self.path = runtime.policies.settings.whatsapp_webhook_path

    async def post(
        self,
        body: dict[str, Any] | bytes,
        *,
        secret: str | None = APP_SECRET,
        headers: dict[str, Any] | None = None,
    ) -> Any:
        """POST a webhook notification (signed with `secret`; None: unsigned)."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent: dict[str, Any] = {"Content-Type": "application/json"}
        if secret is not None:
            sent["X-Hub-Signature-256"] = signature(raw, secret)
        sent.update(headers or {})
        return await self.http.post(self.path, content=raw, headers=sent)

    async def idle(self) -> None:
        """Until every message handed to the runtime is handled and answered."""
        await self.runtime.until(lambda: self.runtime.in_hand == 0)

    async def deliver(self, messages: list[dict[str, Any]], *, twice: bool = True) -> None:
        """Meta delivers `messages` in one notification (and, `twice`, the same again at
        the same moment and once more after it was handled); each POST must be 200."""
        body = notification(messages)
        posts = [self.post(body)] + ([self.post(body)] if twice else [])
        import asyncio

        for response in await asyncio.gather(*posts):
            assert response.status_code == 200, response.text
        await self.idle()
        if twice:
            mark = self.graph.mark()
            response = await self.post(body)
            assert response.status_code == 200, response.text
            await self.idle()
            assert self.graph.sent_since(mark) == [], "a redelivered message was answered again"

    def citizen(self, number: str) -> WaCitizen:
        return WaCitizen(self, number)


class WaCitizen:
    """A person writing to the business number: types, taps buttons and list rows, sends
    photos and locations; reads what the business answered."""

    def __init__(self, kit: WhatsAppUnderTest, number: str, *, twice: bool = True) -> None:
        self.kit = kit
        self.number = number
        self.twice = twice
        self.last: list[dict[str, Any]] = []

    def all(self) -> list[dict[str, Any]]:
        return self.kit.graph.sent(self.number)

    def texts(self) -> list[str]:
        return [message_text(p) for p in self.all()]

    def screen(self) -> str:
        """What the last answer said (all its messages)."""
        return "\n".join(message_text(p) for p in self.last)

    def choices(self) -> list[tuple[str, str]]:
        return [c for p in self.last for c in labels(p)]

    def labels(self) -> list[str]:
        return [label for _, label in self.choices()]

    async def send(self, message: dict[str, Any]) -> None:
        mark = self.kit.graph.mark()
        await self.kit.deliver([message], twice=self.twice)
        self.last = self.kit.graph.sent_since(mark, self.number)

    async def say(self, text: str) -> None:
        await self.send(text_message(self.number, text))

    async def press_data(self, data: str) -> None:
        kind = "button_reply"
        for payload in self.last:
            if payload.get("type") == "interactive" and any(i == data for i, _ in labels(payload)):
                kind = "list_reply" if payload["interactive"]["type"] == "list" else kind
        make = list_reply if kind == "list_reply" else button_reply
        await self.send(make(self.number, data))

    async def press(self, label_part: str) -> None:
        """Tap the choice of the last answer whose label contains `label_part`."""
        matches = [i for i, label in self.choices() if label_part.lower() in label.lower()]
        assert matches, f"no choice {label_part!r} in {self.labels()} ({self.screen()!r})"
        await self.press_data(matches[0])

    async def send_photo(self, media_id: str) -> None:
        await self.send(image_message(self.number, media_id))

    async def send_location(self, latitude: float, longitude: float) -> None:
        await self.send(location_message(self.number, latitude, longitude))


def whatsapp_site(settings: Any, engine: Any, graph: GraphApiServer, **runtime_options: Any) -> Any:
    """`async with whatsapp_site(...) as kit`: the site and a started runtime (replaying
    what is stored), stopped at the end."""
    import contextlib

    @contextlib.asynccontextmanager
    async def running() -> Any:
        import httpx

        from app.site import create_site
        from core.policies import build
        from whatsapp.runtime import WhatsAppRuntime, graph_client

        policies = build(settings, engine)
        site = create_site(policies)
        async with httpx.AsyncClient() as graph_http:
            options = {"backoff": 0.01, **runtime_options}
            kind = options.pop("runtime_class", WhatsAppRuntime)
            runtime = kind(policies, graph_client(policies, graph_http), **options)
            await runtime.start()
            site.add_public_route(runtime.route())
            transport = httpx.ASGITransport(app=site)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                try:
                    yield WhatsAppUnderTest(site, runtime, graph, http)
                finally:
                    await runtime.stop()

    return running()
