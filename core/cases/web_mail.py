"""E-mail to a web reporter: the follow-up link with its code, once, right after filing.

Every later public change of the case reaches the reporter's e-mail as the case notices of
`core.cases.lifecycle` do (their e-mail contact is their address); those mails name only the
follow-up page, where the reporter types their code. This one carries the code: the outbox
keeps it only until the message is sent or failed for good (`SECRET_PARAMS`), and an erasure
deletes the message with the reporter's other messages.

`follow_up_path` names the pages of web/routes_follow.py that the e-mails link to.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from sqlmodel import Session, col, select

from core.cases.models import Case, CaseEvent, CaseEventKind
from core.outbox.models import MessageTemplate, OutboundMessage
from core.outbox.service import enqueue
from core.people.models import Address, Channel, Language

FOLLOW_UP_PAGE = "/lacak"


def follow_up_path(reference: str, code: str | None = None) -> str:
    """The follow-up page of a report, where its code is typed (`/lacak/KPG-2611-0001`), or
    its private link that opens it at once (`/lacak/KPG-2611-0001/ABCD-EFGH`, the code as
    shown), as web/routes_follow.py serves them."""
    path = f"{FOLLOW_UP_PAGE}/{quote(reference, safe='-')}"
    return path if code is None else f"{path}/{quote(code, safe='-')}"


def follow_up_url(base_url: str, reference: str, code: str | None = None) -> str:
    """`follow_up_path` on the site's public address (PUBLIC_BASE_URL; empty: the path)."""
    return base_url.rstrip("/") + follow_up_path(reference, code)


def queue_follow_up_link(
    session: Session,
    *,
    case: Case,
    code: str,
    to_email: str,
    language: str,
    now: datetime,
) -> OutboundMessage:
    """Queue, in the caller's transaction, the e-mail that gives a web reporter the private
    follow-up link of `case` with its `code` (as shown: `ABCD-EFGH`). `to_email` is already
    normalised (core.cases.intake.normalise_email); the message is tied to the case's
    `created` event, as its later notices are to theirs."""
    if case.id is None:
        raise ValueError("the case must be flushed before its follow-up link is queued")
    created = session.exec(
        select(CaseEvent.id)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == CaseEventKind.created.value)
        .order_by(col(CaseEvent.id))
    ).first()
    if created is None:
        raise ValueError(f"case {case.reference} has no created event")
    lang = language if language in {lang.value for lang in Language} else Language.id.value
    return enqueue(
        session,
        to=Address(Channel.email, to_email),
        language=lang,
        template=MessageTemplate.web_follow_up_link,
        params={"ref": case.reference, "code": code},
        case_event_id=created,
        now=now,
    )
