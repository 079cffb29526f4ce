"""The WhatsApp webhook: Meta's verification handshake, and notifications stored before 200.

GET: `hub.mode=subscribe` with our verify token answers `hub.challenge` (Meta's check when
the webhook URL is set in the App Dashboard); anything else 403.

POST: the raw body must carry `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret,
body)>` (constant-time compare), else 403 and nothing is read further. Each message of
`entry[].changes[].value.messages[]` is stored (`core.chat.inbox.store_inbound`, keyed by its
wamid, without the sender's profile name) before the 200, so a message Meta was told about
is never lost; delivery statuses go to `whatsapp.statuses.record_statuses`. A body that is
not JSON is 400; a failure to store is 503 (Meta redelivers later); nothing is ever 500.
The fresh messages are then handed to the runtime, which handles them in order per citizen.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from core.chat.inbox import Arrival, store_inbound
from core.people.models import Channel
from core.shared.config import Settings
from whatsapp.statuses import record_statuses

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
# Meta batches at most a few hundred small notifications into one POST; far below this.
MAX_BODY_BYTES = 1024 * 1024
# What is kept of a message's text (WhatsApp allows 4,096 characters; more is not theirs).
MAX_TEXT = 8192
MAX_ID = 200  # longest callback / media / message id kept
WA_ID_RE = re.compile(r"^[1-9][0-9]{5,19}$")  # a WhatsApp id: the number, digits only
CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


class Inlet(Protocol):
    """Where fresh messages go (the runtime): waits for room, then takes them."""

    async def room(self) -> None: ...

    def submit(self, messages: list[dict[str, Any]]) -> None: ...


def _short(value: Any, limit: int = MAX_ID) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def clean_message(message: Any) -> dict[str, Any] | None:
    """What is kept of one webhook message (no names, no shared contact cards, no captions):
    its wamid, sender, time, kind and the part of it the conversation uses. None for one
    without a usable wamid or sender (it cannot be handled or answered)."""
    if not isinstance(message, dict):
        return None
    wamid = _short(message.get("id"))
    sender = message.get("from")
    if wamid is None or not isinstance(sender, str) or not WA_ID_RE.match(sender):
        return None
    kind = message.get("type")
    kept: dict[str, Any] = {"id": wamid, "from": sender, "type": "other"}
    ts = message.get("timestamp")
    if isinstance(ts, str) and ts.isdigit() and len(ts) <= 12:
        kept["timestamp"] = ts
    if kind == "text" and isinstance(message.get("text"), dict):
        body = message["text"].get("body")
        if isinstance(body, str):
            kept.update(type="text", text={"body": body[:MAX_TEXT]})
    elif kind == "interactive" and isinstance(message.get("interactive"), dict):
        interactive = message["interactive"]
        sub = interactive.get("type")
        if sub in ("button_reply", "list_reply") and isinstance(interactive.get(sub), dict):
            reply_id = _short(interactive[sub].get("id"))
            if reply_id is not None:
                kept.update(type="interactive", interactive={"type": sub, sub: {"id": reply_id}})
    elif kind == "button" and isinstance(message.get("button"), dict):
        # A quick-reply button of a template message: its payload is the button's data.
        payload = _short(message["button"].get("payload"))
        if payload is not None:
            kept.update(type="button", button={"payload": payload})
    elif kind == "image" and isinstance(message.get("image"), dict):
        media_id = _short(message["image"].get("id"))
        if media_id is not None:
            kept.update(type="image", image={"id": media_id})
    elif kind == "location" and isinstance(message.get("location"), dict):
        place = message["location"]
        lat, lon = place.get("latitude"), place.get("longitude")
        if _number(lat) and _number(lon):
            kept.update(type="location", location={"latitude": lat, "longitude": lon})
    return kept


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_notification(
    body: dict[str, Any], phone_number_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The messages (cleaned) and delivery statuses of one notification, for our number."""
    messages: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    entries = body.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            if number is not None and str(number) != phone_number_id:
                continue  # another number of the same business account
            found = value.get("messages")
            for message in found if isinstance(found, list) else []:
                cleaned = clean_message(message)
                if cleaned is not None:
                    messages.append(cleaned)
            found = value.get("statuses")
            statuses.extend(
                s for s in (found if isinstance(found, list) else []) if isinstance(s, dict)
            )
    return messages, statuses


def message_key(secret: str, wamid: str) -> str:
    """What a message is known by here: a keyed hash of its wamid. A wamid is base64 that
    starts with the citizen's number, and handled ids are kept (for redeliveries) where an
    erasure cannot find them by address; and it may be longer than the column."""
    return "h:" + hmac.new(secret.encode(), f"wamid:{wamid}".encode(), hashlib.sha256).hexdigest()


def store_messages(engine: Engine, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Persist cleaned messages (their `id` already `message_key`'s); those not seen before,
    as stored, in arrival order."""
    arrivals = [Arrival(message_id=m["id"], address=m["from"], payload=m) for m in messages]
    return [a.payload for a in store_inbound(engine, Channel.whatsapp, arrivals)]


def signature_ok(app_secret: str, raw: bytes, given: str | None) -> bool:
    if not app_secret or not given:
        return False
    expected = "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().encode("utf-8", "replace"))


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None when it is larger than `limit`."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return None
    chunks: list[bytes] = []
    got = 0
    async for chunk in request.stream():
        got += len(chunk)
        if got > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_route(settings: Settings, engine: Engine, inlet: Inlet) -> Route:
    """GET and POST <whatsapp_webhook_path>."""
    verify_token = settings.whatsapp_verify_token.encode()
    app_secret = settings.whatsapp_app_secret
    secret = settings.pseudonym_key
    phone_number_id = settings.whatsapp_phone_number_id

    async def verify(request: Request) -> Response:
        query = request.query_params
        given = query.get("hub.verify_token", "").encode("utf-8", "replace")
        challenge = query.get("hub.challenge", "")
        if (
            query.get("hub.mode") == "subscribe"
            and verify_token
            and hmac.compare_digest(given, verify_token)
            and CHALLENGE_RE.match(challenge)
        ):
            return PlainTextResponse(challenge)
        return PlainTextResponse("forbidden", status_code=403)

    async def receive(request: Request) -> Response:
        try:
            raw = await _read_body(request, MAX_BODY_BYTES)
        except ClientDisconnect:
            return Response(status_code=400)
        if raw is None:
            return PlainTextResponse("body too large", status_code=413)
        if not signature_ok(app_secret, raw, request.headers.get(SIGNATURE_HEADER)):
            return PlainTextResponse("bad signature", status_code=403)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):  # also bytes that are not UTF-8, deep nesting
            return PlainTextResponse("not JSON", status_code=400)
        if not isinstance(body, dict):
            return PlainTextResponse("not a notification", status_code=400)
        messages, statuses = parse_notification(body, phone_number_id)
        messages = [{**m, "id": message_key(secret, str(m["id"]))} for m in messages]
        try:
            if messages:
                await inlet.room()
                fresh = await asyncio.to_thread(store_messages, engine, messages)
            else:
                fresh = []
        except Exception as exc:  # (no SQL parameters in the log: they hold the number)
            log.error(
                "could not store a WhatsApp notification (%s); Meta will redeliver it",
                type(exc).__name__,
            )
            return PlainTextResponse("try again", status_code=503)
        if fresh:
            inlet.submit(fresh)
        if statuses:  # after the messages are safe and handed on: a failure here loses none
            try:
                await asyncio.to_thread(record_statuses, engine, statuses)
            except Exception as exc:
                log.error("could not record WhatsApp delivery statuses (%s)", type(exc).__name__)
        return Response(status_code=200)

    async def route(request: Request) -> Response:
        if request.method == "GET":
            return await verify(request)
        return await receive(request)

    return Route(settings.whatsapp_webhook_path, route, methods=["GET", "POST"])
