"""Cases: the supervisor's list, the detail with its audit trail, one route per transition."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from admin_api.deps import CurrentActor, EngineDep, PoliciesDep, SessionDep, SettingsDep
from core.access import Actor, can_see_location, can_see_reporter
from core.cases import service as svc
from core.cases.categories import CATEGORIES, category_label
from core.cases.models import (
    Attachment,
    AttachmentStatus,
    Case,
    CaseEvent,
    CaseOutcome,
    CaseStatus,
    Privacy,
)
from core.cases.queries import (
    VIEW_SORT,
    CaseFilter,
    CaseSort,
    CaseSummary,
    InboxView,
    list_cases,
)
from core.masterdata.models import Officer, Unit
from core.masterdata.service import visible_unit
from core.outbox.addresses import citizen_addresses
from core.people.models import AppUser, Citizen
from core.shared.db import session_scope
from core.shared.errors import InvalidInput, NotFound

router = APIRouter(tags=["cases"])


def get_policy(policies: PoliciesDep) -> svc.CasePolicy:
    return policies.cases


PolicyDep = Annotated[svc.CasePolicy, Depends(get_policy)]


# Bodies -----------------------------------------------------------------------------------


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    duplicate_of: str | None = Field(default=None, max_length=24, description="reference")


class AssignIn(BaseModel):
    assignee_id: int | None = None
    unit_code: str | None = Field(default=None, max_length=40, description="forward to a unit")


class QuestionIn(BaseModel):
    question: str = Field(min_length=1, max_length=2000)


class ResolveIn(BaseModel):
    outcome: CaseOutcome
    resolution: str = Field(min_length=1, max_length=2000)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=2000)


# Responses --------------------------------------------------------------------------------


class CaseSummaryOut(BaseModel):
    id: int
    reference: str
    status: str
    privacy: str
    unit_code: str
    category: str
    category_label: str
    excerpt: str
    officer_name: str | None
    received_at: datetime
    due_at: datetime | None
    overdue: bool


class CasePageOut(BaseModel):
    items: list[CaseSummaryOut]
    next_cursor: str | None


class ContactOut(BaseModel):
    channel: str  # telegram, whatsapp, email
    address: str  # the channel's address: a Telegram chat id, a phone number, an e-mail


class ReporterOut(BaseModel):
    contacts: list[ContactOut]
    language: str
    phone: str | None = Field(
        default=None, description="a phone number the citizen left to be called back"
    )


class EventOut(BaseModel):
    id: int
    kind: str
    actor: str
    from_status: str | None
    to_status: str | None
    body: str | None
    visibility: str
    created_at: datetime


class AttachmentOut(BaseModel):
    id: int
    status: str
    content_type: str | None
    size: int | None


class CaseOut(CaseSummaryOut):
    channel: str  # where it came in: telegram, web, whatsapp, counter, phone, letter, paper
    description: str
    service_id: int | None
    officer_id: int | None
    latitude: float | None
    longitude: float | None
    priority: str
    assignee: str | None
    verified_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    verify_due_at: datetime
    followup_due_at: datetime | None
    resolve_due_at: datetime
    outcome: str | None
    resolution: str | None
    reject_reason: str | None
    reopened_count: int
    satisfied: bool | None
    satisfaction_reason: str | None
    reporter: ReporterOut | None = Field(description="hidden unless you may see the reporter")


class CaseDetailOut(BaseModel):
    case: CaseOut
    events: list[EventOut]
    attachments: list[AttachmentOut]
    duplicate_hints: list[CaseSummaryOut]


class TransitionOut(BaseModel):
    case: CaseOut
    event: EventOut


# Mapping ----------------------------------------------------------------------------------


def _names(session: Session, cases: list[Case]) -> tuple[dict[int, str], dict[int, str]]:
    unit_ids = {c.unit_id for c in cases}
    officer_ids = {c.officer_id for c in cases if c.officer_id is not None}
    units = dict(session.exec(select(Unit.id, Unit.code).where(col(Unit.id).in_(unit_ids))).all())
    officers = dict(
        session.exec(select(Officer.id, Officer.name).where(col(Officer.id).in_(officer_ids))).all()
    )
    return units, officers  # type: ignore[return-value]


def _summary(case: Case, units: dict[int, str], officers: dict[int, str], now: datetime) -> Any:
    assert case.id is not None
    return {
        "id": case.id,
        "reference": case.reference,
        "status": case.status,
        "privacy": case.privacy,
        "unit_code": units.get(case.unit_id, ""),
        "category": case.category,
        "category_label": category_label(case.category, "id"),
        "excerpt": case.description[:140],
        "officer_name": officers.get(case.officer_id) if case.officer_id else None,
        "received_at": case.received_at,
        "due_at": case.due_at,
        "overdue": case.due_at is not None and case.due_at < now,
    }


def _summary_out(items: list[CaseSummary], now: datetime) -> list[CaseSummaryOut]:
    return [
        CaseSummaryOut(
            id=c.id,
            reference=c.reference,
            status=c.status,
            privacy=c.privacy,
            unit_code=c.unit_code,
            category=c.category,
            category_label=category_label(c.category, "id"),
            excerpt=c.excerpt,
            officer_name=c.officer_name,
            received_at=c.received_at,
            due_at=c.due_at,
            overdue=c.due_at is not None and c.due_at < now,
        )
        for c in items
    ]


def _case_out(session: Session, actor: Actor, case: Case, now: datetime) -> CaseOut:
    units, officers = _names(session, [case])
    reporter = None
    if case.citizen_id is not None and can_see_reporter(case, actor=actor):
        citizen = session.get(Citizen, case.citizen_id)
        if citizen is not None:
            contacts = [
                ContactOut(channel=a.channel.value, address=a.address)
                for a in citizen_addresses(session, case.citizen_id)
            ]
            reporter = ReporterOut(
                contacts=contacts, language=citizen.language, phone=citizen.phone
            )
    assignee = session.get(AppUser, case.assignee_id) if case.assignee_id else None
    located = can_see_location(case, actor=actor)
    return CaseOut(
        **_summary(case, units, officers, now),
        channel=case.channel,
        description=case.description,
        service_id=case.service_id,
        officer_id=case.officer_id,
        latitude=case.latitude if located else None,
        longitude=case.longitude if located else None,
        priority=case.priority,
        assignee=assignee.username if assignee else None,
        verified_at=case.verified_at,
        resolved_at=case.resolved_at,
        closed_at=case.closed_at,
        verify_due_at=case.verify_due_at,
        followup_due_at=case.followup_due_at,
        resolve_due_at=case.resolve_due_at,
        outcome=case.outcome,
        resolution=case.resolution,
        reject_reason=case.reject_reason,
        reopened_count=case.reopened_count,
        satisfied=case.satisfied,
        satisfaction_reason=case.satisfaction_reason,
        reporter=reporter,
    )


def _event_out(session: Session, event: CaseEvent) -> EventOut:
    actor = event.actor_kind
    if event.actor_user_id is not None:
        user = session.get(AppUser, event.actor_user_id)
        actor = user.username if user else "user"
    assert event.id is not None
    return EventOut(
        id=event.id,
        kind=event.kind,
        actor=actor,
        from_status=event.from_status,
        to_status=event.to_status,
        body=event.body,
        visibility=event.visibility,
        created_at=event.created_at,
    )


# Routes -----------------------------------------------------------------------------------


@router.get("/cases", response_model=CasePageOut)
def list_cases_route(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    status: Annotated[list[CaseStatus] | None, Query()] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    officer_id: int | None = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool | None = None,
    q: Annotated[
        str | None, Query(max_length=100, description="text in description or ref")
    ] = None,
    received_from: date | None = None,
    received_to: date | None = None,
    assignee_id: int | None = None,
    privacy: Privacy | None = None,
    misdirected: Annotated[
        bool | None, Query(description="marked as sent to the wrong unit (salah alamat)")
    ] = None,
    view: Annotated[InboxView | None, Query(description="one of the console inbox's views")] = None,
    sort: Annotated[
        CaseSort | None, Query(description="default: the view's order, else newest")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePageOut:
    """Cases of your units, newest first (`sort=due`: most overdue first); `view` selects
    one of the console inbox's views (`verify`, `overdue`, `handling`, `waiting`, `rating`,
    `mine`, `misdirected` for admins, `all`) in its own order."""
    unit_id = None
    if unit:
        unit_id = visible_unit(session, unit, actor=actor).id
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(f"unknown category {category!r}; use one of {', '.join(CATEGORIES)}")
    filters = CaseFilter(
        statuses=tuple(status or ()),
        unit_id=unit_id,
        officer_id=officer_id,
        category=category,
        overdue=overdue,
        text=q,
        received_from=received_from,
        received_to=received_to,
        assignee_id=assignee_id,
        privacy=privacy.value if privacy else None,
        misdirected=misdirected,
    )
    now = policies.now()
    order = sort or (VIEW_SORT[view] if view else CaseSort.newest)
    page = list_cases(
        session, filters, settings.tz, actor=actor, view=view, sort=order, cursor=cursor,
        limit=limit, now=now,
    )  # fmt: skip
    return CasePageOut(items=_summary_out(page.items, now), next_cursor=page.next_cursor)


@router.get("/cases/{case_id}", response_model=CaseDetailOut)
def get_case(
    actor: CurrentActor,
    session: SessionDep,
    engine: EngineDep,
    policies: PoliciesDep,
    policy: PolicyDep,
    case_id: int,
) -> CaseDetailOut:
    now = policies.now()
    case = svc.get_case_for_staff(session, case_id, actor=actor)
    # Reading a confidential case, or a reporter's identity, is recorded before it is shown;
    # other pages take no write lock.
    if svc.case_read_audit_actions(case, actor=actor):
        with session_scope(engine, write=True) as audit:
            svc.record_case_read(audit, case, actor=actor, now=now)
    attachments = session.exec(
        select(Attachment).where(Attachment.case_id == case.id).order_by(col(Attachment.id))
    ).all()
    return CaseDetailOut(
        case=_case_out(session, actor, case, now),
        events=[_event_out(session, e) for e in svc.case_events(session, case, actor=actor)],
        attachments=[
            AttachmentOut(id=a.id or 0, status=a.status, content_type=a.content_type, size=a.size)
            for a in attachments
        ],
        duplicate_hints=_summary_out(svc.duplicate_hints(session, case, policy, actor=actor), now),
    )


@router.get(
    "/cases/{case_id}/attachments/{attachment_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_attachment(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    case_id: int,
    attachment_id: int,
) -> FileResponse:
    case = svc.get_case_for_staff(session, case_id, actor=actor)
    att = session.get(Attachment, attachment_id)
    if att is None or att.case_id != case.id:
        raise NotFound(f"attachment {attachment_id} does not exist")
    if att.status != AttachmentStatus.stored or not att.path:
        raise NotFound("this photo has not been downloaded from Telegram yet; try again later")
    root = Path(settings.attachments_dir).resolve()
    path = (root / att.path).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound("the photo file is missing")
    return FileResponse(path, media_type=att.content_type or "image/jpeg")


def _transition(
    session: Session,
    actor: Actor,
    case_id: int,
    now: datetime,
    change: Callable[[Case], CaseEvent],
) -> TransitionOut:
    """Apply `change` to a case the actor may open, at the moment `now` of the process's
    clock, and show the case as of that moment."""
    case = svc.get_case_for_staff(session, case_id, actor=actor)
    event = change(case)
    return TransitionOut(
        case=_case_out(session, actor, case, now), event=_event_out(session, event)
    )


@router.post("/cases/{case_id}/verify", response_model=TransitionOut)
def verify_case(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, policy: PolicyDep, case_id: int
) -> TransitionOut:
    now = policies.now()
    return _transition(
        session, actor, case_id, now,
        lambda c: svc.verify(session, c, policy, actor=actor, now=now),
    )  # fmt: skip


@router.post("/cases/{case_id}/reject", response_model=TransitionOut)
def reject_case(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, case_id: int, body: RejectIn
) -> TransitionOut:
    now = policies.now()
    return _transition(
        session, actor, case_id, now,
        lambda c: svc.reject(session, c, body.reason, actor=actor, duplicate_of=body.duplicate_of,
                             now=now),
    )  # fmt: skip


@router.post("/cases/{case_id}/assign", response_model=TransitionOut)
def assign_case(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, case_id: int, body: AssignIn
) -> TransitionOut:
    now = policies.now()
    return _transition(
        session, actor, case_id, now,
        lambda c: svc.assign(session, c, actor=actor, assignee_id=body.assignee_id,
                             unit_code=body.unit_code, now=now),
    )  # fmt: skip


@router.post("/cases/{case_id}/request-info", response_model=TransitionOut)
def request_info(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, case_id: int, body: QuestionIn
) -> TransitionOut:
    now = policies.now()
    return _transition(
        session, actor, case_id, now,
        lambda c: svc.request_info(session, c, body.question, actor=actor, now=now),
    )  # fmt: skip


@router.post("/cases/{case_id}/resolve", response_model=TransitionOut)
def resolve_case(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, case_id: int, body: ResolveIn
) -> TransitionOut:
    now = policies.now()
    return _transition(
        session, actor, case_id, now,
        lambda c: svc.resolve(session, c, body.outcome, body.resolution, actor=actor, now=now),
    )  # fmt: skip


@router.post("/cases/{case_id}/close", response_model=TransitionOut)
def close_case(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, case_id: int
) -> TransitionOut:
    now = policies.now()
    return _transition(
        session, actor, case_id, now, lambda c: svc.close(session, c, actor=actor, now=now)
    )


@router.post("/cases/{case_id}/reopen", response_model=TransitionOut)
def reopen_case(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, case_id: int, body: ReasonIn
) -> TransitionOut:
    now = policies.now()
    return _transition(
        session,
        actor,
        case_id,
        now,
        lambda c: svc.reopen(session, c, body.reason, actor=actor, now=now),
    )


@router.post("/cases/{case_id}/notes", response_model=TransitionOut, status_code=201)
def add_note(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, case_id: int, body: NoteIn
) -> TransitionOut:
    now = policies.now()
    return _transition(
        session,
        actor,
        case_id,
        now,
        lambda c: svc.add_note(session, c, body.body, actor=actor, now=now),
    )
