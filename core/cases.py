"""Complaints as cases: filing, the lifecycle of DESIGN section 3, SLA, audit, notifications.

Every transition is one function. It checks the actor's right, changes the case, appends
exactly one CaseEvent and, for public events, writes the citizen's notification to the
outbox, all in the caller's transaction: either all of it happens or none of it does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.access import (
    Actor,
    Permission,
    can_see_reporter,
    can_view_case,
    visible_cases_clause,
)
from core.case_queries import CaseSummary, summaries, summary_select
from core.categories import CATEGORIES
from core.clock import local_day_bounds_utc, utcnow
from core.config import Settings
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.i18n import ct
from core.masterdata import require_active_unit
from core.models import (
    OPEN_STATUSES,
    AccessAudit,
    ActorKind,
    AppUser,
    Attachment,
    AuditAction,
    Case,
    CaseEvent,
    CaseOutcome,
    CaseStatus,
    Citizen,
    Officer,
    OutboundMessage,
    Privacy,
    Role,
    Service,
    Unit,
    UserUnit,
    Visibility,
)
from core.sla import SlaPolicy
from core.users import actor_for

MAX_ATTACHMENTS = 3
log = logging.getLogger(__name__)
MAX_TEXT = 2000


class IllegalTransition(Conflict):
    code = "illegal_transition"


class TooManyComplaints(Conflict):
    code = "too_many_complaints"


@dataclass(frozen=True)
class CasePolicy:
    sla: SlaPolicy
    reference_prefix: str = "KPG"
    reopen_window_days: int = 14
    autoclose_days: int = 14
    complaints_per_day: int = 5
    duplicate_window_days: int = 14
    min_description: int = 20
    max_description: int = MAX_TEXT

    @classmethod
    def from_settings(cls, settings: Settings) -> CasePolicy:
        return cls(
            sla=SlaPolicy(
                tz=settings.tz,
                verify_working_days=settings.sla_verify_working_days,
                followup_working_days=settings.sla_followup_working_days,
                resolve_days=settings.sla_resolve_days,
            ),
            reference_prefix=settings.case_reference_prefix,
            reopen_window_days=settings.reopen_window_days,
            autoclose_days=settings.autoclose_days,
            complaints_per_day=settings.complaints_per_day,
        )


@dataclass(frozen=True)
class EventActor:
    kind: ActorKind
    user_id: int | None = None


SYSTEM = EventActor(ActorKind.system)


@dataclass(frozen=True)
class ComplaintDraft:
    unit_id: int
    category: str
    description: str
    privacy: Privacy = Privacy.biasa
    officer_id: int | None = None
    service_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    photo_file_ids: tuple[str, ...] = ()


# Visibility (the rules are core.access's) --------------------------------------------


def get_case_for_staff(session: Session, actor: Actor, case_id: int) -> Case:
    """The case, or NotFound when it does not exist or is hidden from this actor."""
    case = session.get(Case, case_id)
    if case is None or not can_view_case(actor, case):
        raise NotFound(f"case {case_id} does not exist")
    return case


def record_case_read(
    session: Session, actor: Actor, case: Case, now: datetime | None = None
) -> int:
    """Record that `actor` opened `case` where the page is sensitive: a `rahasia` case, or
    one whose page shows the reporter's identity. Returns how many audit rows were written."""
    actions = []
    if case.privacy == Privacy.rahasia:
        actions.append(AuditAction.case_read_confidential)
    if case.citizen_id is not None and can_see_reporter(actor, case):
        actions.append(AuditAction.case_read_reporter)
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


def get_case_for_staff_by_reference(session: Session, actor: Actor, reference: str) -> Case:
    case = session.exec(select(Case).where(Case.reference == reference.strip().upper())).first()
    if case is None or not can_view_case(actor, case):
        raise NotFound(f"case {reference} does not exist")
    return case


def get_case_for_citizen(session: Session, citizen: Citizen, reference: str) -> Case | None:
    """A reference alone reads nothing: the asker must be the reporter."""
    case = session.exec(select(Case).where(Case.reference == reference.strip().upper())).first()
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


def case_events(session: Session, actor: Actor, case: Case) -> Sequence[CaseEvent]:
    """The whole trail, internal notes included: every admin API user is staff."""
    if not can_view_case(actor, case):
        raise NotFound(f"case {case.id} does not exist")
    stmt = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
    return session.exec(stmt).all()


# Filing -----------------------------------------------------------------------------------


def complaints_today(session: Session, citizen_id: int, policy: CasePolicy, now: datetime) -> int:
    today = now.astimezone(policy.sla.tz).date()
    lo, hi = local_day_bounds_utc(today, today, policy.sla.tz)
    count = session.exec(
        select(func.count())
        .select_from(Case)
        .where(Case.citizen_id == citizen_id, Case.received_at >= lo, Case.received_at < hi)
    ).one()
    return int(count)


def validate_draft(session: Session, policy: CasePolicy, draft: ComplaintDraft) -> None:
    require_active_unit(session, draft.unit_id)
    if draft.category not in CATEGORIES:
        raise InvalidInput(f"unknown category {draft.category!r}")
    length = len(draft.description.strip())
    if not policy.min_description <= length <= policy.max_description:
        raise InvalidInput(
            f"the description must be {policy.min_description}-{policy.max_description} characters"
        )
    if draft.officer_id is not None:
        officer = session.get(Officer, draft.officer_id)
        if officer is None or officer.unit_id != draft.unit_id:
            raise InvalidInput("this officer does not serve in the chosen unit")
    if draft.service_id is not None:
        service = session.get(Service, draft.service_id)
        if service is None or service.unit_id != draft.unit_id:
            raise InvalidInput("this service does not belong to the chosen unit")
    if len(draft.photo_file_ids) > MAX_ATTACHMENTS:
        raise InvalidInput(f"at most {MAX_ATTACHMENTS} photos")
    lat, lon = draft.latitude, draft.longitude
    if (lat is None) != (lon is None):
        raise InvalidInput("a location needs both latitude and longitude")
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("the location is not on Earth")


def file_complaint(
    session: Session,
    policy: CasePolicy,
    citizen: Citizen,
    draft: ComplaintDraft,
    now: datetime | None = None,
) -> Case:
    """Turn a confirmed complaint into a case with a readable, unique reference."""
    now = now or utcnow()
    assert citizen.id is not None
    validate_draft(session, policy, draft)
    if complaints_today(session, citizen.id, policy, now) >= policy.complaints_per_day:
        raise TooManyComplaints(f"at most {policy.complaints_per_day} complaints a day")
    case = Case(
        reference="",
        citizen_id=citizen.id,
        privacy=draft.privacy.value,
        unit_id=draft.unit_id,
        officer_id=draft.officer_id,
        service_id=draft.service_id,
        category=draft.category,
        description=draft.description.strip(),
        latitude=draft.latitude,
        longitude=draft.longitude,
        received_at=now,
        verify_due_at=policy.sla.verify_due(now),
        resolve_due_at=policy.sla.resolve_due(now),
        updated_at=now,
    )
    _refresh_due(case)
    _insert_with_reference(session, policy, case, now)
    assert case.id is not None
    session.add(
        CaseEvent(
            case_id=case.id,
            actor_kind=ActorKind.citizen.value,
            kind="created",
            to_status=CaseStatus.received.value,
            visibility=Visibility.public.value,
            created_at=now,
        )
    )
    for file_id in draft.photo_file_ids:
        session.add(Attachment(case_id=case.id, telegram_file_id=file_id, created_at=now))
    session.flush()
    _tell_admins_if_nobody_else_sees(session, case, now)
    return case


def _tell_admins_if_nobody_else_sees(session: Session, case: Case, now: datetime) -> None:
    """A complaint about a staff member's own officer record is hidden from that account; when
    that leaves nobody in the unit who may open it, the admins are told (outbox)."""
    if case.officer_id is None:
        return
    linked = session.exec(select(AppUser.id).where(AppUser.officer_id == case.officer_id)).first()
    if linked is None:
        return
    staff = session.exec(
        select(UserUnit.user_id)
        .join(AppUser, col(AppUser.id) == col(UserUnit.user_id))
        .where(UserUnit.unit_id == case.unit_id, AppUser.active == True)  # noqa: E712
    ).all()
    for user_id in staff:
        other = actor_for(session, user_id)
        if other is not None and can_view_case(other, case):
            return
    unit = session.get(Unit, case.unit_id)
    admins = session.exec(
        select(AppUser).where(
            AppUser.role == Role.admin.value,
            AppUser.active == True,  # noqa: E712
            col(AppUser.telegram_chat_id).is_not(None),
        )
    ).all()
    log.warning("case %s: nobody in its unit but the named officer's account may see it", case.id)
    for admin in admins:
        assert admin.telegram_chat_id is not None
        text = ct(
            admin.language,
            "case.no_audience",
            ref=case.reference,
            unit=unit.name if unit else case.unit_id,
        )
        session.add(
            OutboundMessage(
                chat_id=admin.telegram_chat_id,
                language=admin.language,
                template="plain",
                params=json.dumps({"text": text}, ensure_ascii=False),
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()


def _insert_with_reference(session: Session, policy: CasePolicy, case: Case, now: datetime) -> None:
    stem = f"{policy.reference_prefix}-{now.astimezone(policy.sla.tz):%y%m}-"
    for _ in range(20):
        newest = session.exec(
            select(Case.reference)
            .where(col(Case.reference).like(f"{stem}%"))
            .order_by(func.length(Case.reference).desc(), col(Case.reference).desc())
            .limit(1)
        ).first()
        seq = int(str(newest)[len(stem) :]) + 1 if newest else 1
        case.reference = f"{stem}{seq:04d}"
        try:
            with session.begin_nested():
                session.add(case)
            return
        except IntegrityError:  # another case took this number a moment ago
            continue
    raise Conflict("could not allocate a case reference; try again")


# Transitions ------------------------------------------------------------------------------


def _refresh_due(case: Case) -> None:
    status = case.status
    if status == CaseStatus.received:
        case.due_at = min(case.verify_due_at, case.resolve_due_at)
    elif status == CaseStatus.verified:
        # (imported or legacy cases may lack a follow-up deadline)
        case.due_at = min(case.followup_due_at or case.resolve_due_at, case.resolve_due_at)
    elif status == CaseStatus.in_progress:
        case.due_at = case.resolve_due_at
    else:
        case.due_at = None


def _require(case: Case, action: str, allowed: Iterable[CaseStatus]) -> None:
    allowed = tuple(allowed)
    if case.status not in {s.value for s in allowed}:
        names = ", ".join(s.value for s in allowed)
        raise IllegalTransition(
            f"cannot {action} a case that is {case.status}; only a case that is {names}"
        )


def _require_handler(actor: Actor, case: Case) -> None:
    if not can_view_case(actor, case):
        raise NotFound(f"case {case.id} does not exist")
    if not actor.may(Permission.HANDLE_CASES, case.unit_id):
        raise Forbidden(f"role {actor.role.value} may not change cases")


def _staff(actor: Actor) -> EventActor:
    return EventActor(ActorKind.user, actor.user_id)


def _text(value: str, what: str, *, required: bool = True) -> str | None:
    value = value.strip()
    if not value:
        if required:
            raise InvalidInput(f"{what} must not be empty")
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} must be at most {MAX_TEXT} characters")
    return value


def _apply(
    session: Session,
    case: Case,
    who: EventActor,
    kind: str,
    *,
    to_status: CaseStatus | None = None,
    body: str | None = None,
    visibility: Visibility = Visibility.public,
    notify: str | None = None,
    now: datetime,
) -> CaseEvent:
    """Change the status (if any), append the event, queue the citizen's notification."""
    from_status = case.status
    if to_status is not None:
        case.status = to_status.value
    _refresh_due(case)
    case.updated_at = now
    session.add(case)
    assert case.id is not None
    event = CaseEvent(
        case_id=case.id,
        actor_kind=who.kind.value,
        actor_user_id=who.user_id,
        kind=kind,
        from_status=from_status if to_status is not None else None,
        to_status=to_status.value if to_status is not None else None,
        body=body,
        visibility=visibility.value,
        created_at=now,
    )
    session.add(event)
    session.flush()
    if notify is not None and visibility is Visibility.public:
        _queue_notification(session, case, event, notify)
    return event


def _queue_notification(session: Session, case: Case, event: CaseEvent, template: str) -> None:
    if case.citizen_id is None:  # the reporter erased their data
        return
    citizen = session.get(Citizen, case.citizen_id)
    if citizen is None:
        return
    params: dict[str, Any] = {"ref": case.reference, "body": event.body or ""}
    if case.outcome:
        params["outcome"] = case.outcome
    session.add(
        OutboundMessage(
            chat_id=citizen.telegram_user_id,
            language=citizen.language,
            template=template,
            params=json.dumps(params, ensure_ascii=False),
            case_event_id=event.id,
            next_attempt_at=event.created_at,
            created_at=event.created_at,
        )
    )
    session.flush()


def verify(
    session: Session, policy: CasePolicy, actor: Actor, case: Case, now: datetime | None = None
) -> CaseEvent:
    """received -> verified: the complaint is complete and ours; the unit's clock starts."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "verify", [CaseStatus.received])
    case.verified_at = now
    case.followup_due_at = policy.sla.followup_due(now)
    return _apply(
        session, case, _staff(actor), "verified",
        to_status=CaseStatus.verified, notify="case_verified", now=now,
    )  # fmt: skip


def _may_cite(case: Case, original: Case) -> bool:
    """Whether `case`'s public texts (the reporter's notice, the reason every reader of the
    case sees) may name `original`: only when whoever may open `case` may open `original`
    too (same unit, no other officer named) and `original` is not `rahasia`."""
    return (
        original.privacy != Privacy.rahasia
        and original.unit_id == case.unit_id
        and original.officer_id in (None, case.officer_id)
    )


def reject(
    session: Session,
    actor: Actor,
    case: Case,
    reason: str,
    *,
    duplicate_of: str | None = None,
    now: datetime | None = None,
) -> CaseEvent:
    """received/verified -> rejected (spam, not our authority, duplicate of another case)."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "reject", [CaseStatus.received, CaseStatus.verified])
    text = _text(reason, "the reason")
    if duplicate_of:
        original = get_case_for_staff_by_reference(session, actor, duplicate_of)
        if original.id == case.id:
            raise InvalidInput("a case cannot duplicate itself")
        case.duplicate_of_id = original.id
        if _may_cite(case, original):
            text = f"{text} ({original.reference})"
    case.reject_reason = text
    case.closed_at = now
    return _apply(
        session, case, _staff(actor), "rejected",
        to_status=CaseStatus.rejected, body=text, notify="case_rejected", now=now,
    )  # fmt: skip


def assign(
    session: Session,
    actor: Actor,
    case: Case,
    *,
    assignee_id: int | None = None,
    unit_code: str | None = None,
    now: datetime | None = None,
) -> CaseEvent:
    """verified/in_progress -> in_progress: hand the case to a person and/or another unit."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "assign", [CaseStatus.verified, CaseStatus.in_progress])
    parts = []
    if unit_code:
        unit = session.exec(select(Unit).where(Unit.code == unit_code.strip().lower())).first()
        if unit is None or unit.id is None or not unit.active:
            raise InvalidInput(f"unknown or inactive unit {unit_code!r}")
        if not actor.can_see_unit(unit.id):
            raise Forbidden("you may not forward to a unit outside your scope")
        if unit.id != case.unit_id:
            case.unit_id = unit.id
            case.officer_id = None
            case.service_id = None
            parts.append(f"forwarded to {unit.name}")
    if assignee_id is not None:
        user = session.get(AppUser, assignee_id)
        if user is None or not _may_handle(session, user, case):
            raise InvalidInput("the assignee must be an active user who may handle this case")
        case.assignee_id = assignee_id
        parts.append(f"assigned to {user.username}")
    if not parts and case.status == CaseStatus.in_progress:
        raise InvalidInput("name an assignee or a unit to forward to")
    first_time = case.status == CaseStatus.verified
    return _apply(
        session, case, _staff(actor), "assigned",
        to_status=CaseStatus.in_progress, body="; ".join(parts) or None,
        visibility=Visibility.public if first_time else Visibility.internal,
        notify="case_in_progress" if first_time else None, now=now,
    )  # fmt: skip


def _may_handle(session: Session, user: AppUser, case: Case) -> bool:
    """An assignee must be able to open the case and to handle it (confidentiality too)."""
    assert user.id is not None
    assignee = actor_for(session, user.id)
    return (
        assignee is not None
        and can_view_case(assignee, case)
        and assignee.may(Permission.HANDLE_CASES, case.unit_id)
    )


def request_info(
    session: Session, actor: Actor, case: Case, question: str, now: datetime | None = None
) -> CaseEvent:
    """in_progress -> waiting_citizen: ask the reporter; the SLA clock pauses."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "ask the citizen about", [CaseStatus.in_progress])
    if case.citizen_id is None:
        raise InvalidInput("the reporter erased their data and cannot be asked")
    text = _text(question, "the question")
    case.paused_at = now
    return _apply(
        session, case, _staff(actor), "info_requested",
        to_status=CaseStatus.waiting_citizen, body=text, notify="case_info_requested", now=now,
    )  # fmt: skip


def _resume_clock(case: Case, now: datetime) -> None:
    if case.paused_at is None:
        return
    paused = now - case.paused_at
    case.verify_due_at += paused
    case.resolve_due_at += paused
    if case.followup_due_at is not None:
        case.followup_due_at += paused
    case.paused_at = None


def citizen_reply(
    session: Session, citizen: Citizen, case: Case, text: str, now: datetime | None = None
) -> CaseEvent:
    """waiting_citizen -> in_progress: the reporter answered; the clock runs again."""
    now = now or utcnow()
    if case.citizen_id != citizen.id:
        raise NotFound("case not found")
    _require(case, "reply to", [CaseStatus.waiting_citizen])
    body = _text(text, "the reply")
    _resume_clock(case, now)
    return _apply(
        session, case, EventActor(ActorKind.citizen), "citizen_replied",
        to_status=CaseStatus.in_progress, body=body, now=now,
    )  # fmt: skip


def reporter_erased(session: Session, case: Case, now: datetime | None = None) -> CaseEvent | None:
    """The reporter erased their data: a case waiting for their answer can wait no longer,
    so it goes back to in_progress and its clock runs again (an internal event)."""
    if case.status != CaseStatus.waiting_citizen:
        return None
    now = now or utcnow()
    _resume_clock(case, now)
    return _apply(
        session, case, SYSTEM, "reporter_erased",
        to_status=CaseStatus.in_progress, visibility=Visibility.internal,
        body="the reporter erased their data; their answer will not come", now=now,
    )  # fmt: skip


def resolve(
    session: Session,
    actor: Actor,
    case: Case,
    outcome: CaseOutcome,
    resolution: str,
    now: datetime | None = None,
) -> CaseEvent:
    """in_progress (or waiting_citizen) -> resolved, with an outcome and what was done."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "resolve", [CaseStatus.in_progress, CaseStatus.waiting_citizen])
    text = _text(resolution, "the resolution")
    _resume_clock(case, now)
    case.outcome = outcome.value
    case.resolution = text
    case.resolved_at = now
    return _apply(
        session, case, _staff(actor), "resolved",
        to_status=CaseStatus.resolved, body=text, notify="case_resolved", now=now,
    )  # fmt: skip


def close(session: Session, actor: Actor, case: Case, now: datetime | None = None) -> CaseEvent:
    """resolved -> closed, by staff."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "close", [CaseStatus.resolved])
    case.closed_at = now
    return _apply(
        session, case, _staff(actor), "closed",
        to_status=CaseStatus.closed, notify="case_closed", now=now,
    )  # fmt: skip


def reopen(
    session: Session, actor: Actor, case: Case, reason: str, now: datetime | None = None
) -> CaseEvent:
    """resolved/closed -> in_progress, by an admin (with a reason)."""
    now = now or utcnow()
    _require_handler(actor, case)
    if not actor.may(Permission.REOPEN_CASES, case.unit_id):
        raise Forbidden("only an admin may reopen a case")
    _require(case, "reopen", [CaseStatus.resolved, CaseStatus.closed])
    text = _text(reason, "the reason")
    _clear_resolution(case)
    return _apply(
        session, case, _staff(actor), "reopened",
        to_status=CaseStatus.in_progress, body=text, notify="case_reopened", now=now,
    )  # fmt: skip


def _clear_resolution(case: Case) -> None:
    case.outcome = None
    case.resolution = None
    case.resolved_at = None
    case.closed_at = None


def add_note(
    session: Session, actor: Actor, case: Case, body: str, now: datetime | None = None
) -> CaseEvent:
    """An internal note: staff only, never shown to the citizen."""
    now = now or utcnow()
    _require_handler(actor, case)
    text = _text(body, "the note")
    return _apply(
        session, case, _staff(actor), "note", body=text, visibility=Visibility.internal, now=now
    )


def can_reopen(policy: CasePolicy, case: Case, now: datetime) -> bool:
    return (
        case.status == CaseStatus.resolved
        and case.reopened_count == 0
        and case.resolved_at is not None
        and now - case.resolved_at <= timedelta(days=policy.reopen_window_days)
    )


def citizen_rate(
    session: Session,
    policy: CasePolicy,
    citizen: Citizen,
    case: Case,
    satisfied: bool,
    reason: str | None = None,
    now: datetime | None = None,
) -> CaseEvent:
    """The reporter's "puas / tidak puas". Not satisfied reopens once, within the window."""
    now = now or utcnow()
    if case.citizen_id != citizen.id:
        raise NotFound("case not found")
    _require(case, "rate", [CaseStatus.resolved])
    who = EventActor(ActorKind.citizen)
    case.rated_at = now
    case.satisfied = satisfied
    if satisfied:
        case.closed_at = now
        return _apply(session, case, who, "rated_satisfied", to_status=CaseStatus.closed, now=now)
    text = _text(reason or "", "the reason")
    case.satisfaction_reason = text
    if can_reopen(policy, case, now):
        case.reopened_count += 1
        _clear_resolution(case)
        return _apply(
            session, case, who, "reopened_by_citizen",
            to_status=CaseStatus.in_progress, body=text, now=now,
        )  # fmt: skip
    case.closed_at = now
    return _apply(
        session, case, who, "rated_unsatisfied", to_status=CaseStatus.closed, body=text, now=now
    )


def autoclose(session: Session, policy: CasePolicy, now: datetime | None = None) -> int:
    """Close resolved cases the citizen left unanswered for `autoclose_days`."""
    now = now or utcnow()
    cutoff = now - timedelta(days=policy.autoclose_days)
    stale = session.exec(
        select(Case)
        .where(Case.status == CaseStatus.resolved.value, col(Case.resolved_at) <= cutoff)
        .order_by(col(Case.id))
    ).all()
    for case in stale:
        case.closed_at = now
        _apply(
            session, case, SYSTEM, "auto_closed",
            to_status=CaseStatus.closed, notify="case_closed", now=now,
        )  # fmt: skip
    return len(stale)


# Triage helpers ---------------------------------------------------------------------------


def duplicate_hints(
    session: Session, actor: Actor, case: Case, policy: CasePolicy, limit: int = 10
) -> list[CaseSummary]:
    """Open cases of the same unit and the same officer or category from the last days."""
    since = case.received_at - timedelta(days=policy.duplicate_window_days)
    same = col(Case.category) == case.category
    if case.officer_id is not None:
        same = same | (col(Case.officer_id) == case.officer_id)
    stmt = (
        summary_select()
        .where(
            *visible_cases_clause(actor),
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
