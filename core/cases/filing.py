"""Filing a complaint: validation, the daily limit, a readable unique reference, and telling the
admins when nobody else in the unit may open it."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.access import (
    actor_for,
    can_view_case,
)
from core.cases.calendar import office_sla
from core.cases.categories import CATEGORIES
from core.cases.models import (
    ActorKind,
    Attachment,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    Visibility,
)
from core.cases.policy import (
    CasePolicy,
    ComplaintDraft,
    EventActor,
    TooManyComplaints,
    check_attachments,
    check_description,
    check_location,
    refresh_due,
)
from core.masterdata.models import Officer, Service, Unit
from core.masterdata.service import require_active_unit
from core.outbox.addresses import has_staff_notice_contact, staff_notice_address
from core.outbox.models import MessageTemplate
from core.outbox.service import enqueue
from core.people.models import AppUser, Citizen, Role, UserUnit
from core.shared.clock import local_day_bounds_utc, utcnow
from core.shared.errors import Conflict, InvalidInput
from core.shared.i18n import ct

# Filing -----------------------------------------------------------------------------------


log = logging.getLogger(__name__)


def complaints_today(
    session: Session, citizen_id: int, policy: CasePolicy, *, now: datetime
) -> int:
    today = now.astimezone(policy.sla.tz).date()
    lo, hi = local_day_bounds_utc(today, today, policy.sla.tz)
    count = session.exec(
        select(func.count())
        .select_from(Case)
        .where(Case.citizen_id == citizen_id, Case.received_at >= lo, Case.received_at < hi)
    ).one()
    return int(count)


def validate_draft(session: Session, draft: ComplaintDraft, policy: CasePolicy) -> None:
    require_active_unit(session, draft.unit_id)
    if draft.category not in CATEGORIES:
        raise InvalidInput(f"unknown category {draft.category!r}", why="case.category_unknown")
    check_description(policy, draft.description)
    if draft.officer_id is not None:
        officer = session.get(Officer, draft.officer_id)
        if officer is None or officer.unit_id != draft.unit_id:
            raise InvalidInput(
                "this officer does not serve in the chosen unit", why="case.officer_not_in_unit"
            )
    if draft.service_id is not None:
        service = session.get(Service, draft.service_id)
        if service is None or service.unit_id != draft.unit_id:
            raise InvalidInput(
                "this service does not belong to the chosen unit", why="case.service_not_in_unit"
            )
    check_attachments(len(draft.photos))
    check_location(draft.latitude, draft.longitude)


def file_complaint(
    session: Session,
    citizen: Citizen,
    draft: ComplaintDraft,
    policy: CasePolicy,
    *,
    now: datetime | None = None,
) -> Case:
    """Turn a confirmed complaint into a case with a readable, unique reference."""
    now = now or utcnow()
    assert citizen.id is not None
    validate_draft(session, draft, policy)
    if complaints_today(session, citizen.id, policy, now=now) >= policy.complaints_per_day:
        raise TooManyComplaints(f"at most {policy.complaints_per_day} complaints a day")
    return open_case(
        session, draft, policy, citizen_id=citizen.id, who=EventActor(ActorKind.citizen), now=now
    )


def open_case(
    session: Session,
    draft: ComplaintDraft,
    policy: CasePolicy,
    *,
    citizen_id: int | None,
    who: EventActor,
    now: datetime,
    lapor_id: str | None = None,
) -> Case:
    """Store a draft that passed `validate_draft` as a new case: the reference, the deadlines,
    the `created` event by `who` (the citizen, or the staff member who recorded it)."""
    sla = office_sla(session, policy.sla)  # the office's closed days as of this transaction
    case = Case(
        reference="",
        channel=draft.channel.value,
        citizen_id=citizen_id,
        privacy=draft.privacy.value,
        unit_id=draft.unit_id,
        officer_id=draft.officer_id,
        service_id=draft.service_id,
        category=draft.category,
        description=draft.description.strip(),
        latitude=draft.latitude,
        longitude=draft.longitude,
        received_at=now,
        verify_due_at=sla.verify_due(now),
        resolve_due_at=sla.resolve_due(now),
        lapor_id=lapor_id,
        updated_at=now,
    )
    refresh_due(case)
    _insert_with_reference(session, policy, case, now)
    assert case.id is not None
    session.add(
        CaseEvent(
            case_id=case.id,
            actor_kind=who.kind.value,
            actor_user_id=who.user_id,
            kind=CaseEventKind.created.value,
            to_status=CaseStatus.received.value,
            visibility=Visibility.public.value,
            created_at=now,
        )
    )
    for reference in draft.photos:
        session.add(
            Attachment(
                case_id=case.id, source=draft.channel.value, reference=reference, created_at=now
            )
        )
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
        if other is not None and can_view_case(case, actor=other):
            return
    unit = session.get(Unit, case.unit_id)
    admins = session.exec(
        select(AppUser).where(
            AppUser.role == Role.admin.value,
            AppUser.active == True,  # noqa: E712
            has_staff_notice_contact(),
        )
    ).all()
    log.warning("case %s: nobody in its unit but the named officer's account may see it", case.id)
    for admin in admins:
        assert admin.id is not None
        to = staff_notice_address(session, admin.id)
        if to is None:
            continue
        text = ct(
            admin.language,
            "case.no_audience",
            ref=case.reference,
            unit=unit.name if unit else case.unit_id,
        )
        enqueue(
            session,
            to=to,
            language=admin.language,
            template=MessageTemplate.plain,
            params={"text": text},
            now=now,
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
    raise Conflict("could not allocate a case reference; try again", why="case.reference_busy")
