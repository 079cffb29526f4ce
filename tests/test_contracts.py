"""The typed contracts between core and the adapters: every message template core may queue
renders in both languages, every case notice core writes is one the bot renders, and
`enqueue` keeps staff texts and citizen notices apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from sqlmodel import Session, select

from conversations.i18n import LANGUAGES, LOCALES_DIR, t
from conversations.notices import render
from core.access import Actor
from core.cases.models import (
    AttachmentStatus,
    CaseEventKind,
    CaseOutcome,
)
from core.cases.service import (
    CasePolicy,
    ComplaintDraft,
    assign,
    close,
    file_complaint,
    reject,
    reopen,
    request_info,
    resolve,
    verify,
)
from core.cases.sla import SlaPolicy
from core.digests.models import DigestRunStatus
from core.evaluations.models import PeriodStatus
from core.outbox.models import MessageTemplate, OutboundMessage, OutboxStatus
from core.outbox.service import enqueue
from core.people.models import Language, Role
from tests.contacts import chat, telegram_citizen
from tests.factories import make_unit, make_user

T0 = datetime(2026, 11, 12, 2, 0, tzinfo=UTC)  # Thursday 10:00 WITA
REF = "KPG-2611-0001"
NOTICE_PARAMS = {
    "ref": REF,
    "body": "Mohon kirim foto struk pembayaran.",
    "outcome": CaseOutcome.substantiated.value,
}
PLAIN_TEXT = "Ringkasan mingguan Dinas Dukcapil"


def _catalog(lang: str) -> dict[str, str]:
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "conversations.po").open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id}


def _message(template: str, lang: str, params: dict[str, str]) -> OutboundMessage:
    return OutboundMessage(
        channel="telegram",
        address="9001",
        language=lang,
        template=template,
        params=json.dumps(params),
    )


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("template", list(MessageTemplate))
def test_every_template_renders_in_both_languages(template: MessageTemplate, lang: str) -> None:
    assert _catalog(lang).get(f"notify.{template.value}", "").strip(), "no catalog text"
    if template.is_case_notice:
        rendered = render(_message(template.value, lang, NOTICE_PARAMS))
        # A template without a renderer falls back to `plain`, which shows "-".
        assert REF in rendered.text, f"{template} has no renderer: {rendered.text!r}"
    else:
        rendered = render(_message(template.value, lang, {"text": PLAIN_TEXT}))
        assert rendered.text == PLAIN_TEXT
    assert "notify." not in rendered.text
    assert "{" not in rendered.text and "}" not in rendered.text  # every placeholder filled
    for row in rendered.buttons:
        for label, data in row:
            assert label.strip() and not label.startswith("notify.")
            assert data.startswith("case:") and REF in data


@pytest.mark.parametrize("lang", LANGUAGES)
def test_resolved_notice_names_the_outcome_and_asks_for_a_rating(lang: str) -> None:
    rendered = render(_message(MessageTemplate.case_resolved.value, lang, NOTICE_PARAMS))
    assert t(lang, "outcome.substantiated") in rendered.text
    assert [data for row in rendered.buttons for _, data in row] == [
        f"case:rate:{REF}:y",
        f"case:rate:{REF}:n",
    ]


def test_stored_strings_are_unchanged() -> None:
    """The enums name the strings already in the database: renaming one needs a migration."""
    assert list(OutboxStatus) == ["pending", "sent", "failed"]
    assert list(AttachmentStatus) == ["pending", "stored", "failed"]
    assert list(PeriodStatus) == ["open", "finalized"]
    assert list(DigestRunStatus) == ["running", "done"]
    assert set(MessageTemplate) == {
        "plain", "case_verified", "case_rejected", "case_in_progress", "case_info_requested",
        "case_resolved", "case_closed", "case_reopened", "web_follow_up_link",
    }  # fmt: skip
    assert set(CaseEventKind) == {
        "created", "verified", "rejected", "assigned", "info_requested", "citizen_replied",
        "reporter_erased", "resolved", "closed", "auto_closed", "reopened",
        "reopened_by_citizen", "rated_satisfied", "rated_unsatisfied", "note", "misdirected",
        "closed_unanswered",
    }  # fmt: skip


def test_every_case_notice_core_writes_reaches_the_citizen_in_their_language(
    session: Session,
) -> None:
    """Drive a case through every transition that tells the reporter: each notice core
    queues is a case notice with its event, and the bot renders it in English for an
    English-speaking citizen, naming the report."""
    unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
    admin = make_user(session, "admin", Role.admin, [])
    assert unit.id is not None and admin.id is not None
    actor = Actor(admin.id, "admin", Role.admin, frozenset())
    citizen = telegram_citizen(session, 9001)
    citizen.language = Language.en.value
    policy = CasePolicy(sla=SlaPolicy(tz=ZoneInfo("Asia/Makassar")))
    description = "Petugas loket meminta uang tambahan untuk mempercepat KTP-el saya."
    draft = ComplaintDraft(unit_id=unit.id, category="pungli", description=description)
    case = file_complaint(session, citizen, draft, policy, now=T0)
    other = file_complaint(session, citizen, draft, policy, now=T0)
    verify(session, case, policy, actor=actor, now=T0)
    assign(session, case, actor=actor, assignee_id=admin.id, now=T0)
    request_info(session, case, "Kapan kejadiannya?", actor=actor, now=T0)
    resolve(session, case, CaseOutcome.partly, "Petugas ditegur.", actor=actor, now=T0)
    close(session, case, actor=actor, now=T0)
    reopen(session, case, "Ada bukti baru.", actor=actor, now=T0)
    reject(session, other, "Bukan pengaduan.", actor=actor, now=T0)
    session.flush()

    rows = session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    queued = {MessageTemplate(m.template) for m in rows}
    # (the web follow-up link is queued by the web filing: core.cases.web_mail)
    assert queued == {m for m in MessageTemplate if m.is_case_notice} - {
        MessageTemplate.web_follow_up_link
    }
    for row in rows:
        assert row.case_event_id is not None
        assert row.status == OutboxStatus.pending
        text = render(row).text
        assert case.reference in text or other.reference in text
        assert text.startswith(("Report", "✅ Report", "🔧 Report", "❓", "🔁 Report")), text


def test_enqueue_keeps_staff_texts_and_citizen_notices_apart(session: Session) -> None:
    base = {"to": chat(42), "language": "id", "now": T0}
    with pytest.raises(ValueError, match="needs the case event"):
        enqueue(session, template=MessageTemplate.case_verified, params=NOTICE_PARAMS, **base)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a case notice"):
        enqueue(
            session,
            template=MessageTemplate.plain,
            params={"text": PLAIN_TEXT},
            case_event_id=1,
            **base,  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="exactly one rendered text"):
        enqueue(session, template=MessageTemplate.plain, params=NOTICE_PARAMS, **base)  # type: ignore[arg-type]
    assert session.exec(select(OutboundMessage)).all() == []

    enqueue(
        session,
        to=chat(42),
        language="en",
        template=MessageTemplate.plain,
        params={"text": "Ringkasan — 5 laporan"},
        photo=b"\x89PNG",
        now=T0,
    )
    session.commit()
    row = session.exec(select(OutboundMessage)).one()
    assert (row.channel, row.address, row.language, row.template, row.status) == (
        "telegram",
        "42",
        "en",
        "plain",
        "pending",
    )
    assert json.loads(row.params) == {"text": "Ringkasan — 5 laporan"}
    assert "—" in row.params  # stored readable, as before (ensure_ascii=False)
    assert row.photo == b"\x89PNG" and row.case_event_id is None
    assert row.next_attempt_at.replace(tzinfo=UTC) == T0
    assert render(row).text == "Ringkasan — 5 laporan"
