"""A case's page: what was reported, by whom (as the rules allow), and what happened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from console.web import Staff, current_staff, policies_of, read, render, write
from core.access import can_see_location, can_see_reporter
from core.cases.models import Case, CaseEvent
from core.cases.reading import (
    case_events,
    case_read_audit_actions,
    get_case_for_staff_by_reference,
    record_case_read,
)
from core.masterdata.models import Officer, Unit

router = APIRouter()
CurrentStaff = Annotated[Staff, Depends(current_staff)]


@dataclass(frozen=True)
class CasePage:
    case: Case
    unit: Unit | None
    officer: Officer | None
    events: list[CaseEvent]
    show_reporter: bool
    show_location: bool


@router.get("/cases/{reference}")
async def case_page(request: Request, staff: CurrentStaff, reference: str) -> Response:
    policies = policies_of(request)
    actor = staff.actor

    def load(session: Session) -> CasePage:
        case = get_case_for_staff_by_reference(session, reference[:40], actor=actor)
        return CasePage(
            case=case,
            unit=session.get(Unit, case.unit_id),
            officer=session.get(Officer, case.officer_id) if case.officer_id else None,
            events=list(case_events(session, case, actor=actor)),
            show_reporter=can_see_reporter(case, actor=actor),
            show_location=can_see_location(case, actor=actor),
        )

    page = await read(request, load)
    if case_read_audit_actions(page.case, actor=actor):

        def audit(session: Session) -> None:
            record_case_read(session, page.case, actor=actor, now=policies.now())

        await write(request, audit)
    return render(request, "case.html", staff.lang, staff, page=page, now=policies.now())
