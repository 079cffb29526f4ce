"""Paper SKM questionnaires entered by staff: a keyboard-first form (/staff/paper).

The nine answers are typed as digits 1-4 (Tab between them); "Simpan dan isi berikutnya"
stores the questionnaire with channel `paper` through core.surveys.paper and returns to an
empty form for the same unit and service, with today's count of the user's entries."""

from __future__ import annotations

import base64
import binascii
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from console.i18n import refusal, t
from console.web import (
    MAX_ID,
    PREFIX,
    CurrentStaff,
    Staff,
    check_csrf,
    parse_id,
    policies_of,
    read,
    render,
    write,
)
from core.masterdata.service import active_officers, active_services, list_units
from core.shared.errors import DomainError, Forbidden
from core.surveys.paper import (
    PaperImport,
    enter_paper,
    entered_today,
    import_paper_csv,
    may_enter_paper,
)
from core.surveys.skm import ELEMENT_COUNT, ELEMENTS
from core.surveys.submission import MAX_COMMENT_LENGTH, SurveyDraft

router = APIRouter()
QUESTIONS = tuple(f"q{i}" for i in range(1, ELEMENT_COUNT + 1))


def _require(staff: Staff) -> None:
    if not may_enter_paper(actor=staff.actor):
        raise Forbidden("you may not enter paper questionnaires", why="paper.forbidden")


def _why(lang: str, exc: DomainError) -> str:
    if exc.why and exc.why.startswith("paper."):
        return t(lang, exc.why)
    return refusal(lang, exc)


async def _page(
    request: Request,
    staff: Staff,
    *,
    unit_id: int | None,
    service_id: int | None = None,
    draft: dict[str, str] | None = None,
    error: str = "",
    done: bool = False,
    status_code: int = 200,
) -> Response:
    settings = policies_of(request).settings
    now = policies_of(request).now()

    def load(session: Session) -> dict[str, Any]:
        units = [
            u
            for u in list_units(session, staff.actor.unit_scope())
            if u.id is not None and may_enter_paper(actor=staff.actor, unit_id=u.id)
        ]
        chosen = next((u for u in units if u.id == unit_id), units[0] if units else None)
        return {
            "units": units,
            "unit": chosen,
            "services": active_services(session, chosen.id) if chosen and chosen.id else [],
            "officers": active_officers(session, chosen.id) if chosen and chosen.id else [],
            "today": entered_today(
                session,
                actor=staff.actor,
                tz=settings.tz,
                pseudonym_key=settings.pseudonym_key,
                now=now,
            ),
        }

    data = await read(request, load)
    return render(
        request,
        "paper.html",
        staff.lang,
        staff,
        active="paper",
        questions=list(zip(QUESTIONS, ELEMENTS, strict=True)),
        service_id=service_id,
        draft=draft or {},
        error=error,
        done=done,
        max_comment=MAX_COMMENT_LENGTH,
        status_code=status_code,
        **data,
    )


@router.get("/paper")
async def paper_page(
    request: Request,
    staff: CurrentStaff,
    unit: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    service: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    done: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    _require(staff)
    return await _page(request, staff, unit_id=unit, service_id=service, done=bool(done))


@router.post("/paper")
async def paper_enter(request: Request, staff: CurrentStaff) -> Response:
    form: dict[str, Any] = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    lang = staff.lang
    draft = {
        key: str(form.get(key) or "").strip()[:20] for key in (*QUESTIONS, "service", "officer")
    }
    draft["comment"] = str(form.get("comment") or "").strip()[: MAX_COMMENT_LENGTH + 1]
    unit_id = parse_id(form.get("unit"))
    service_id = parse_id(draft["service"]) if draft["service"] else None
    officer_id = parse_id(draft["officer"]) if draft["officer"] else None

    async def again(message: str) -> Response:
        return await _page(
            request,
            staff,
            unit_id=unit_id,
            service_id=service_id,
            draft=draft,
            error=message,
            status_code=400,
        )

    if unit_id is None:
        return await again(t(lang, "paper.bad_unit"))
    if (draft["service"] and service_id is None) or (draft["officer"] and officer_id is None):
        return await again(t(lang, "paper.bad_choice"))
    answers: list[int] = []
    for number, key in enumerate(QUESTIONS, start=1):
        value = draft[key]
        if value not in ("1", "2", "3", "4"):
            return await again(t(lang, "paper.bad_answer", number=number))
        answers.append(int(value))
    if len(draft["comment"]) > MAX_COMMENT_LENGTH:
        return await again(t(lang, "paper.long_comment", limit=MAX_COMMENT_LENGTH))
    settings = policies_of(request).settings
    now = policies_of(request).now()
    survey = SurveyDraft(
        unit_id=unit_id,
        answers=tuple(answers),
        service_id=service_id,
        officer_id=officer_id,
        comment=draft["comment"] or None,
    )
    try:
        await write(
            request,
            lambda s: (
                enter_paper(
                    s,
                    survey,
                    actor=staff.actor,
                    tz=settings.tz,
                    pseudonym_key=settings.pseudonym_key,
                    now=now,
                ).id
            ),
        )
    except DomainError as exc:
        return await again(_why(lang, exc))
    target = f"{PREFIX}/paper?unit={unit_id}&done=1"
    if service_id is not None:
        target += f"&service={service_id}"
    return RedirectResponse(target, status_code=303)


# CSV import: a dry run shows every row's result; only a file without a bad row is stored ----

MAX_CSV_BYTES = 1024 * 1024


def _import_page(
    request: Request,
    staff: Staff,
    *,
    result: PaperImport | None = None,
    payload: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "paper_import.html",
        staff.lang,
        staff,
        active="paper",
        result=result,
        payload=payload,
        error=error,
        status_code=status_code,
    )


async def _run_import(request: Request, staff: Staff, raw: bytes, *, dry_run: bool) -> PaperImport:
    settings = policies_of(request).settings
    now = policies_of(request).now()
    step = partial(
        import_paper_csv,
        raw=raw,
        actor=staff.actor,
        tz=settings.tz,
        pseudonym_key=settings.pseudonym_key,
        dry_run=dry_run,
        now=now,
    )
    return await (read(request, step) if dry_run else write(request, step))


@router.get("/paper/import")
async def paper_import_page(request: Request, staff: CurrentStaff) -> Response:
    _require(staff)
    return _import_page(request, staff)


@router.post("/paper/import")
async def paper_import_check(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()
    check_csrf(request, staff, dict(form))
    _require(staff)
    upload = form.get("file")
    raw = await upload.read(MAX_CSV_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if not raw or len(raw) > MAX_CSV_BYTES:
        key = "paper.csv.no_file" if not raw else "paper.csv.too_big"
        return _import_page(request, staff, error=t(staff.lang, key), status_code=400)
    result = await _run_import(request, staff, raw, dry_run=True)
    if result.file_problem:
        return _import_page(
            request, staff, error=t(staff.lang, result.file_problem), status_code=400
        )
    payload = base64.b64encode(raw).decode() if result.bad == 0 else ""
    return _import_page(request, staff, result=result, payload=payload)


@router.post("/paper/import/write")
async def paper_import_write(request: Request, staff: CurrentStaff) -> Response:
    form: dict[str, Any] = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    try:
        raw = base64.b64decode(str(form.get("payload") or ""), validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if not raw or len(raw) > MAX_CSV_BYTES:
        return _import_page(
            request, staff, error=t(staff.lang, "paper.csv.no_file"), status_code=400
        )
    result = await _run_import(request, staff, raw, dry_run=False)
    if result.file_problem:
        return _import_page(
            request, staff, error=t(staff.lang, result.file_problem), status_code=400
        )
    if not result.written:  # changed since the dry run: the rows again, nothing written
        return _import_page(request, staff, result=result, status_code=400)
    return RedirectResponse(f"{PREFIX}/paper?done=1", status_code=303)
