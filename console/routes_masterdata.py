"""Master data (admins): units, services, officers (with CSV imports), QR codes; digest previews.

/staff/units lists the units of the user's scope; a unit's page keeps its services and
officers; /staff/officers/import checks a roster (a dry run: every row's result, nothing
written) before a second button imports it; QR codes and a unit's printable sheet; and
/staff/digests previews a unit's weekly digest (and, for admins, sends it now)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
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
from core.access import Permission
from core.digests.chart import render_chart
from core.digests.delivery import send_unit_digest
from core.digests.figures import DigestData, IsoWeek
from core.digests.preview import (
    may_preview_digest,
    may_send_digest,
    preview_digest,
    preview_readers,
    previewable_units,
)
from core.digests.render import render_digest
from core.masterdata import service as md
from core.masterdata.bot_identity import printable_bot, recorded_bot
from core.masterdata.dry_run import ImportPreview, Reason, explain, preview_officer_import
from core.masterdata.models import Officer, Service, Unit
from core.masterdata.officer_import import import_officers
from core.masterdata.qr import (
    caption,
    deep_link,
    payload_for,
    qr_png,
    qr_svg,
    unit_cards,
    unit_sheet_pdf,
    web_link,
    web_short_link,
    whatsapp_link,
    whatsapp_short_link,
    whatsapp_text,
)
from core.masterdata.unit_import import CsvImport, import_services, import_units
from core.people.models import AppUser
from core.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.shared.i18n import ct
from core.shared.workers import worker_name

router = APIRouter()
MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_TEXT = 200
CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
PUBLIC_CODE_RE = re.compile(r"[a-z0-9]{1,16}")
WEEK_RE = re.compile(r"[0-9]{4}-W[0-9]{2}")
OFFICERS_SHOWN = 200
UnitCode = Annotated[str, PathParam(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$")]
RowId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
# QR cards' "print anyway": the person printing says the cards may lead to another bot.
Force = Annotated[bool, Query()]


def _may_edit(staff: Staff) -> bool:
    return staff.may(Permission.EDIT_MASTER_DATA) or staff.may(Permission.MANAGE_UNITS)


def _require_editor(staff: Staff) -> None:
    if not _may_edit(staff):
        raise Forbidden("only supervisors and admins keep master data")


def _require_units_admin(staff: Staff) -> None:
    if not staff.may(Permission.MANAGE_UNITS):
        raise Forbidden("only an admin may create or deactivate units")


def _text(form: dict[str, Any], name: str, limit: int = MAX_TEXT) -> str:
    return str(form.get(name) or "")[: limit * 2].strip()


def _validation_reason(lang: str, exc: ValidationError) -> str:
    """A form's pydantic refusal in the user's words (a NIP with the rule it breaks)."""
    said = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        message = str(err["msg"]).removeprefix("Value error, ")
        if field == "nip":
            said.append(_reason(lang, explain(field, message)))
        elif field in ("code", "service_population", "name", "unit_code"):
            said.append(t(lang, f"md.why.field_{field}"))
        else:
            said.append(t(lang, "md.why.other", detail=message))
    return " ".join(said)


def _reason(lang: str, reason: Reason) -> str:
    try:
        return t(lang, f"md.why.{reason.key}", **reason.params)
    except (KeyError, IndexError, ValueError):
        return reason.message


def _population(raw: str) -> tuple[bool, int | None]:
    """The form's service population: (readable, the number or None when left empty)."""
    raw = raw.replace(".", "").replace(",", "").replace(" ", "")
    if not raw:
        return True, None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return False, None
    return True, int(raw)


# Units --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    parent: str


async def _units_page(
    request: Request,
    staff: Staff,
    *,
    q: str = "",
    draft: dict[str, str] | None = None,
    error: str = "",
    saved: str = "",
    status_code: int = 200,
) -> Response:
    scope = staff.actor.unit_scope()

    def load(session: Session) -> list[UnitRow]:
        units = md.list_units(session, scope, active=None, q=q or None)
        names = {u.id: u for u in md.list_units(session, scope, active=None)}
        return [UnitRow(u, names[u.parent_id].name if u.parent_id in names else "") for u in units]

    rows = await read(request, load)
    return render(
        request,
        "units.html",
        staff.lang,
        staff,
        active="masterdata",
        rows=rows,
        q=q,
        draft=draft or {},
        error=error,
        saved=saved,
        may_create=staff.may(Permission.MANAGE_UNITS),
        status_code=status_code,
    )


@router.get("/units")
async def units_page(
    request: Request,
    staff: CurrentStaff,
    q: Annotated[str, Query(max_length=100)] = "",
    saved: Annotated[str, Query(max_length=20, pattern=r"^[a-z_]*$")] = "",
) -> Response:
    _require_editor(staff)
    return await _units_page(request, staff, q=q.strip(), saved=saved)


@router.post("/units")
async def unit_create(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_editor(staff)
    _require_units_admin(staff)
    draft = {name: _text(form, name) for name in ("code", "name", "parent_code", "population")}
    readable, population = _population(draft["population"])
    error = ""
    data: md.UnitCreate | None = None
    if not readable:
        error = t(staff.lang, "md.why.field_service_population")
    else:
        try:
            data = md.UnitCreate(
                code=draft["code"],
                name=draft["name"],
                parent_code=draft["parent_code"] or None,
                service_population=population,
            )
        except ValidationError as exc:
            error = _validation_reason(staff.lang, exc)
    if data is not None:
        chosen = data

        def create(session: Session) -> None:
            md.create_unit(session, chosen, actor=staff.actor)

        try:
            await write(request, create)
        except Conflict:
            error = t(staff.lang, "md.why.unit_code_taken")
        except NotFound:
            error = t(staff.lang, "md.why.parent_unknown")
        else:
            return RedirectResponse(f"{PREFIX}/units/{chosen.code}?saved=unit", status_code=303)
    return await _units_page(request, staff, draft=draft, error=error, status_code=400)


@dataclass(frozen=True)
class UnitView:
    unit: Unit
    parent: Unit | None
    services: Sequence[Service]
    officers: Sequence[Officer]
    targets: Sequence[Unit]  # the active units an officer of this unit may be moved to
    parents: Sequence[Unit] = ()  # the units it may be put under (for MANAGE_UNITS), by name


async def _unit_page(
    request: Request,
    staff: Staff,
    code: str,
    *,
    q: str = "",
    edit_officer: int | None = None,
    draft: dict[str, str] | None = None,
    error: str = "",
    error_at: str = "",
    saved: str = "",
    status_code: int = 200,
) -> Response:
    actor = staff.actor

    def load(session: Session) -> UnitView:
        unit = md.visible_unit(session, code, actor=actor)
        parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
        if parent is not None and (parent.id is None or not actor.can_see_unit(parent.id)):
            parent = None
        services = md.list_services(session, None, unit_id=unit.id, active=None)
        officers = md.list_officers(
            session, None, unit_id=unit.id, active=None, q=q or None, limit=OFFICERS_SHOWN
        )
        targets = [
            u
            for u in md.list_units(session, actor.unit_scope(), active=True)
            if actor.may(Permission.EDIT_MASTER_DATA, u.id)
        ]
        parents: Sequence[Unit] = ()
        if actor.may(Permission.MANAGE_UNITS):  # every other unit: core refuses a circle
            parents = [u for u in md.list_units(session, None, active=None) if u.id != unit.id]
        return UnitView(unit, parent, services, officers, targets, parents)

    view = await read(request, load)
    unit_id = view.unit.id
    editing = next((o for o in view.officers if o.id == edit_officer), None)
    return render(
        request,
        "units_detail.html",
        staff.lang,
        staff,
        active="masterdata",
        view=view,
        q=q,
        editing=editing,
        draft=draft or {},
        error=error,
        error_at=error_at,
        saved=saved,
        may_write=actor.may(Permission.EDIT_MASTER_DATA, unit_id),
        may_admin=staff.may(Permission.MANAGE_UNITS),
        may_digest=may_preview_digest(actor=actor, unit_id=unit_id),
        shown_cap=OFFICERS_SHOWN,
        status_code=status_code,
    )


@router.get("/units/qr-sheet.pdf")
async def qr_sheet_all(request: Request, staff: CurrentStaff, force: Force = False) -> Response:
    """One A4 sheet for every active unit of the user's scope, unit after unit; refused
    while PUBLIC_BOT_USERNAME is not the bot that runs here, unless `force`."""
    _require_editor(staff)
    configured = policies_of(request).settings.public_bot_username
    lang = staff.lang
    scope = staff.actor.unit_scope()

    def cards(session: Session) -> tuple[str, list[Any]]:
        found: list[Any] = []
        for unit in md.list_units(session, scope, active=True):
            found += unit_cards(session, unit, lang)
        if not found:
            raise NotFound("no active unit")
        return printable_bot(session, configured, force=force), found

    bot, found = await read(request, cards)
    settings = policies_of(request).settings
    web_base, wa_number = settings.public_base_url, settings.whatsapp_business_number
    pdf = await run_in_threadpool(
        lambda: unit_sheet_pdf(found, bot, lang, web_base=web_base, wa_number=wa_number)
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="qr-semua-unit.pdf"'},
    )


@router.get("/units/{code}")
async def unit_page(
    request: Request,
    staff: CurrentStaff,
    code: UnitCode,
    q: Annotated[str, Query(max_length=100)] = "",
    edit_officer: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    saved: Annotated[str, Query(max_length=20, pattern=r"^[a-z_]*$")] = "",
) -> Response:
    _require_editor(staff)
    return await _unit_page(
        request, staff, code, q=q.strip(), edit_officer=edit_officer, saved=saved
    )


@router.post("/units/{code}")
async def unit_update(request: Request, staff: CurrentStaff, code: UnitCode) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_editor(staff)
    toggling = "active" in form and "name" not in form
    if toggling:
        _require_units_admin(staff)
        data = md.UnitUpdate(active=form.get("active") == "1")
    else:
        draft = {"name": _text(form, "name"), "population": _text(form, "population")}
        fields: dict[str, Any] = {}
        if "parent_code" in form:  # offered to those who may create units; core checks
            draft["parent_code"] = _text(form, "parent_code", 40)
            fields["parent_code"] = draft["parent_code"]
        readable, population = _population(draft["population"])
        try:
            if not readable:
                raise ValueError
            data = md.UnitUpdate(name=draft["name"], service_population=population, **fields)
        except ValidationError as exc:
            return await _unit_page(
                request, staff, code, draft=draft, error_at="unit", status_code=400,
                error=_validation_reason(staff.lang, exc),
            )  # fmt: skip
        except ValueError:
            return await _unit_page(
                request, staff, code, draft=draft, error_at="unit", status_code=400,
                error=t(staff.lang, "md.why.field_service_population"),
            )  # fmt: skip

    def update(session: Session) -> None:
        md.update_unit(session, code, data, actor=staff.actor)

    try:
        await write(request, update)
    except InvalidInput as exc:  # the parent named: unknown, the unit itself, below it
        if not (exc.why or "").startswith("unit."):
            raise
        return await _unit_page(
            request, staff, code, draft=draft, error_at="unit", status_code=400,
            error=_unit_refusal(staff.lang, exc),
        )  # fmt: skip
    return RedirectResponse(f"{PREFIX}/units/{code}?saved=unit", status_code=303)


# Core's refusals of a unit's parent, in the words the unit import uses for the same rules.
_PARENT_REFUSED = {
    "unit.parent_unknown": "md.why.parent_unknown",
    "unit.parent_self": "md.why.parent_self",
    "unit.parent_cycle": "md.why.parent_cycle",
}


def _unit_refusal(lang: str, exc: InvalidInput) -> str:
    key = _PARENT_REFUSED.get(exc.why or "")
    return t(lang, key) if key else refusal(lang, exc)


# Services -----------------------------------------------------------------------------------


@router.post("/units/{code}/services")
async def service_create(request: Request, staff: CurrentStaff, code: UnitCode) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_editor(staff)
    draft = {"service_name": _text(form, "name")}
    try:
        data = md.ServiceCreate(unit_code=code, name=draft["service_name"])
    except ValidationError as exc:
        return await _unit_page(
            request, staff, code, draft=draft, error_at="service", status_code=400,
            error=_validation_reason(staff.lang, exc),
        )  # fmt: skip

    def create(session: Session) -> None:
        md.create_service(session, data, actor=staff.actor)

    return await _save_on_unit_page(request, staff, code, create, "service", draft)


# What a unit page's form is refused for when its name (a service) or NIP (an officer) is
# taken, and where the page goes back to once it is saved.
_TAKEN = {"service": "md.why.service_taken", "officer": "md.why.nip_taken"}
_SAVED_AT = {"service": "services", "officer": "officers"}


async def _save_on_unit_page(
    request: Request,
    staff: Staff,
    code: str,
    step: Callable[[Session], None],
    what: str,
    draft: dict[str, str] | None = None,
) -> Response:
    """Take a service or officer form's step in a write turn: back to the unit page, saved;
    or the page again with the form as typed, when the name or NIP is already taken."""
    try:
        await write(request, step)
    except Conflict:
        return await _unit_page(
            request, staff, code, draft=draft, error_at=what, status_code=400,
            error=t(staff.lang, _TAKEN[what]),
        )  # fmt: skip
    return RedirectResponse(
        f"{PREFIX}/units/{code}?saved={what}#{_SAVED_AT[what]}", status_code=303
    )


@router.post("/services/{service_id:int}")
async def service_update(request: Request, staff: CurrentStaff, service_id: RowId) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_editor(staff)
    actor = staff.actor
    code = await read(
        request,
        lambda s: md.get_unit(s, md.visible_service(s, service_id, actor=actor).unit_id).code,
    )
    try:
        if "name" in form:
            data = md.ServiceUpdate(name=_text(form, "name"))
        else:
            data = md.ServiceUpdate(active=form.get("active") == "1")
    except ValidationError as exc:
        return await _unit_page(
            request, staff, code, error_at="service", status_code=400,
            error=_validation_reason(staff.lang, exc),
        )  # fmt: skip

    def update(session: Session) -> None:
        md.update_service(session, service_id, data, actor=actor)

    return await _save_on_unit_page(request, staff, code, update, "service")


# Officers -----------------------------------------------------------------------------------


@router.post("/units/{code}/officers")
async def officer_create(request: Request, staff: CurrentStaff, code: UnitCode) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_editor(staff)
    draft = {
        "officer_nip": _text(form, "nip", 40),
        "officer_name": _text(form, "name"),
        "officer_position": _text(form, "position"),
    }
    try:
        data = md.OfficerCreate(
            nip=draft["officer_nip"],
            name=draft["officer_name"],
            position=draft["officer_position"],
            unit_code=code,
        )
    except ValidationError as exc:
        return await _unit_page(
            request, staff, code, draft=draft, error_at="officer", status_code=400,
            error=_validation_reason(staff.lang, exc),
        )  # fmt: skip

    def create(session: Session) -> None:
        md.create_officer(session, data, actor=staff.actor)

    return await _save_on_unit_page(request, staff, code, create, "officer", draft)


@router.post("/officers/{officer_id:int}")
async def officer_update(request: Request, staff: CurrentStaff, officer_id: RowId) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_editor(staff)
    actor = staff.actor
    code = await read(
        request,
        lambda s: md.get_unit(s, md.visible_officer(s, officer_id, actor=actor).unit_id).code,
    )
    draft: dict[str, str] = {}
    try:
        if "name" in form:
            draft = {"edit_name": _text(form, "name"), "edit_position": _text(form, "position")}
            target = _text(form, "unit_code", 40).lower()
            data = md.OfficerUpdate(
                name=draft["edit_name"],
                position=draft["edit_position"],
                unit_code=target if CODE_RE.fullmatch(target) else None,
                active=form.get("active") == "1",
            )
        else:
            data = md.OfficerUpdate(active=form.get("active") == "1")
    except ValidationError as exc:
        return await _unit_page(
            request, staff, code, edit_officer=officer_id, draft=draft, error_at="edit",
            error=_validation_reason(staff.lang, exc), status_code=400,
        )  # fmt: skip

    def update(session: Session) -> None:
        md.update_officer(session, officer_id, data, actor=actor)

    try:
        await write(request, update)
    except Forbidden as exc:
        if not staff.may(Permission.EDIT_MASTER_DATA):
            raise
        return await _unit_page(
            request, staff, code, edit_officer=officer_id, draft=draft, error_at="edit",
            error=refusal(staff.lang, exc), status_code=400,
        )  # fmt: skip
    return RedirectResponse(f"{PREFIX}/units/{code}?saved=officer#officers", status_code=303)


# Officer import: a dry run, then the import --------------------------------------------------


def _import_page(
    request: Request,
    staff: Staff,
    *,
    preview: ImportPreview | None = None,
    payload: str = "",
    error: str = "",
    imported: str = "",
    status_code: int = 200,
) -> Response:
    lang = staff.lang
    return render(
        request,
        "officers_import.html",
        lang,
        staff,
        active="masterdata",
        preview=preview,
        reason=lambda r: _reason(lang, r),
        payload=payload,
        error=error,
        imported=imported,
        status_code=status_code,
    )


def _require_importer(staff: Staff) -> None:
    if not staff.may(Permission.EDIT_MASTER_DATA):
        raise Forbidden("only supervisors and admins import officers")


@router.get("/officers/import")
async def import_page(
    request: Request,
    staff: CurrentStaff,
    created: Annotated[int, Query(ge=0, le=10**6)] = -1,
    updated: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> Response:
    _require_importer(staff)
    done = t(staff.lang, "md.import.done", created=created, updated=updated) if created >= 0 else ""
    return _import_page(request, staff, imported=done)


@router.post("/officers/import/check")
async def import_check(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()
    check_csrf(request, staff, dict(form))
    _require_importer(staff)
    upload = form.get("file")
    raw = b""
    if isinstance(upload, UploadFile):
        raw = await upload.read(MAX_CSV_BYTES + 1)
    if not raw:
        return _import_page(
            request, staff, error=t(staff.lang, "md.import.no_file"), status_code=400
        )
    if len(raw) > MAX_CSV_BYTES:
        return _import_page(
            request, staff, error=t(staff.lang, "md.import.too_big"), status_code=400
        )
    preview = await read(request, lambda s: preview_officer_import(s, raw, actor=staff.actor))
    payload = base64.b64encode(raw).decode("ascii") if preview.ok else ""
    return _import_page(request, staff, preview=preview, payload=payload)


@router.post("/officers/import")
async def import_write(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_importer(staff)
    text = str(form.get("payload") or "")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True) if text.isascii() else b""
    except (binascii.Error, ValueError):
        raw = b""
    if not raw or len(raw) > MAX_CSV_BYTES:
        return _import_page(
            request, staff, error=t(staff.lang, "md.import.no_file"), status_code=400
        )

    def run(session: Session) -> tuple[int, int] | None:
        report = import_officers(session, raw, actor=staff.actor)
        if not report.ok:
            session.rollback()
            return None
        return report.created, report.updated

    counts = await write(request, run)
    if counts is None:  # changed since the dry run: show the rows again, nothing written
        preview = await read(request, lambda s: preview_officer_import(s, raw, actor=staff.actor))
        return _import_page(request, staff, preview=preview, status_code=400)
    created, updated = counts
    return RedirectResponse(
        f"{PREFIX}/officers/import?created={created}&updated={updated}", status_code=303
    )


# Units and services from CSV: a dry run, then the import -----------------------------------

IMPORTERS = {"units": import_units, "services": import_services}
SHOWN_COLUMNS = {
    "units": ("code", "name", "parent_code", "service_population", "active"),
    "services": ("unit_code", "name", "active"),
}


def _csv_page(
    request: Request,
    staff: Staff,
    *,
    result: CsvImport | None = None,
    payload: str = "",
    error: str = "",
    done: str = "",
    status_code: int = 200,
) -> Response:
    lang = staff.lang
    return render(
        request,
        "units_import.html",
        lang,
        staff,
        active="masterdata",
        result=result,
        columns=SHOWN_COLUMNS[result.kind] if result else (),
        reason=lambda r: _reason(lang, r),
        payload=payload,
        error=error,
        done=done,
        may_units=staff.may(Permission.MANAGE_UNITS),
        status_code=status_code,
    )


def _kind(staff: Staff, form: Any) -> str:
    kind = str(form.get("kind") or "")
    if kind not in IMPORTERS:
        raise InvalidInput("kind is units or services")
    if kind == "units":
        _require_units_admin(staff)
    return kind


@router.get("/units-import")
async def csv_import_page(
    request: Request,
    staff: CurrentStaff,
    kind: Annotated[str, Query(pattern=r"^(units|services)?$")] = "",
    created: Annotated[int, Query(ge=0, le=10**6)] = -1,
    updated: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> Response:
    _require_importer(staff)
    done = ""
    if kind and created >= 0:
        done = t(staff.lang, f"md.uimport.done_{kind}", created=created, updated=updated)
    return _csv_page(request, staff, done=done)


@router.post("/units-import/check")
async def csv_import_check(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()
    check_csrf(request, staff, dict(form))
    _require_importer(staff)
    kind = _kind(staff, form)
    upload = form.get("file")
    raw = await upload.read(MAX_CSV_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if not raw or len(raw) > MAX_CSV_BYTES:
        key = "md.import.too_big" if raw else "md.import.no_file"
        return _csv_page(request, staff, error=t(staff.lang, key), status_code=400)
    importer = IMPORTERS[kind]
    result = await read(request, lambda s: importer(s, raw, actor=staff.actor, dry_run=True))
    payload = base64.b64encode(raw).decode("ascii") if result.ok else ""
    return _csv_page(request, staff, result=result, payload=payload)


@router.post("/units-import")
async def csv_import_write(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_importer(staff)
    kind = _kind(staff, form)
    text = str(form.get("payload") or "")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True) if text.isascii() else b""
    except (binascii.Error, ValueError):
        raw = b""
    if not raw or len(raw) > MAX_CSV_BYTES:
        return _csv_page(request, staff, error=t(staff.lang, "md.import.no_file"), status_code=400)
    importer = IMPORTERS[kind]

    def run(session: Session) -> CsvImport:
        result = importer(session, raw, actor=staff.actor)
        if not result.written:
            session.rollback()
        return result

    result = await write(request, run)
    if not result.written:  # changed since the dry run: the rows again, nothing written
        return _csv_page(request, staff, result=result, status_code=400)
    created, updated = result.count("create"), result.count("update")
    return RedirectResponse(
        f"{PREFIX}/units-import?kind={kind}&created={created}&updated={updated}",
        status_code=303,
    )


# QR codes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotCheck:
    """Whether the cards may be printed for PUBLIC_BOT_USERNAME, as the QR page says it."""

    configured: str
    recorded: str | None
    recorded_at: Any
    refusal: str  # the refusal in the reader's words; "" when the names agree


def _bot_check(session: Session, configured: str, lang: str) -> BotCheck:
    found = recorded_bot(session)
    try:
        printable_bot(session, configured)
        said = ""
    except Conflict as exc:
        said = refusal(lang, exc)
    return BotCheck(
        configured.lstrip("@"),
        found.username if found else None,
        found.recorded_at if found else None,
        said,
    )


def _qr_link(
    session: Session,
    staff: Staff,
    code: str,
    service: int | None,
    officer: str | None,
    configured: str,
    force: bool,
) -> tuple[Unit, str, tuple[str, str]]:
    unit = md.visible_unit(session, code, actor=staff.actor)
    payload = payload_for(session, unit, service, officer)
    bot = printable_bot(session, configured, force=force)
    return unit, deep_link(bot, payload), caption(bot, payload)


@dataclass(frozen=True)
class WebWords:
    """What the QR page says about the citizens' website (PUBLIC_BASE_URL), in core's words."""

    base: str  # PUBLIC_BASE_URL; "" when not set (the cards offer only the bot)
    address: str  # the unit counter's web address ("" without a unit or a base)
    label: str
    none: str
    png: str
    svg: str


def _web_words(request: Request, lang: str, unit: Unit | None) -> WebWords:
    base = policies_of(request).settings.public_base_url
    address = web_link(base, f"u_{unit.code}") if base and unit is not None else ""
    return WebWords(
        base,
        address,
        ct(lang, "qr.web_address"),
        ct(lang, "qr.web_none"),
        ct(lang, "qr.web_png"),
        ct(lang, "qr.web_svg"),
    )


@dataclass(frozen=True)
class WhatsAppWords:
    """What the QR page says about WhatsApp (WHATSAPP_BUSINESS_NUMBER), in core's words."""

    number: str  # "" when not set (the cards offer no WhatsApp)
    address: str  # the unit counter's wa.me link ("" without a unit or a number)
    text: str  # the first message it writes ("START u_<unit>")
    label: str
    none: str
    png: str
    svg: str


def _whatsapp_words(request: Request, lang: str, unit: Unit | None) -> WhatsAppWords:
    number = policies_of(request).settings.whatsapp_business_number
    payload = f"u_{unit.code}" if unit is not None else ""
    return WhatsAppWords(
        number,
        whatsapp_link(number, payload) if number and unit is not None else "",
        whatsapp_text(payload) if unit is not None else "",
        ct(lang, "qr.wa_address"),
        ct(lang, "qr.wa_none"),
        ct(lang, "qr.wa_png"),
        ct(lang, "qr.wa_svg"),
    )


@router.get("/qr")
async def qr_page_all(request: Request, staff: CurrentStaff) -> Response:
    """The cards of every active unit: whether the configured bot is the one that runs here,
    and the sheet to download (with "print anyway" when it is not)."""
    _require_editor(staff)
    configured = policies_of(request).settings.public_bot_username
    check = await read(request, lambda s: _bot_check(s, configured, staff.lang))
    web = _web_words(request, staff.lang, None)
    wa = _whatsapp_words(request, staff.lang, None)
    return render(request, "qr.html", staff.lang, staff, unit=None, check=check, web=web, wa=wa)


@router.get("/units/{code}/qr")
async def qr_page(request: Request, staff: CurrentStaff, code: UnitCode) -> Response:
    """A unit's QR cards: the bot check, the sheet, the counter's code."""
    _require_editor(staff)
    configured = policies_of(request).settings.public_bot_username

    def look(session: Session) -> tuple[Unit, BotCheck]:
        unit = md.visible_unit(session, code, actor=staff.actor)
        return unit, _bot_check(session, configured, staff.lang)

    unit, check = await read(request, look)
    web = _web_words(request, staff.lang, unit)
    wa = _whatsapp_words(request, staff.lang, unit)
    return render(request, "qr.html", staff.lang, staff, unit=unit, check=check, web=web, wa=wa)


@router.get("/units/{code}/qr.{kind}")
async def qr_image(
    request: Request,
    staff: CurrentStaff,
    code: UnitCode,
    kind: Annotated[str, PathParam(pattern=r"^(png|svg)$")],
    service: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    officer: Annotated[str | None, Query(max_length=16, pattern=r"^[a-z0-9]+$")] = None,
    force: Force = False,
    target: Annotated[str, Query(pattern=r"^(bot|web|whatsapp)$")] = "bot",
) -> Response:
    """The QR code opening the bot with the unit, one of its services or officers chosen,
    with the bot's @name and short link under it; `target=web`: the same survey on the
    citizens' website (PUBLIC_BASE_URL), with its address under it; `target=whatsapp`: the
    office's WhatsApp chat (WHATSAPP_BUSINESS_NUMBER) with the first message written, with
    the number's wa.me address and that message under it."""
    _require_editor(staff)
    settings = policies_of(request).settings
    configured = settings.public_bot_username
    if target == "web":
        if not settings.public_base_url:
            raise NotFound("PUBLIC_BASE_URL is not set: the cards offer only the bot")

        def web_qr(session: Session) -> tuple[Unit, str, tuple[str, ...]]:
            unit = md.visible_unit(session, code, actor=staff.actor)
            payload = payload_for(session, unit, service, officer)
            base = settings.public_base_url
            return unit, web_link(base, payload), (web_short_link(base, payload),)

        unit, link, lines = await read(request, web_qr)
    elif target == "whatsapp":
        number = settings.whatsapp_business_number
        if not number:
            raise NotFound("WHATSAPP_BUSINESS_NUMBER is not set: the cards offer no WhatsApp")

        def wa_qr(session: Session) -> tuple[Unit, str, tuple[str, ...]]:
            unit = md.visible_unit(session, code, actor=staff.actor)
            payload = payload_for(session, unit, service, officer)
            lines = (whatsapp_short_link(number), whatsapp_text(payload))
            return unit, whatsapp_link(number, payload), lines

        unit, link, lines = await read(request, wa_qr)
    else:
        unit, link, lines = await read(
            request, lambda s: _qr_link(s, staff, code, service, officer, configured, force)
        )
    what = f"s{service}" if service else (f"o-{officer}" if officer else "loket")
    what = f"{target}-{what}" if target != "bot" else what
    name = f"qr-{unit.code}-{what}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "X-Deep-Link": link}
    if kind == "svg":
        return Response(qr_svg(link, lines=lines), media_type="image/svg+xml", headers=headers)
    return Response(qr_png(link, lines=lines), media_type="image/png", headers=headers)


@router.get("/units/{code}/qr-sheet.pdf")
async def qr_sheet(
    request: Request, staff: CurrentStaff, code: UnitCode, force: Force = False
) -> Response:
    """The unit's A4 sheet of cards: the counter, every active service and officer."""
    _require_editor(staff)
    configured = policies_of(request).settings.public_bot_username
    lang = staff.lang

    def cards(session: Session) -> tuple[str, str, list[Any]]:
        unit = md.visible_unit(session, code, actor=staff.actor)
        found = unit_cards(session, unit, lang)
        return unit.code, printable_bot(session, configured, force=force), found

    unit_code, bot, found = await read(request, cards)
    settings = policies_of(request).settings
    web_base, wa_number = settings.public_base_url, settings.whatsapp_business_number
    pdf = await run_in_threadpool(
        lambda: unit_sheet_pdf(found, bot, lang, web_base=web_base, wa_number=wa_number)
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="qr-{unit_code}.pdf"'},
    )


# Digest preview -------------------------------------------------------------------------------


def _week_of(request: Request, text: str) -> IsoWeek | None:
    if not text:
        policies = policies_of(request)
        return IsoWeek.of(policies.now().astimezone(policies.settings.tz).date())
    if not WEEK_RE.fullmatch(text.strip().upper()):
        return None
    try:
        return IsoWeek.parse(text.strip())
    except ValueError:
        return None


async def _digest_page(
    request: Request,
    staff: Staff,
    *,
    unit_code: str,
    week_text: str,
    as_user: int | None = None,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    policies = policies_of(request)
    settings = policies.settings
    actor = staff.actor
    units = await read(request, lambda s: previewable_units(s, actor=actor))
    week = _week_of(request, week_text)
    data: DigestData | None = None
    unit: Unit | None = None
    readers: list[AppUser] = []
    if week is None:
        error, status_code = t(staff.lang, "digest.bad_week"), 400
    else:
        code = unit_code or (units[0].code if units else "")
        chosen = week
        if code:
            now = policies.now()

            def load(s: Session) -> tuple[Unit, DigestData, list[AppUser]]:
                found, digest = preview_digest(
                    s, code, chosen, settings.tz, settings.default_service_population,
                    actor=actor, now=now, min_responses=settings.ikm_min_responses,
                    as_user=as_user,
                )  # fmt: skip
                return found, digest, preview_readers(s, found.id or 0, actor=actor)

            unit, data, readers = await read(request, load)
    return render(
        request,
        "digest.html",
        staff.lang,
        staff,
        active="digest",
        units=units,
        unit=unit,
        week=str(week) if week else week_text[:10],
        data=data,
        text=render_digest(data, staff.lang) if data else "",
        may_send=unit is not None and may_send_digest(actor=actor, unit_id=unit.id),
        readers=readers,
        as_user=as_user,
        reader_name=next((r.display_name or r.username for r in readers if r.id == as_user), ""),
        notice=notice,
        error=error,
        status_code=status_code,
    )


def _require_digest_reader(staff: Staff) -> None:
    if not may_preview_digest(actor=staff.actor):
        raise Forbidden("only unit heads and admins preview digests")


@router.get("/digests")
async def digest_page(
    request: Request,
    staff: CurrentStaff,
    unit: Annotated[str, Query(max_length=40, pattern=r"^[a-z0-9-]*$")] = "",
    week: Annotated[str, Query(max_length=10)] = "",
    sent: Annotated[int, Query(ge=-1, le=10**6)] = -1,
    as_user: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    _require_digest_reader(staff)
    notice = t(staff.lang, "digest.sent", count=sent) if sent >= 0 else ""
    reader = parse_id(as_user) if as_user else None  # "": myself (the form's first choice)
    if as_user and reader is None:
        raise NotFound(f"user {as_user!r} does not receive this digest")
    return await _digest_page(
        request, staff, unit_code=unit, week_text=week, as_user=reader, notice=notice
    )


@router.get("/digests/{code}/{week}/chart.png")
async def digest_chart(
    request: Request,
    staff: CurrentStaff,
    code: UnitCode,
    week: Annotated[str, PathParam(pattern=r"^[0-9]{4}-W[0-9]{2}$")],
) -> Response:
    _require_digest_reader(staff)
    chosen = _week_of(request, week)
    if chosen is None:
        raise InvalidInput("week must look like 2026-W47")
    settings = policies_of(request).settings
    now = policies_of(request).now()
    actor = staff.actor
    _, data = await read(
        request,
        lambda s: preview_digest(
            s, code, chosen, settings.tz, settings.default_service_population,
            actor=actor, now=now, min_responses=settings.ikm_min_responses,
        ),
    )  # fmt: skip
    png = await run_in_threadpool(render_chart, data, staff.lang)
    return Response(png, media_type="image/png")


@router.post("/digests/send")
async def digest_send(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require_digest_reader(staff)
    code = _text(form, "unit", 40).lower()
    week_text = _text(form, "week", 10)
    week = _week_of(request, week_text) if week_text else None
    if not CODE_RE.fullmatch(code) or week is None:
        return await _digest_page(
            request, staff, unit_code="", week_text=week_text, status_code=400,
            error=t(staff.lang, "digest.bad_week"),
        )  # fmt: skip
    actor = staff.actor

    def unit_id(session: Session) -> int:
        unit = md.visible_unit(session, code, actor=actor)
        if not may_send_digest(actor=actor, unit_id=unit.id):
            raise Forbidden("only an admin may send a digest now")
        return unit.id or 0

    found = await read(request, unit_id)
    policies = policies_of(request)
    settings = policies.settings
    try:
        queued = await run_in_threadpool(
            lambda: send_unit_digest(
                policies.engine, found, week, settings.tz, settings.default_service_population,
                worker=worker_name(), now=policies.now(), min_responses=settings.ikm_min_responses,
            )
        )  # fmt: skip
    except Conflict as exc:  # no linked unit head: nothing was claimed
        return await _digest_page(
            request, staff, unit_code=code, week_text=str(week), status_code=409,
            error=refusal(staff.lang, exc),
        )  # fmt: skip
    if queued is None:
        return await _digest_page(
            request, staff, unit_code=code, week_text=str(week), status_code=409,
            error=t(staff.lang, "digest.already_sent"),
        )  # fmt: skip
    return RedirectResponse(
        f"{PREFIX}/digests?unit={code}&week={week}&sent={queued}", status_code=303
    )
