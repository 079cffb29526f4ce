"""The access audit for administrators: every change to an account and every reading of a
`rahasia` case or of a hidden reporter, newest first (core.people.users.list_access_audit,
which holds the right: `MANAGE_USERS`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from console.i18n import t
from console.web import CurrentStaff, policies_of, read, render
from core.access import Permission
from core.people import users
from core.people.models import AuditAction
from core.shared.errors import Forbidden, InvalidInput
from core.surveys.unit_scores import check_day

router = APIRouter()
ACTIONS = tuple(action.value for action in AuditAction)
PAGE_SIZE = 50


def _day(text: str) -> date | None:
    """A day typed in the filter (YYYY-MM-DD); None when empty; InvalidInput otherwise."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"not a date: {text!r}") from None
    check_day(day, "the day")  # 2000-2099: what the clock's day bounds can hold
    return day


@router.get("/audit")
async def audit_page(
    request: Request,
    staff: CurrentStaff,
    action: Annotated[str, Query(max_length=40)] = "",
    start: Annotated[str, Query(max_length=20)] = "",
    end: Annotated[str, Query(max_length=20)] = "",
    cursor: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    if not staff.may(Permission.MANAGE_USERS):
        raise Forbidden(f"role {staff.actor.role.value} may not read the access audit")
    tz = policies_of(request).settings.tz
    chosen = AuditAction(action) if action in ACTIONS else None
    error = ""
    page: users.AuditPage | None = None
    try:
        first, last = _day(start.strip()), _day(end.strip())
        if first is not None and last is not None and last < first:
            raise InvalidInput("end before start")
        page = await read(
            request,
            lambda s: users.list_access_audit(
                s,
                tz,
                actor=staff.actor,
                action=chosen,
                start=first,
                end=last,
                cursor=cursor or None,
                limit=PAGE_SIZE,
            ),
        )
    except InvalidInput:
        error = t(staff.lang, "audit.bad_filter")
    return render(
        request,
        "audit.html",
        staff.lang,
        staff,
        active="audit",
        actions=ACTIONS,
        chosen=action if chosen else "",
        start=start,
        end=end,
        items=page.items if page else [],
        next_cursor=page.next_cursor if page else None,
        error=error,
        status_code=400 if error else 200,
    )
