"""The inbox: the user's cases, most urgent first, by view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console.web import PREFIX, Staff, current_staff, policies_of, read, render
from core.cases.models import CaseStatus
from core.cases.policy import parse_reference
from core.cases.queries import CaseFilter, CasePage, CaseSort, list_cases

router = APIRouter()
CurrentStaff = Annotated[Staff, Depends(current_staff)]
PAGE = 50


@dataclass(frozen=True)
class View:
    key: str
    statuses: Sequence[CaseStatus] = ()
    overdue: bool | None = None
    sort: CaseSort = CaseSort.due


VIEWS = (
    View("verify", (CaseStatus.received,)),
    View(
        "overdue",
        (CaseStatus.received, CaseStatus.verified, CaseStatus.in_progress),
        overdue=True,
    ),
    View("handling", (CaseStatus.verified, CaseStatus.in_progress)),
    View("waiting", (CaseStatus.waiting_citizen,), sort=CaseSort.newest),
    View("rating", (CaseStatus.resolved,), sort=CaseSort.newest),
    View("all", sort=CaseSort.newest),
)
BY_KEY = {view.key: view for view in VIEWS}


@router.get("/")
async def inbox(
    request: Request,
    staff: CurrentStaff,
    view: Annotated[str, Query(max_length=20)] = "verify",
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    reference = parse_reference(q) if q else None
    if reference is not None:
        return RedirectResponse(f"{PREFIX}/cases/{reference}", status_code=303)
    chosen = BY_KEY.get(view, VIEWS[0])
    policies = policies_of(request)
    filters = CaseFilter(statuses=chosen.statuses, overdue=chosen.overdue, text=q or None)

    def load(session: Session) -> CasePage:
        return list_cases(
            session,
            filters,
            policies.settings.tz,
            actor=staff.actor,
            sort=chosen.sort,
            cursor=cursor,
            limit=PAGE,
            now=policies.now(),
        )

    page = await read(request, load)
    return render(
        request,
        "inbox.html",
        staff.lang,
        staff,
        views=VIEWS,
        view=chosen,
        q=q,
        page=page,
        now=policies.now(),
    )
