"""Evaluation periods: list, create, compute, review and decide, results, finalize, export.

Everything a reader sees comes from core.evaluations (service API): the evidence as the
reader may see it (`evaluation_views`), suggestions only with full evidence
(`sees_full_evidence`), decisions to others only once finalized (docs/privacy.md
"Evaluations"). Buttons are shown only where core would accept them, and core checks again."""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any

from babel.dates import format_date
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from console.i18n import refusal, t
from console.web import (
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
from core.access import Permission
from core.evaluations import overview
from core.evaluations import service as ev
from core.evaluations.models import EvaluationPeriod, Level, PeriodStatus
from core.shared.errors import DomainError, Forbidden, InvalidInput, NotFound
from core.shared.spreadsheet import csv_writer

router = APIRouter()
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_REASON = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEVELS = tuple(level.value for level in Level)


def _why(lang: str, exc: DomainError, period: EvaluationPeriod | None = None) -> str:
    """Core's refusal in the user's words; the period's last day written by the console."""
    if exc.why == "evaluation.period_not_ended" and period is not None:
        return t(lang, "why.evaluation.period_not_ended", end=day_text(period.end, lang))
    return refusal(lang, exc)


def day_text(day: date, lang: str) -> str:
    """A day as people write it ("1 Oktober 2026")."""
    return format_date(day, "d MMMM y", locale=lang)


def period_id_of(value: str) -> int:
    """A period id from a path; NotFound (as an unknown period) for anything else."""
    found = parse_id(value)
    if found is None:
        raise NotFound(f"evaluation period {value!r} does not exist")
    return found


# The list -----------------------------------------------------------------------------------


async def _list_page(
    request: Request,
    staff: Staff,
    *,
    draft: dict[str, Any] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    def load(session: Session) -> tuple[list[EvaluationPeriod], dict[int, Any], list[Any]]:
        periods = ev.list_periods(session, actor=staff.actor)
        return (
            periods,
            overview.units_of_periods(session, periods),
            overview.evaluable_units(session, actor=staff.actor),
        )

    periods, units, evaluable = await read(request, load)
    today = policies_of(request).now().astimezone(policies_of(request).settings.tz).date()
    return render(
        request,
        "evaluations.html",
        staff.lang,
        staff,
        active="evaluations",
        periods=periods,
        units=units,
        evaluable=evaluable,
        kinds=ev.KINDS,
        day=lambda d: day_text(d, staff.lang),
        draft=draft or {"kind": "monthly", "start": today.replace(day=1).isoformat()},
        error=error,
        status_code=status_code,
    )


def _require_reader(staff: Staff) -> None:
    if not staff.may(Permission.VIEW_EVALUATIONS):
        raise Forbidden(f"role {staff.actor.role.value} reads no evaluation periods")


@router.get("/evaluations")
async def evaluations_page(request: Request, staff: CurrentStaff) -> Response:
    _require_reader(staff)
    return await _list_page(request, staff)


@router.post("/evaluations")
async def evaluations_create(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()
    check_csrf(request, staff, dict(form))
    _require_reader(staff)
    kind = str(form.get("kind") or "")[:20]
    start_text = str(form.get("start") or "")[:20].strip()
    codes = [str(c)[:40] for c in form.getlist("units")][:500]
    draft: dict[str, Any] = {"kind": kind, "start": start_text, "units": codes}
    error = ""
    start: date | None = None
    if kind not in ev.KINDS:
        error = t(staff.lang, "eval.bad_kind")
    else:
        try:
            start = date.fromisoformat(start_text)
        except ValueError:
            error = t(staff.lang, "eval.bad_start")
    if not error and not codes:
        error = t(staff.lang, "eval.no_units")
    if error or start is None:
        return await _list_page(request, staff, draft=draft, error=error, status_code=400)
    chosen = start

    def create(session: Session) -> int:
        period = ev.create_period(session, kind, chosen, codes, actor=staff.actor)
        assert period.id is not None
        return period.id

    try:
        period_id = await write(request, create)
    except InvalidInput as exc:
        return await _list_page(
            request, staff, draft=draft, error=refusal(staff.lang, exc), status_code=400
        )
    return RedirectResponse(f"{PREFIX}/evaluations/{period_id}?done=created", status_code=303)


# The period page ----------------------------------------------------------------------------


async def _period_page(
    request: Request,
    staff: Staff,
    period_id: int,
    *,
    error: str = "",
    errors: list[ev.ImportError_] | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        period = ev.get_period(session, period_id, actor=staff.actor)
        return {
            "period": period,
            "units": overview.units_of_periods(session, [period]).get(period_id, []),
            "full": ev.sees_full_evidence(session, period, actor=staff.actor),
            "officers": ev.evaluation_views(session, period, actor=staff.actor),
            "writable": overview.may_write(session, period, actor=staff.actor),
            "audit": ev.audit_trail(session, period, actor=staff.actor),
        }

    data = await read(request, load)
    return render(
        request,
        "evaluation.html",
        staff.lang,
        staff,
        active="evaluations",
        day=lambda d: day_text(d, staff.lang),
        levels=LEVELS,
        finalized=data["period"].status == PeriodStatus.finalized,
        error=error,
        errors=errors or [],
        done=done,
        max_reason=MAX_REASON,
        num=lambda x: figure(x, staff.lang),
        import_reason=lambda e: import_reason(staff.lang, e),
        audit_detail=lambda e: audit_detail(staff.lang, e),
        status_code=status_code,
        **data,
    )


def audit_detail(lang: str, entry: ev.AuditEntry) -> str:
    """An audit entry's detail in the user's words: core's phrase for it (`phrase`, levels
    as codes), or the detail as core wrote it (a period's units, the officer's words)."""
    if entry.phrase is None:
        return entry.detail or ""
    params: dict[str, object] = dict(entry.phrase_params)
    for name in ("level", "old", "new"):
        if name in params:
            params[name] = t(lang, f"eval.level.{params[name]}")
    if entry.phrase == "level":
        return str(params["level"])
    return t(lang, f"eval.audit.{entry.phrase}", **params)


def figure(value: float | None, lang: str) -> str:
    """An evidence figure with two decimals as the language writes it; "-" for none."""
    if value is None:
        return "-"
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "id" else text


@router.get("/evaluations/{period_id}")
async def period_page(
    request: Request,
    staff: CurrentStaff,
    period_id: str,
    done: Annotated[str, Query(pattern="^(created|computed|decided|imported|finalized)?$")] = "",
) -> Response:
    _require_reader(staff)
    return await _period_page(request, staff, period_id_of(period_id), done=done)


@router.post("/evaluations/{period_id}/compute")
async def period_compute(request: Request, staff: CurrentStaff, period_id: str) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_reader(staff)
    pid = period_id_of(period_id)
    policies = policies_of(request)

    def compute(session: Session) -> int:
        period = ev.get_period(session, pid, actor=staff.actor)
        return ev.compute_period(
            session, period, policies.evaluations, policies.settings.tz, actor=staff.actor
        )

    await write(request, compute)
    return RedirectResponse(f"{PREFIX}/evaluations/{pid}?done=computed", status_code=303)


@router.post("/evaluations/{period_id}/officers/{evaluation_id}")
async def period_decide(
    request: Request, staff: CurrentStaff, period_id: str, evaluation_id: str
) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_reader(staff)
    pid = period_id_of(period_id)
    eid = parse_id(evaluation_id)
    if eid is None:
        raise NotFound(f"officer evaluation {evaluation_id!r} is not in this period")
    behaviour = str(form.get("behaviour") or "")[:20]
    results = str(form.get("results") or "")[:20]
    reason = str(form.get("reason") or "")[: MAX_REASON + 1]
    if behaviour not in ("", "confirm", *LEVELS) or results not in ("", *LEVELS):
        return await _period_page(
            request, staff, pid, error=t(staff.lang, "eval.bad_level"), status_code=400
        )
    if not behaviour and not results:
        return await _period_page(
            request, staff, pid, error=t(staff.lang, "eval.nothing_chosen"), status_code=400
        )

    def decide(session: Session) -> str:
        period = ev.get_period(session, pid, actor=staff.actor)
        if behaviour:
            level = None if behaviour == "confirm" else Level(behaviour)
            row = ev.decide_behaviour(session, period, eid, level, reason, actor=staff.actor)
        if results:
            row = ev.set_results_level(session, period, eid, Level(results), actor=staff.actor)
        return row.officer_name

    try:
        await write(request, decide)
    except InvalidInput as exc:
        return await _period_page(
            request, staff, pid, error=refusal(staff.lang, exc), status_code=400
        )
    return RedirectResponse(f"{PREFIX}/evaluations/{pid}?done=decided#officer-{eid}", 303)


@router.post("/evaluations/{period_id}/results")
async def period_results(request: Request, staff: CurrentStaff, period_id: str) -> Response:
    form = await request.form()
    check_csrf(request, staff, dict(form))
    _require_reader(staff)
    pid = period_id_of(period_id)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _period_page(
            request, staff, pid, error=t(staff.lang, "eval.no_file"), status_code=400
        )
    raw = await upload.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        return await _period_page(
            request, staff, pid, error=t(staff.lang, "eval.file_too_large"), status_code=400
        )

    class BadRows(Exception):
        def __init__(self, errors: list[ev.ImportError_]) -> None:
            self.errors = errors

    def load(session: Session) -> int:
        period = ev.get_period(session, pid, actor=staff.actor)
        count, errors = ev.import_results(session, period, raw, actor=staff.actor)
        if errors:
            raise BadRows(errors)  # the transaction rolls back: nothing is written
        return count

    try:
        await write(request, load)
    except BadRows as bad:
        return await _period_page(
            request,
            staff,
            pid,
            error=t(staff.lang, "eval.import_failed", n=len({e.row for e in bad.errors})),
            errors=bad.errors,
            status_code=400,
        )
    return RedirectResponse(f"{PREFIX}/evaluations/{pid}?done=imported", status_code=303)


def import_reason(lang: str, error: ev.ImportError_) -> str:
    """A bad row's reason in the user's words (core's rule key), else as core wrote it."""
    if not error.why:
        return error.reason
    return refusal(lang, InvalidInput(error.reason, why=error.why, **error.params))


# Finalizing ---------------------------------------------------------------------------------


async def _finalize_page(
    request: Request,
    staff: Staff,
    pid: int,
    *,
    error: str = "",
    reason: str = "",
    status_code: int = 200,
) -> Response:
    policies = policies_of(request)

    def load(session: Session) -> tuple[EvaluationPeriod, overview.FinalizeCheck]:
        period = ev.get_period(session, pid, actor=staff.actor)
        check = overview.finalize_check(
            session, period, actor=staff.actor, tz=policies.settings.tz, now=policies.now()
        )
        return period, check

    period, check = await read(request, load)
    return render(
        request,
        "evaluation_finalize.html",
        staff.lang,
        staff,
        active="evaluations",
        period=period,
        check=check,
        day=lambda d: day_text(d, staff.lang),
        error=error,
        reason=reason,
        max_reason=MAX_REASON,
        status_code=status_code,
    )


@router.get("/evaluations/{period_id}/finalize")
async def finalize_page(request: Request, staff: CurrentStaff, period_id: str) -> Response:
    _require_reader(staff)
    return await _finalize_page(request, staff, period_id_of(period_id))


@router.post("/evaluations/{period_id}/finalize")
async def finalize(request: Request, staff: CurrentStaff, period_id: str) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_reader(staff)
    pid = period_id_of(period_id)
    reason = str(form.get("early_reason") or "")[: MAX_REASON + 1]
    policies = policies_of(request)
    refused: list[tuple[DomainError, EvaluationPeriod]] = []

    def done(session: Session) -> None:
        period = ev.get_period(session, pid, actor=staff.actor)
        try:
            ev.finalize(
                session,
                period,
                actor=staff.actor,
                tz=policies.settings.tz,
                now=policies.now(),
                early_reason=reason or None,
            )
        except (InvalidInput, ev.DecisionsMissing) as exc:
            refused.append((exc, period))
        except DomainError as exc:
            if exc.why != "evaluation.period_not_ended":
                raise
            refused.append((exc, period))

    await write(request, done)
    if refused:
        exc, period = refused[0]
        return await _finalize_page(
            request,
            staff,
            pid,
            error=_why(staff.lang, exc, period),
            reason=reason,
            status_code=400 if isinstance(exc, InvalidInput) else 409,
        )
    return RedirectResponse(f"{PREFIX}/evaluations/{pid}?done=finalized", status_code=303)


# Exports ------------------------------------------------------------------------------------


@router.get("/evaluations/{period_id}/export.csv")
async def export_csv(request: Request, staff: CurrentStaff, period_id: str) -> Response:
    _require_reader(staff)
    pid = period_id_of(period_id)

    def load(session: Session) -> tuple[str, list[list[object]]]:
        period = ev.get_period(session, pid, actor=staff.actor)
        return period.name, ev.export_rows(session, period, actor=staff.actor)

    name, rows = await read(request, load)
    buf = io.StringIO()
    writer = csv_writer(buf)  # formulas in names and reasons neutralized
    writer.writerow(ev.EXPORT_COLUMNS)
    writer.writerows(rows)
    return Response(
        buf.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="skp-bukti-{name}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/evaluations/{period_id}/export.xlsx")
async def export_xlsx(request: Request, staff: CurrentStaff, period_id: str) -> Response:
    _require_reader(staff)
    pid = period_id_of(period_id)
    policies = policies_of(request)
    settings = policies.settings

    def load(session: Session) -> tuple[str, bytes]:
        period = ev.get_period(session, pid, actor=staff.actor)
        content = ev.export_workbook(
            session,
            period,
            actor=staff.actor,
            tz=settings.tz,
            place=settings.evaluation_signature_place,
            now=policies.now(),
        )
        return period.name, content

    name, content = await read(request, load)
    return Response(
        content,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="skp-bukti-{name}.xlsx"',
            "Cache-Control": "no-store",
        },
    )
