"""The recap of complaints of one unit and period (rekap pengaduan), as XLSX and PDF.

Scoped like every case read: a unit outside the caller's scope answers 404 as an unknown
code, and only the cases the caller may open are counted (`core.cases.recap`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlmodel import Session

from admin_api.deps import CurrentActor, PoliciesDep, SessionDep
from core.access import Actor
from core.cases.recap import Recap, complaint_recap, recap_pdf, recap_signatory, recap_xlsx
from core.masterdata.service import visible_unit
from core.policies import Policies
from core.surveys.unit_scores import Period

router = APIRouter(tags=["cases"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UnitQ = Annotated[str, Query(min_length=1, max_length=40, description="the unit's code")]
StartQ = Annotated[
    date | None, Query(description="first local day, 2000-2099 (default: start of this quarter)")
]
EndQ = Annotated[
    date | None, Query(description="last local day, inclusive, 2000-2099 (default: today)")
]


def _recap(
    actor: Actor,
    session: Session,
    policies: Policies,
    code: str,
    start: date | None,
    end: date | None,
) -> Recap:
    sla = policies.cases.sla
    now = policies.now()
    end = end or now.astimezone(sla.tz).date()
    if start is None:
        start = date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    period = Period(start=start, end=end)
    unit = visible_unit(session, code, actor=actor)
    return complaint_recap(session, unit, period, sla, actor=actor, now=now)


def _name(recap: Recap, suffix: str) -> dict[str, str]:
    period = recap.period
    name = f"rekap-{recap.unit_code}-{period.start.isoformat()}-{period.end.isoformat()}.{suffix}"
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@router.get(
    "/cases/recap.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the recap workbook"}},
)
def recap_workbook(
    actor: CurrentActor,
    session: SessionDep,
    policies: PoliciesDep,
    unit: UnitQ,
    start: StartQ = None,
    end: EndQ = None,
) -> Response:
    """The recap of complaints received by a unit in the period: by category, by status,
    resolved within or past the deadline, outcomes and the median handling time in working
    days; counting only the cases the caller may open."""
    recap = _recap(actor, session, policies, unit, start, end)
    body = recap_xlsx(recap, tz_name=policies.settings.timezone)
    return Response(body, media_type=XLSX, headers=_name(recap, "xlsx"))


@router.get(
    "/cases/recap.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the printable recap"}},
)
def recap_printable(
    actor: CurrentActor,
    session: SessionDep,
    policies: PoliciesDep,
    unit: UnitQ,
    start: StartQ = None,
    end: EndQ = None,
) -> Response:
    """The same recap as a printable A4 PDF, signed by the unit head."""
    recap = _recap(actor, session, policies, unit, start, end)
    body = recap_pdf(
        recap,
        recap_signatory(session, recap),
        place=policies.settings.evaluation_signature_place,
        today_local=policies.now().astimezone(policies.cases.sla.tz),
    )
    return Response(body, media_type="application/pdf", headers=_name(recap, "pdf"))
