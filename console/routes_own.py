"""The officer's own evaluations: the evidence about themselves and their written response.

Everything shown comes from core.evaluations.own (the account's linked officer only: counts
over the cases that are not rahasia, comments without date or identity, never the suggested
level); core refuses an account without the right or without an officer link, and a period
that does not evaluate the officer answers as an unknown one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console.i18n import refusal
from console.routes_evaluations import day_text, figure, period_id_of
from console.web import (
    PREFIX,
    CurrentStaff,
    Staff,
    check_csrf,
    policies_of,
    read,
    render,
    write,
)
from core.access import Permission
from core.evaluations import service as ev
from core.shared.errors import DomainError, NotFound

router = APIRouter()


def may_read_own(staff: Staff) -> bool:
    """The account has an own evaluation page: the right, and a linked officer."""
    return staff.may(Permission.RESPOND_OWN_EVALUATION) and staff.actor.officer_id is not None


def _require(staff: Staff) -> None:
    if not may_read_own(staff):
        raise NotFound("no own evaluation for this account")


@router.get("/me/evaluations")
async def own_list(request: Request, staff: CurrentStaff) -> Response:
    if not staff.may(Permission.RESPOND_OWN_EVALUATION):
        raise NotFound("no own evaluation for this account")
    linked = staff.actor.officer_id is not None
    periods = await read(request, lambda s: ev.own_periods(s, actor=staff.actor)) if linked else []
    return render(
        request,
        "own.html",
        staff.lang,
        staff,
        active="own",
        periods=periods,
        linked=linked,
        day=lambda d: day_text(d, staff.lang),
    )


async def _own_page(
    request: Request,
    staff: Staff,
    period_id: int,
    *,
    done: str = "",
    error: str = "",
    draft: str | None = None,
    status_code: int = 200,
) -> Response:
    tz = policies_of(request).settings.tz

    def load(session: Session) -> ev.OwnEvidence:
        return ev.own_evidence(session, period_id, tz, actor=staff.actor)

    evidence = await read(request, load)
    return render(
        request,
        "own_period.html",
        staff.lang,
        staff,
        active="own",
        e=evidence,
        done=done,
        error=error,
        draft=evidence.response or "" if draft is None else draft,
        max_response=ev.MAX_RESPONSE,
        day=lambda d: day_text(d, staff.lang),
        num=lambda x: figure(x, staff.lang),
        status_code=status_code,
    )


@router.get("/me/evaluations/{period_id}")
async def own_period(
    request: Request,
    staff: CurrentStaff,
    period_id: str,
    done: Annotated[str, Query(pattern="^(saved|withdrawn)?$")] = "",
) -> Response:
    _require(staff)
    return await _own_page(request, staff, period_id_of(period_id), done=done)


@router.post("/me/evaluations/{period_id}/response")
async def own_response(request: Request, staff: CurrentStaff, period_id: str) -> Response:
    form: dict[str, Any] = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    pid = period_id_of(period_id)
    # Kept whole for the page when refused: the officer shortens it rather than retyping.
    text = str(form.get("response") or "")[: ev.MAX_RESPONSE * 4]

    def save(session: Session) -> bool:
        row = ev.respond(session, pid, text, actor=staff.actor)
        return bool(row.officer_response)

    try:
        kept = await write(request, save)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        status = 409 if exc.why == "own.finalized" else 400
        return await _own_page(
            request, staff, pid, error=refusal(staff.lang, exc), draft=text, status_code=status
        )
    done = "saved" if kept else "withdrawn"
    return RedirectResponse(f"{PREFIX}/me/evaluations/{pid}?done={done}", status_code=303)
