"""Reading cases: one case for staff (recorded when sensitive) or its reporter, timelines, and
duplicate hints. Who may open what is core.access's rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core.access import (
    Actor,
    can_see_reporter,
    can_view_case,
    visible_cases_clause,
)
from core.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    Privacy,
    Visibility,
)
from core.cases.policy import CasePolicy, parse_reference
from core.cases.queries import CaseSummary, summaries, summary_select
from core.people.models import AccessAudit, AuditAction, Citizen
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
