"""Canned responses: admins keep the reusable texts the action forms offer (/staff/canned)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console.i18n import refusal
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
from core.cases.canned import (
    CANNED_ACTIONS,
    create_canned,
    list_canned,
    set_canned_active,
    update_canned,
)
from core.cases.models import CannedResponse
from core.shared.errors import Forbidden, InvalidInput

router = APIRouter()
FIELDS = ("action", "title", "body_id", "body_en")


def _require(staff: Staff) -> None:
    if not staff.may(Permission.MANAGE_TEXTS):
        raise Forbidden("only an admin may manage canned responses")


async def _page(
    request: Request,
    staff: Staff,
    *,
    edit: int | None = None,
    draft: dict[str, str] | None = None,
    error: str = "",
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    texts: Sequence[CannedResponse] = await read(request, lambda s: list_canned(s))
    editing = next((c for c in texts if c.id == edit), None)
    return render(
        request,
        "canned.html",
        staff.lang,
        staff,
        active="canned",
        texts=texts,
        actions=CANNED_ACTIONS,
        editing=editing,
        draft=draft or {},
        error=error,
        saved=saved,
        status_code=status_code,
    )


@router.get("/canned")
async def canned_page(
    request: Request,
    staff: CurrentStaff,
    edit: Annotated[int | None, Query(ge=1)] = None,
    saved: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    _require(staff)
    return await _page(request, staff, edit=edit, saved=bool(saved))


def _draft(form: dict[str, Any]) -> dict[str, str]:
    return {name: str(form.get(name) or "")[:5000] for name in FIELDS}


@router.post("/canned")
async def canned_create(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    draft = _draft(form)
    now = policies_of(request).now()

    def create(session: Session) -> None:
        create_canned(session, **draft, actor=staff.actor, now=now)

    try:
        await write(request, create)
    except InvalidInput as exc:
        return await _page(
            request, staff, draft=draft, error=refusal(staff.lang, exc), status_code=400
        )
    return RedirectResponse(f"{PREFIX}/canned?saved=1", status_code=303)


@router.post("/canned/{canned_id}")
async def canned_update(
    request: Request, staff: CurrentStaff, canned_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    draft = _draft(form)
    active = form.get("active") == "1"
    now = policies_of(request).now()

    def update(session: Session) -> None:
        update_canned(session, canned_id, **draft, active=active, actor=staff.actor, now=now)

    try:
        await write(request, update)
    except InvalidInput as exc:
        return await _page(
            request,
            staff,
            edit=canned_id,
            draft=draft,
            error=refusal(staff.lang, exc),
            status_code=400,
        )
    return RedirectResponse(f"{PREFIX}/canned?saved=1", status_code=303)


@router.post("/canned/{canned_id}/active")
async def canned_active(
    request: Request, staff: CurrentStaff, canned_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    active = form.get("active") == "1"
    now = policies_of(request).now()

    def toggle(session: Session) -> None:
        set_canned_active(session, canned_id, active, actor=staff.actor, now=now)

    await write(request, toggle)
    return RedirectResponse(f"{PREFIX}/canned?saved=1", status_code=303)
