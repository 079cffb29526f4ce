"""What a staff action tells the citizen: the template and parameters of the notice.

`lifecycle` queues its notices through `notice_params`, and the console's preview builds
the same unsaved outbox row with `preview_notice`, so what a supervisor is shown before an
action is what the citizen is sent after it."""

from __future__ import annotations

import json
from enum import StrEnum

from sqlmodel import Session, select

from core.access import Actor, can_view_case
from core.cases.models import Case, CaseOutcome, CaseStatus, Privacy
from core.outbox.addresses import citizen_address
from core.outbox.models import MessageTemplate, OutboundMessage
from core.people.models import Citizen


class NoticeAction(StrEnum):
    """The staff actions that notify the citizen."""

    verify = "verify"
    reject = "reject"
    assign = "assign"  # the first assignment only (later ones are internal)
    request_info = "request_info"
    resolve = "resolve"
    close = "close"
    reopen = "reopen"


TEMPLATES: dict[NoticeAction, MessageTemplate] = {
    NoticeAction.verify: MessageTemplate.case_verified,
    NoticeAction.reject: MessageTemplate.case_rejected,
    NoticeAction.assign: MessageTemplate.case_in_progress,
    NoticeAction.request_info: MessageTemplate.case_info_requested,
    NoticeAction.resolve: MessageTemplate.case_resolved,
    NoticeAction.close: MessageTemplate.case_closed,
    NoticeAction.reopen: MessageTemplate.case_reopened,
}


def notice_params(reference: str, body: str | None, outcome: str | None) -> dict[str, str]:
    """The parameters of a case notice (rendered by the citizen's channel)."""
    params = {"ref": reference, "body": body or ""}
    if outcome:
        params["outcome"] = outcome
    return params


def may_cite(case: Case, original: Case) -> bool:
    """Whether `case`'s public texts (the reporter's notice, the reason every reader of the
    case sees) may name `original`: only when whoever may open `case` may open `original`
    too (same unit, no other officer named) and `original` is not `rahasia`."""
    return (
        original.privacy != Privacy.rahasia
        and original.unit_id == case.unit_id
        and original.officer_id in (None, case.officer_id)
    )


def rejection_text(case: Case, reason: str, original: Case | None) -> str:
    """The reason a rejection records and tells the citizen (naming the original case of a
    duplicate when it may)."""
    if original is not None and may_cite(case, original):
        return f"{reason} ({original.reference})"
    return reason


def _original(session: Session, reference: str, *, actor: Actor) -> Case | None:
    found = session.exec(select(Case).where(Case.reference == reference.strip().upper())).first()
    if found is None or not can_view_case(found, actor=actor):
        return None
    return found


def preview_notice(
    session: Session,
    case: Case,
    action: NoticeAction,
    *,
    actor: Actor,
    text: str = "",
    outcome: CaseOutcome | None = None,
    duplicate_of: str | None = None,
) -> OutboundMessage | None:
    """The unsaved outbox row `action` would queue for the reporter now, with `text` (the
    reason, question or resolution) and `outcome`; None when nobody would be told (the
    reporter erased their data, or an assignment that is not the first)."""
    if action is NoticeAction.assign and case.status != CaseStatus.verified:
        return None
    if case.citizen_id is None:
        return None
    citizen = session.get(Citizen, case.citizen_id)
    to = citizen_address(session, case.citizen_id)
    if citizen is None or to is None:
        return None
    body: str | None = text.strip() or None
    if action is NoticeAction.reject and body and duplicate_of:
        original = _original(session, duplicate_of, actor=actor)
        if original is not None and original.id != case.id:
            body = rejection_text(case, body, original)
    if action in (NoticeAction.verify, NoticeAction.close, NoticeAction.assign):
        body = None  # these notices carry no text of the staff's
    after = case.outcome
    if action is NoticeAction.resolve:
        after = outcome.value if outcome is not None else None
    elif action is NoticeAction.reopen:
        after = None
    params = notice_params(case.reference, body, after)
    return OutboundMessage(
        channel=to.channel.value,
        address=to.address,
        language=citizen.language,
        template=TEMPLATES[action].value,
        params=json.dumps(params, ensure_ascii=False),
    )
