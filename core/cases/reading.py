"""Reading cases: one case for staff (recorded when sensitive) or its reporter, timelines, and
duplicate hints. Who may open what is core.access's rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlmodel import Session, col, or_, select

from core.access import (
    GLOBAL_ROLES,
    Actor,
    Permission,
    can_see_reporter,
    can_view_case,
    roles_with,
    visible_cases_clause,
)
from core.cases.models import (
    OPEN_STATUSES,
    ActorKind,
    Attachment,
    AttachmentStatus,
    Case,
    CaseEvent,
    Privacy,
    Visibility,
)
from core.cases.policy import CasePolicy, parse_reference
from core.cases.queries import CaseSummary, summaries, summary_select
from core.masterdata.models import Unit
from core.outbox.models import OutboundMessage, OutboxStatus
from core.people.models import AccessAudit, AppUser, AuditAction, Citizen, Role, UserUnit
from core.shared.clock import utcnow
from core.shared.errors import NotFound

# Visibility (the rules are core.access's) --------------------------------------------


def get_case_for_staff(session: Session, case_id: int, *, actor: Actor) -> Case:
    """The case, or NotFound when it does not exist or is hidden from this actor."""
    case = session.get(Case, case_id)
    if case is None or not can_view_case(case, actor=actor):
        raise NotFound(f"case {case_id} does not exist")
    return case


def case_read_audit_actions(case: Case, *, actor: Actor) -> list[AuditAction]:
    """What opening `case` as `actor` must record: a `rahasia` case, and a page showing the
    reporter's identity (nothing for other pages)."""
    actions = []
    if case.privacy == Privacy.rahasia:
        actions.append(AuditAction.case_read_confidential)
    if case.citizen_id is not None and can_see_reporter(case, actor=actor):
        actions.append(AuditAction.case_read_reporter)
    return actions


def record_case_read(
    session: Session, case: Case, *, actor: Actor, now: datetime | None = None
) -> int:
    """Record that `actor` opened `case` where the page is sensitive (see
    `case_read_audit_actions`). Returns how many audit rows were written."""
    actions = case_read_audit_actions(case, actor=actor)
    for action in actions:
        session.add(
            AccessAudit(
                at=now or utcnow(),
                actor_user_id=actor.user_id,
                action=action.value,
                target_kind="case",
                target_id=case.id,
                detail=case.reference,
            )
        )
    return len(actions)


def get_case_for_staff_by_reference(session: Session, reference: str, *, actor: Actor) -> Case:
    case = session.exec(select(Case).where(Case.reference == reference.strip().upper())).first()
    if case is None or not can_view_case(case, actor=actor):
        raise NotFound(f"case {reference} does not exist")
    return case


def get_case_for_citizen(session: Session, citizen: Citizen, reference: str) -> Case | None:
    """A reference alone reads nothing: the asker must be the reporter."""
    parsed = parse_reference(reference)
    if parsed is None:
        return None
    case = session.exec(select(Case).where(Case.reference == parsed)).first()
    if case is None or citizen.id is None or case.citizen_id != citizen.id:
        return None
    return case


def citizen_cases(session: Session, citizen: Citizen, limit: int = 10) -> Sequence[Case]:
    return session.exec(
        select(Case)
        .where(Case.citizen_id == citizen.id)
        .order_by(col(Case.received_at).desc(), col(Case.id).desc())
        .limit(limit)
    ).all()


def public_timeline(session: Session, case: Case) -> Sequence[CaseEvent]:
    return session.exec(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.visibility == Visibility.public.value)
        .order_by(col(CaseEvent.id))
    ).all()


def case_events(session: Session, case: Case, *, actor: Actor) -> Sequence[CaseEvent]:
    """The whole trail, internal notes included: every admin API user is staff."""
    if not can_view_case(case, actor=actor):
        raise NotFound(f"case {case.id} does not exist")
    stmt = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
    return session.exec(stmt).all()


# Triage helpers ---------------------------------------------------------------------------


def duplicate_hints(
    session: Session, case: Case, policy: CasePolicy, limit: int = 10, *, actor: Actor
) -> list[CaseSummary]:
    """Open cases of the same unit and the same officer or category from the last days."""
    since = case.received_at - timedelta(days=policy.duplicate_window_days)
    same = col(Case.category) == case.category
    if case.officer_id is not None:
        same = same | (col(Case.officer_id) == case.officer_id)
    stmt = (
        summary_select()
        .where(
            *visible_cases_clause(actor=actor),
            col(Case.unit_id) == case.unit_id,
            col(Case.id) != case.id,
            col(Case.status).in_([s.value for s in OPEN_STATUSES]),
            col(Case.received_at) >= since,
            same,
        )
        .order_by(col(Case.received_at).desc())
        .limit(limit)
    )
    return summaries(session, stmt)


# The case page --------------------------------------------------------------------------


class DeliveryState(StrEnum):
    queued = "queued"
    sent = "sent"
    failed = "failed"


@dataclass(frozen=True)
class Delivery:
    """Where a notice to the citizen stands: queued, sent (when) or failed (why)."""

    state: DeliveryState
    sent_at: datetime | None = None
    reason: str | None = None


def event_deliveries(session: Session, event_ids: Iterable[int]) -> dict[int, list[Delivery]]:
    """The delivery of each event's notices (outbox rows), by event id: one query for a
    whole timeline. An event that notified nobody, or whose rows are gone (retention, the
    reporter's erasure), has none."""
    ids = sorted(set(event_ids))
    out: dict[int, list[Delivery]] = {}
    if not ids:
        return out
    rows = session.exec(
        select(
            OutboundMessage.case_event_id,
            OutboundMessage.status,
            OutboundMessage.sent_at,
            OutboundMessage.last_error,
        )
        .where(col(OutboundMessage.case_event_id).in_(ids))
        .order_by(col(OutboundMessage.id))
    ).all()
    for event_id, status, sent_at, error in rows:
        if event_id is None:
            continue
        if status == OutboxStatus.sent.value:
            delivery = Delivery(DeliveryState.sent, sent_at=sent_at)
        elif status == OutboxStatus.failed.value:
            delivery = Delivery(DeliveryState.failed, reason=error or "-")
        else:
            delivery = Delivery(DeliveryState.queued)
        out.setdefault(event_id, []).append(delivery)
    return out


def event_actor_names(session: Session, events: Iterable[CaseEvent]) -> dict[int, str]:
    """The staff who acted in `events`, by user id: display name, else username."""
    ids = {e.actor_user_id for e in events if e.actor_user_id is not None}
    if not ids:
        return {}
    rows = session.exec(
        select(AppUser.id, AppUser.display_name, AppUser.username).where(col(AppUser.id).in_(ids))
    ).all()
    return {uid: (name or username) for uid, name, username in rows if uid is not None}


def event_actor_kind(event: CaseEvent) -> ActorKind:
    try:
        return ActorKind(event.actor_kind)
    except ValueError:
        return ActorKind.system


def case_attachments(session: Session, case: Case, *, actor: Actor) -> list[Attachment]:
    """The case's photos, for those who may open the case."""
    if not can_view_case(case, actor=actor):
        raise NotFound(f"case {case.id} does not exist")
    return list(
        session.exec(
            select(Attachment).where(Attachment.case_id == case.id).order_by(col(Attachment.id))
        ).all()
    )


def attachment_file(
    session: Session, case: Case, attachment_id: int, root: Path, *, actor: Actor
) -> tuple[Path, str]:
    """The file of one stored photo of `case` (and its type), for those who may open the
    case; NotFound otherwise, or while it is not downloaded yet, or when the file is gone."""
    if not can_view_case(case, actor=actor):
        raise NotFound(f"case {case.id} does not exist")
    att = session.get(Attachment, attachment_id)
    if att is None or att.case_id != case.id:
        raise NotFound(f"attachment {attachment_id} does not exist")
    if att.status != AttachmentStatus.stored or not att.path:
        raise NotFound("this photo has not been downloaded yet; try again later")
    base = root.resolve()
    path = (base / att.path).resolve()
    if base not in path.parents or not path.is_file():
        raise NotFound("the photo file is missing")
    return path, att.content_type or "image/jpeg"


def case_assignees(session: Session, case: Case) -> list[AppUser]:
    """The active accounts a case may be assigned to: those who may open it and handle it
    (its unit, its confidentiality, never the officer it names)."""
    handlers = [r.value for r in roles_with(Permission.HANDLE_CASES)]
    global_roles = [r.value for r in GLOBAL_ROLES]
    in_unit = select(UserUnit.user_id).where(UserUnit.unit_id == case.unit_id)
    users = session.exec(
        select(AppUser)
        .where(
            AppUser.active == True,  # noqa: E712
            col(AppUser.role).in_(handlers),
            or_(col(AppUser.role).in_(global_roles), col(AppUser.id).in_(in_unit)),
        )
        .order_by(col(AppUser.display_name), col(AppUser.username))
    ).all()
    out = []
    for user in users:
        assert user.id is not None
        who = Actor(
            user_id=user.id,
            username=user.username,
            role=Role(user.role),
            unit_ids=frozenset({case.unit_id}),
            officer_id=user.officer_id,
        )
        if can_view_case(case, actor=who) and who.may(Permission.HANDLE_CASES, case.unit_id):
            out.append(user)
    return out


def forward_units(session: Session, case: Case, *, actor: Actor) -> list[Unit]:
    """The active units `actor` may forward `case` to (their scope, not its own unit)."""
    stmt = select(Unit).where(Unit.active == True, Unit.id != case.unit_id)  # noqa: E712
    scope = actor.unit_scope()
    if scope is not None:
        stmt = stmt.where(col(Unit.id).in_(scope or {-1}))
    return list(session.exec(stmt.order_by(col(Unit.name))).all())
