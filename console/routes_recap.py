"""The recap of complaints (rekap pengaduan) of one unit and period: the figures on a page,
and the same recap as XLSX and PDF for leadership and the Ombudsman.

Every figure comes from `core.cases.recap` (counted in SQL over the cases the user may open);
the period is chosen as on the IKM pages (`choose_period`). Units outside the user's scope
answer 404 as unknown codes."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from console.routes_scores import (
    KINDS,
    MAX_FIELD,
    XLSX,
    Chosen,
    choose_period,
    period_context,
    period_form,
    period_label,
    why_words,
)
from console.web import CurrentStaff, Staff, policies_of, read, render
from core.access import Permission
from core.cases.recap import Recap, complaint_recap, recap_pdf, recap_signatory, recap_xlsx
from core.masterdata.models import Unit
from core.masterdata.service import list_units, visible_unit
from core.shared.errors import Forbidden, InvalidInput, NotFound

router = APIRouter()


def _require(staff: Staff) -> None:
    if not staff.may(Permission.VIEW_UNIT):
        raise Forbidden("only users with units may read the recap of complaints")


@dataclass(frozen=True)
class Loaded:
    units: list[tuple[str, str]]  # (code, name) the user may choose
    recap: Recap | None  # None when the user has no unit


def _load(session: Session, staff: Staff, code: str, chosen: Chosen, request: Request) -> Loaded:
    policies = policies_of(request)
    units = [(u.code, u.name) for u in list_units(session, staff.actor.unit_scope(), active=None)]
    if not code:
        if not units:
            return Loaded(units, None)
        code = units[0][0]
    unit: Unit = visible_unit(session, code, actor=staff.actor)
    recap = complaint_recap(
        session, unit, chosen.period, policies.cases.sla, actor=staff.actor, now=policies.now()
    )
    return Loaded(units, recap)


@router.get("/recap")
async def recap_page(request: Request, staff: CurrentStaff) -> Response:
    _require(staff)
    params, today = await period_context(request, staff)
    error, status = "", 200
    try:
        chosen = choose_period(params, today)
    except InvalidInput as exc:
        error, status = why_words(staff.lang, exc), 400
        chosen = choose_period({}, today)
    code = params.get("unit", "").strip()[:MAX_FIELD]
    data = await read(request, lambda s: _load(s, staff, code, chosen, request))
    recap = data.recap
    query = ""
    if recap is not None:
        query = urlencode({"unit": recap.unit_code, **chosen.params()})
    return render(
        request,
        "recap.html",
        staff.lang,
        staff,
        active="recap",
        status_code=status,
        error=error,
        units=data.units,
        recap=recap,
        query=query,
        form=period_form(chosen, params, today),
        kinds=KINDS,
        label=period_label(chosen, staff.lang),
        median=(
            f"{recap.median_working_days:.1f}".replace(".", "," if staff.lang == "id" else ".")
            if recap is not None and recap.median_working_days is not None
            else ""
        ),
    )


async def _recap(request: Request, staff: Staff) -> Recap | Response:
    """The recap of the chosen unit (the first of the user's units when none is named) and
    period, or the error page for a bad period."""
    _require(staff)
    params, today = await period_context(request, staff)
    try:
        chosen = choose_period(params, today)
    except InvalidInput as exc:
        return render(
            request,
            "error.html",
            staff.lang,
            staff,
            status_code=400,
            error="error.400",
            detail=why_words(staff.lang, exc),
        )
    code = params.get("unit", "").strip()[:MAX_FIELD]
    loaded = await read(request, lambda s: _load(s, staff, code, chosen, request))
    if loaded.recap is None:
        raise NotFound("no unit to recap")
    return loaded.recap


def _download(recap: Recap, body: bytes, suffix: str, media_type: str) -> Response:
    period = recap.period
    name = f"rekap-{recap.unit_code}-{period.start.isoformat()}-{period.end.isoformat()}.{suffix}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(body, media_type=media_type, headers=headers)


@router.get("/recap.xlsx")
async def recap_workbook(request: Request, staff: CurrentStaff) -> Response:
    recap = await _recap(request, staff)
    if isinstance(recap, Response):
        return recap
    settings = policies_of(request).settings
    return _download(recap, recap_xlsx(recap, tz_name=settings.timezone), "xlsx", XLSX)


@router.get("/recap.pdf")
async def recap_printable(request: Request, staff: CurrentStaff) -> Response:
    recap = await _recap(request, staff)
    if isinstance(recap, Response):
        return recap
    policies = policies_of(request)
    signatory = await read(request, lambda s: recap_signatory(s, recap))
    body = recap_pdf(
        recap,
        signatory,
        place=policies.settings.evaluation_signature_place,
        today_local=policies.now().astimezone(policies.settings.tz),
    )
    return _download(recap, body, "pdf", "application/pdf")
