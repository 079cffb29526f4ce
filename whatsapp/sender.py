"""WhatsApp's sender for core's outbox dispatcher (`core.outbox.dispatch`).

WhatsApp lets a business send free-form messages to a citizen only within 24 hours of the
citizen's last message (the customer service window, `core.chat.window`). Inside it, a
notice goes as the same text and buttons as on Telegram (`conversations.notices.render`,
drawn by `whatsapp.render.render_screen`). Outside it, only an approved message template
may go: the notice's template from `WHATSAPP_TEMPLATES` in the citizen's language
(`WHATSAPP_TEMPLATE_LANGUAGES`), with its parameters (`TEMPLATE_PARAMS`) made to fit
WhatsApp's rules for template parameters. A notice with no template outside the window
fails for good with the reason, which staff see on the case ("not delivered").

Graph API errors map onto the dispatcher's outcomes: rate limits (HTTP 429, codes 4,
80007, 130429, 131048, 131056) pause the channel; "re-engagement message" (131047: the
window closed before WhatsApp saw our clock say so) is retried once as the template, if the
notice has one; other refusals (131026 undeliverable, 131051 unsupported, 100 / 400 bad
request, ...) fail the message with WhatsApp's reason; server errors, an expired token and
network errors leave it pending, retried with backoff.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from conversations.engine import Screen
from conversations.i18n import t
from conversations.notices import Rendered, render
from core.cases.models import CaseOutcome
from core.chat.window import last_inbound_at, window_open
from core.outbox.dispatch import ChannelLimits, NotSentYet, SlowDown, Undeliverable
from core.outbox.models import MessageTemplate, OutboundMessage
from core.people.models import Channel
from core.shared.clock import utcnow
from core.shared.config import Settings
from whatsapp.graph import GraphClient, GraphError
from whatsapp.render import render_screen

__all__ = [
    "NO_TEMPLATE",
    "TEMPLATE_PARAMS",
    "WhatsAppSender",
    "parse_pairs",
    "template_payload",
]

NO_TEMPLATE = "outside the 24-hour window and no approved template"

# The body parameters of each notice's template, in order ({{1}}, {{2}}, ...). docs/whatsapp.md
# gives the texts to submit for approval with exactly these parameters.
TEMPLATE_PARAMS: dict[MessageTemplate, tuple[str, ...]] = {
    MessageTemplate.case_verified: ("ref",),
    MessageTemplate.case_rejected: ("ref", "body"),
    MessageTemplate.case_in_progress: ("ref",),
    MessageTemplate.case_info_requested: ("ref", "body"),
    MessageTemplate.case_resolved: ("ref", "outcome", "body"),
    MessageTemplate.case_closed: ("ref",),
    MessageTemplate.case_reopened: ("ref", "body"),
}
# A template's body is at most 1,024 characters with its parameters filled in; the fixed
# texts of docs/whatsapp.md are under 250, which leaves these for the parameters.
PARAM_LIMITS = {"ref": 40, "outcome": 60, "body": 600}
_EMPTY_PARAM = "-"  # WhatsApp refuses an empty parameter

# Rate limits: pause the channel (seconds when WhatsApp does not say).
_RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}
# 131056: at most one message to the same citizen every 6 seconds ("pair rate limit").
_PAIR_RATE_LIMIT_WAIT = 6.0
_RATE_LIMIT_WAIT = 2.0
_WINDOW_CLOSED = 131047
# WhatsApp is down or our token has expired (an admin renews it): keep the message.
_RETRY_CODES = {1, 2, 190, 131000, 131016}

Clock = Callable[[], datetime]


def parse_pairs(text: str) -> dict[str, str]:
    """ "a=b,c=d" as {"a": "b", "c": "d"} (the form of WHATSAPP_TEMPLATES and
    WHATSAPP_TEMPLATE_LANGUAGES); blanks and malformed pairs are skipped."""
    pairs: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip() and value.strip():
            pairs[key.strip()] = value.strip()
    return pairs


def template_param(name: str, value: str) -> str:
    """A value as a template parameter: WhatsApp refuses newlines, tabs and more than four
    spaces in a row in one, and the body has a length limit."""
    flat = re.sub(r"\s+", " ", value).strip()
    limit = PARAM_LIMITS.get(name, 100)
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat or _EMPTY_PARAM


def _params(message: OutboundMessage) -> dict[str, str]:
    try:
        raw = json.loads(message.params)
    except ValueError:
        raw = {}
    params = {k: str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    outcome = params.get("outcome", "")
    if outcome in {o.value for o in CaseOutcome}:
        params["outcome"] = t(message.language, f"outcome.{outcome}")
    return params


def template_payload(
    message: OutboundMessage,
    name: str,
    language_code: str,
    buttons: list[list[tuple[str, str]]],
) -> dict[str, Any]:
    """The template message for a notice: its body parameters and, for a notice with
    buttons (rate the handling, reply to a question), each quick-reply button's payload, the
    same data as the button of the free-form message."""
    try:
        notice = MessageTemplate(message.template)
    except ValueError:
        notice = MessageTemplate.plain
    params = _params(message)
    body = [
        {"type": "text", "text": template_param(key, params.get(key, ""))}
        for key in TEMPLATE_PARAMS.get(notice, ())
    ]
    components: list[dict[str, Any]] = []
    if body:
        components.append({"type": "body", "parameters": body})
    flat = [data for row in buttons for _label, data in row]
    for index, data in enumerate(flat):
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": data}],
            }
        )
    template: dict[str, Any] = {"name": name, "language": {"code": language_code}}
    if components:
        template["components"] = components
    return {"type": "template", "template": template}


def _reason(exc: GraphError) -> str:
    code = f" {exc.code}" if exc.code is not None else ""
    return f"WhatsApp{code}: {exc.message}"[:500]


class WhatsAppSender:
    """Sends outbox messages to citizens' WhatsApp numbers through one business number."""

    channel = Channel.whatsapp

    def __init__(
        self,
        engine: Engine,
        client: GraphClient,
        settings: Settings,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self.templates = parse_pairs(settings.whatsapp_templates)
        self.template_languages = parse_pairs(settings.whatsapp_template_languages)
        self._limits = ChannelLimits(
            per_second=float(settings.whatsapp_messages_per_second),
            per_address_per_minute=settings.whatsapp_per_citizen_per_minute,
        )

    @property
    def limits(self) -> ChannelLimits:
        return self._limits

    def _window_open(self, address: str) -> bool:
        with Session(self.engine) as session:
            last = last_inbound_at(session, Channel.whatsapp, address)
        return window_open(last, now=self.clock())

    def _template_for(self, message: OutboundMessage) -> tuple[str, str] | None:
        """The approved template's name and language code for this message, if any."""
        if message.template == MessageTemplate.plain.value:
            return None
        name = self.templates.get(message.template)
        if not name:
            return None
        code = self.template_languages.get(message.language) or self.template_languages.get(
            "id", "id"
        )
        return name, code

    async def send(self, message: OutboundMessage) -> str | None:
        rendered = render(message)
        to = message.address.lstrip("+")
        if await asyncio.to_thread(self._window_open, message.address):
            try:
                return await self._send_free_form(to, message, rendered)
            except GraphError as exc:
                if exc.code != _WINDOW_CLOSED:
                    raise _mapped(exc) from exc
                # WhatsApp says the window has closed: once more, as the template.
                if self._template_for(message) is None:
                    raise Undeliverable(NO_TEMPLATE) from exc
        template = self._template_for(message)
        if template is None:
            raise Undeliverable(NO_TEMPLATE)
        payload = template_payload(message, *template, rendered.buttons)
        try:
            return await self._post(to, payload)
        except GraphError as exc:
            raise _mapped(exc) from exc

    async def _send_free_form(
        self, to: str, message: OutboundMessage, rendered: Rendered
    ) -> str | None:
        """The notice as on Telegram (its text and buttons); the id of its last message,
        which carries the buttons. (A photo, for staff only, is not sent on WhatsApp.)"""
        screen = Screen(rendered.text, rendered.buttons)
        wamid = ""
        for payload in render_screen(screen, message.language):
            wamid = await self._post(to, payload)
        return wamid or None

    async def _post(self, to: str, payload: Mapping[str, Any]) -> str:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        body.update(payload)
        try:
            return await self.client.send(body)
        except GraphError:
            raise
        except (httpx.HTTPError, OSError) as exc:
            raise NotSentYet(f"WhatsApp unreachable: {exc}"[:500]) from exc


def _mapped(exc: GraphError) -> Exception:
    """A Graph API refusal as the dispatcher's outcome."""
    if exc.status == 429 or exc.code in _RATE_LIMIT_CODES:
        wait = exc.retry_after
        if wait is None or wait <= 0:
            wait = _PAIR_RATE_LIMIT_WAIT if exc.code == 131056 else _RATE_LIMIT_WAIT
        return SlowDown(wait)
    if (
        exc.status < 400
        or exc.status >= 500
        or exc.status in (401, 408)
        or exc.code in _RETRY_CODES
    ):
        return NotSentYet(_reason(exc))
    return Undeliverable(_reason(exc))
