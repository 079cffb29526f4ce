"""Closed days ("Hari libur"): admins keep the days the office is closed besides the national
calendar (/staff/calendar); the SLA clock skips them and running deadlines move at once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from babel.dates import format_date
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console.i18n import refusal, t
from console.web import (
    MAX_ID,
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
from core.cases.calendar import (
    MAX_DESCRIPTION,
    add_closed_day,
    coming_year_without_cuti_bersama,
    list_closed_days,
    national_days_off,
    remove_closed_day,
)
from core.shared.errors import DomainError, Forbidden

router = APIRouter()
SHOWN_AHEAD = timedelta(days=366)  # the national days off listed beside the office's own


def _require(staff: Staff) -> None:
    if not staff.may(Permission.MANAGE_CALENDAR):
        raise Forbidden("only an admin may manage closed days")


def day_label(day: date, lang: str) -> str:
    """ "Senin, 30 November 2026" / "Monday, 30 November 2026"."""
    return format_date(day, "EEEE, d MMMM y", locale=lang)


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


async def _page(
    request: Request,
    staff: Staff,
    *,
    draft: dict[str, str] | None = None,
    error: str = "",
    done: str = "",
    moved: int = 0,
    status_code: int = 200,
) -> Response:
    policies = policies_of(request)
    sla = policies.cases.sla
    today = policies.now().astimezone(sla.tz).date()
    days = await read(request, lambda s: list_closed_days(s, actor=staff.actor, since=today))
    national = national_days_off(today, today + SHOWN_AHEAD, sla)
    return render(
        request,
        "calendar.html",
        staff.lang,
        staff,
        active="calendar",
        days=days,
        national=national,
        missing_year=coming_year_without_cuti_bersama(today, sla),
        today=today,
        day_label=lambda d: day_label(d, staff.lang),
        max_description=MAX_DESCRIPTION,
        draft=draft or {},
        error=error,
        done=done,
        moved=moved,
        status_code=status_code,
    )


@router.get("/calendar")
async def calendar_page(
    request: Request,
    staff: CurrentStaff,
    done: Annotated[str, Query(pattern="^(added|removed)?$")] = "",
    moved: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    _require(staff)
    return await _page(request, staff, done=done, moved=moved)


@router.post("/calendar")
async def calendar_add(request: Request, staff: CurrentStaff) -> Response:
    form: dict[str, Any] = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    draft = {
        "day": str(form.get("day") or "")[:20],
        "description": str(form.get("description") or "")[:1000],
    }
    policies = policies_of(request)
    day = _parse_day(draft["day"])
    if day is None:
        return await _page(
            request, staff, draft=draft, error=t(staff.lang, "calendar.bad_date"), status_code=400
        )
    now = policies.now()

    def add(session: Session) -> int:
        _entry, moved = add_closed_day(
            session, day, draft["description"], policies.cases.sla, actor=staff.actor, now=now
        )
        return moved

    try:
        moved = await write(request, add)
    except DomainError as exc:
        if isinstance(exc, Forbidden):
            raise
        return await _page(
            request, staff, draft=draft, error=refusal(staff.lang, exc), status_code=400
        )
    return RedirectResponse(f"{PREFIX}/calendar?done=added&moved={moved}", status_code=303)


@router.post("/calendar/remove")
async def calendar_remove(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    day = _parse_day(str(form.get("day") or "")[:20])
    if day is None:
        return await _page(
            request, staff, error=t(staff.lang, "calendar.bad_date"), status_code=400
        )
    policies = policies_of(request)
    now = policies.now()

    def remove(session: Session) -> int:
        _entry, moved = remove_closed_day(
            session, day, policies.cases.sla, actor=staff.actor, now=now
        )
        return moved

    moved = await write(request, remove)
    return RedirectResponse(f"{PREFIX}/calendar?done=removed&moved={moved}", status_code=303)
