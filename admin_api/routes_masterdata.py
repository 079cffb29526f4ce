"""Units, services and officers, including the officer CSV import."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse

from admin_api.deps import CurrentActor, SessionDep
from admin_api.problems import problem
from admin_api.schemas import ImportOut, OfficerOut, RowErrorOut, ServiceOut, UnitOut
from core.masterdata import service as md
from core.masterdata.models import Officer, Service, Unit
from core.masterdata.officer_import import import_officers

router = APIRouter()
MAX_CSV_BYTES = 5 * 1024 * 1024


MAX_OFFSET = 1_000_000


def _unit_filter_id(session: SessionDep, actor: CurrentActor, unit: str | None) -> int | None:
    if unit is None:
        return None
    return md.visible_unit(session, unit, actor=actor).id


# Units ------------------------------------------------------------------------------------


@router.get("/units", response_model=list[UnitOut], tags=["units"])
def list_units(
    actor: CurrentActor,
    session: SessionDep,
    active: bool | None = True,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Sequence[Unit]:
    return md.list_units(session, actor.unit_scope(), active=active, q=q)


@router.post("/units", response_model=UnitOut, status_code=201, tags=["units"])
def create_unit(actor: CurrentActor, session: SessionDep, body: md.UnitCreate) -> Unit:
    return md.create_unit(session, body, actor=actor)


@router.get("/units/{code}", response_model=UnitOut, tags=["units"])
def get_unit(actor: CurrentActor, session: SessionDep, code: str) -> Unit:
    return md.visible_unit(session, code, actor=actor)


@router.patch("/units/{code}", response_model=UnitOut, tags=["units"])
def update_unit(actor: CurrentActor, session: SessionDep, code: str, body: md.UnitUpdate) -> Unit:
    return md.update_unit(session, code, body, actor=actor)


# Services ---------------------------------------------------------------------------------


@router.get("/services", response_model=list[ServiceOut], tags=["services"])
def list_services(
    actor: CurrentActor,
    session: SessionDep,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    active: bool | None = True,
) -> Sequence[Service]:
    unit_id = _unit_filter_id(session, actor, unit)
    return md.list_services(session, actor.unit_scope(), unit_id=unit_id, active=active)


@router.post("/services", response_model=ServiceOut, status_code=201, tags=["services"])
def create_service(actor: CurrentActor, session: SessionDep, body: md.ServiceCreate) -> Service:
    return md.create_service(session, body, actor=actor)


@router.patch("/services/{service_id}", response_model=ServiceOut, tags=["services"])
def update_service(
    actor: CurrentActor, session: SessionDep, service_id: int, body: md.ServiceUpdate
) -> Service:
    return md.update_service(session, service_id, body, actor=actor)


# Officers ---------------------------------------------------------------------------------


@router.get("/officers", response_model=list[OfficerOut], tags=["officers"])
def list_officers(
    actor: CurrentActor,
    session: SessionDep,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    active: bool | None = True,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Sequence[Officer]:
    unit_id = _unit_filter_id(session, actor, unit)
    return md.list_officers(
        session, actor.unit_scope(), unit_id=unit_id, active=active, q=q, limit=limit, offset=offset
    )


@router.post("/officers", response_model=OfficerOut, status_code=201, tags=["officers"])
def create_officer(actor: CurrentActor, session: SessionDep, body: md.OfficerCreate) -> Officer:
    return md.create_officer(session, body, actor=actor)


@router.get("/officers/{officer_id}", response_model=OfficerOut, tags=["officers"])
def get_officer(actor: CurrentActor, session: SessionDep, officer_id: int) -> Officer:
    return md.visible_officer(session, officer_id, actor=actor)


@router.patch("/officers/{officer_id}", response_model=OfficerOut, tags=["officers"])
def update_officer(
    actor: CurrentActor, session: SessionDep, officer_id: int, body: md.OfficerUpdate
) -> Officer:
    return md.update_officer(session, officer_id, body, actor=actor)


@router.post(
    "/officers/import",
    response_model=ImportOut,
    tags=["officers"],
    responses={422: {"description": "the file has bad rows; nothing was imported"}},
)
def import_officers_csv(
    actor: CurrentActor, session: SessionDep, file: UploadFile, dry_run: bool = False
) -> ImportOut | JSONResponse:
    """CSV with columns nip, name, unit_code[, position, active]. All rows or none."""
    raw = file.file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(413, f"the file is larger than {MAX_CSV_BYTES // 1024 // 1024} MB")
    report = import_officers(session, raw, actor=actor, dry_run=dry_run)
    out = ImportOut(
        created=report.created,
        updated=report.updated,
        dry_run=report.dry_run,
        errors=[RowErrorOut(row=e.row, column=e.column, reason=e.reason) for e in report.errors],
    )
    if not report.ok:
        session.rollback()
        first = out.errors[0]
        return problem(
            422,
            f"{len(out.errors)} bad row(s), nothing imported; first: row {first.row}, "
            f"column {first.column or '-'}: {first.reason}",
            errors=[e.model_dump() for e in out.errors],
        )
    return out
