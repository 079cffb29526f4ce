"""Outbox messages rendered in the recipient's language, with their buttons."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.i18n import t
from core.cases.models import CaseOutcome
from core.outbox.models import OutboundMessage

TEMPLATES = (
    "case_verified",
    "case_rejected",
    "case_in_progress",
    "case_info_requested",
    "case_resolved",
    "case_closed",
    "case_reopened",
    "plain",
)
OUTCOMES = tuple(o.value for o in CaseOutcome)


@dataclass
class Rendered:
    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(message: OutboundMessage) -> Rendered:
    lang = message.language
    try:
        raw = json.loads(message.params)
    except ValueError:
        raw = {}
    params = _Params({k: str(v) for k, v in raw.items()} if isinstance(raw, dict) else {})
    if params.get("outcome") in OUTCOMES:
        params["outcome"] = t(lang, f"outcome.{params['outcome']}")
    template = message.template if message.template in TEMPLATES else "plain"
    text = t(lang, f"notify.{template}").format_map(params).strip()
    ref = params.get("ref", "")
    buttons: list[list[tuple[str, str]]] = []
    if template == "case_info_requested":
        buttons = [[(t(lang, "notify.button.reply"), f"case:reply:{ref}")]]
    elif template == "case_resolved":
        buttons = [
            [
                (t(lang, "notify.button.satisfied"), f"case:rate:{ref}:y"),
                (t(lang, "notify.button.unsatisfied"), f"case:rate:{ref}:n"),
            ]
        ]
    return Rendered(text=text or "-", buttons=buttons)
