"""Outbox messages as e-mails: a subject and a plain-text body in the message's language.

A case notice to a web reporter says what the bot would say (conversations' `notify.*`
texts), then how to act on it: the follow-up page `{PUBLIC_BASE_URL}/lacak/{ref}`, where the
reporter types their follow-up code (never in these mails). The follow-up link mail, sent
once after filing, is the one mail that carries the code. A `plain` message (staff alerts,
reminders, digests) takes its subject from its first line. Subjects, actions and footers
are this package's own catalog (mail/locales, domain `mail`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import assert_never

from conversations.i18n import t
from core.cases.models import CaseOutcome
from core.cases.web_mail import follow_up_url
from core.outbox.models import MessageTemplate, OutboundMessage
from core.shared.i18n import normalise_language, translate

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
SUBJECT_MAX = 150
OUTCOMES = frozenset(o.value for o in CaseOutcome)


def mt(lang: str, key: str, **params: object) -> str:
    """A text of the e-mail catalog."""
    return translate(LOCALES_DIR, "mail", lang, key, **params)


@dataclass(frozen=True)
class MailContent:
    subject: str
    body: str
    language: str


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _params(raw_json: str) -> _Params:
    try:
        raw = json.loads(raw_json)
    except ValueError:
        raw = {}
    return _Params({k: str(v) for k, v in raw.items()} if isinstance(raw, dict) else {})


def _template(name: str) -> MessageTemplate:
    """An unknown name (a newer core, a corrupt row) is sent as a plain text."""
    try:
        return MessageTemplate(name)
    except ValueError:
        return MessageTemplate.plain


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """A header-safe line: no line breaks or control characters, at most `limit`."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


def _subject_of_text(text: str, lang: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return one_line(line)
    return mt(lang, "mail.subject.plain")


def render_mail(message: OutboundMessage, *, base_url: str) -> MailContent:
    """The e-mail of an outbox message; `base_url` is PUBLIC_BASE_URL."""
    lang = normalise_language(message.language)
    params = _params(message.params)
    if params.get("outcome") in OUTCOMES:
        params["outcome"] = t(lang, f"outcome.{params['outcome']}")
    template = _template(message.template)
    ref = params.get("ref", "")
    page = follow_up_url(base_url, ref)

    def notice(action: str | None, body: str | None = None) -> MailContent:
        text = body if body is not None else t(lang, f"notify.{template.value}")
        parts = [text.format_map(params).strip()]
        if action is not None:
            parts.append(mt(lang, action, link=page))
        parts.append(f"-- \n{mt(lang, 'mail.footer.citizen')}")
        subject = one_line(mt(lang, f"mail.subject.{template.value}", ref=ref))
        return MailContent(subject, "\n\n".join(parts) + "\n", lang)

    match template:
        case MessageTemplate.plain:
            text = params.get("text", "").strip() or "-"
            body = f"{text}\n\n-- \n{mt(lang, 'mail.footer.staff')}\n"
            return MailContent(_subject_of_text(text, lang), body, lang)
        case MessageTemplate.web_follow_up_link:
            link = follow_up_url(base_url, ref, params.get("code", ""))
            text = mt(lang, "mail.body.web_follow_up_link", ref=ref, code=params["code"], link=link)
            subject = one_line(mt(lang, "mail.subject.web_follow_up_link", ref=ref))
            body = f"{text}\n\n-- \n{mt(lang, 'mail.footer.citizen')}\n"
            return MailContent(subject, body, lang)
        case MessageTemplate.case_info_requested:
            return notice("mail.action.reply", mt(lang, "mail.body.case_info_requested"))
        case MessageTemplate.case_resolved:
            return notice("mail.action.rate")
        case (
            MessageTemplate.case_verified
            | MessageTemplate.case_in_progress
            | MessageTemplate.case_reopened
        ):
            return notice("mail.action.look")
        case MessageTemplate.case_rejected | MessageTemplate.case_closed:
            return notice(None)
        case _:
            assert_never(template)


def attachment_name(lang: str) -> str:
    """The file name of a digest's chart attached to its e-mail."""
    return mt(normalise_language(lang), "mail.attachment.chart")
