"""Outbox messages rendered in the recipient's language, with their buttons.

Every `MessageTemplate` has its text `notify.<template>` in the catalog and its buttons in
`_buttons`, whose `match` mypy checks for exhaustiveness: a template added in core without a
renderer here fails the type check (and tests/test_contracts.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import assert_never

from conversations.i18n import t
from core.cases.models import CaseOutcome
from core.outbox.models import MessageTemplate, OutboundMessage

TEMPLATES = tuple(m.value for m in MessageTemplate)
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
    template = _template(message.template)
    text = t(lang, f"notify.{template.value}").format_map(params).strip()
    return Rendered(text=text or "-", buttons=_buttons(template, lang, params.get("ref", "")))


def _template(name: str) -> MessageTemplate:
    """An unknown name (a newer core, a corrupt row) is shown as a plain text."""
    try:
        return MessageTemplate(name)
    except ValueError:
        return MessageTemplate.plain


def _buttons(template: MessageTemplate, lang: str, ref: str) -> list[list[tuple[str, str]]]:
    match template:
        case MessageTemplate.case_info_requested:
            return [[(t(lang, "notify.button.reply"), f"case:reply:{ref}")]]
        case MessageTemplate.case_resolved:
            return [
                [
                    (t(lang, "notify.button.satisfied"), f"case:rate:{ref}:y"),
                    (t(lang, "notify.button.unsatisfied"), f"case:rate:{ref}:n"),
                ]
            ]
        case (
            MessageTemplate.plain
            | MessageTemplate.case_verified
            | MessageTemplate.case_rejected
            | MessageTemplate.case_in_progress
            | MessageTemplate.case_closed
            | MessageTemplate.case_reopened
            | MessageTemplate.web_follow_up_link  # e-mail only: no buttons anywhere
        ):
            return []
        case _:
            assert_never(template)
