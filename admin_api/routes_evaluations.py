"""Evaluation periods: create, compute, review, decide, import results, finalize, export;
and officer feedback scores for any date range."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from admin_api.deps import CurrentActor, PoliciesDep, SessionDep, SettingsDep
from admin_api.problems import problem
from core.access import Actor
from core.evaluations import service as ev
from core.evaluations.models import EvaluationPeriod, Level
from core.masterdata.models import Officer, Unit
from core.masterdata.service import visible_officer, visible_unit
from core.shared.clock import local_day_bounds_utc
from core.shared.spreadsheet import csv_writer
from core.surveys.officer_scores import OfficerScore, officer_scores, unit_officer_scores
from core.surveys.unit_scores import Period

router = APIRouter(tags=["evaluations"])
MAX_CSV_BYTES = 2 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def get_policy(policies: PoliciesDep) -> ev.EvaluationPolicy:
    return policies.evaluations


PolicyDep = Annotated[ev.EvaluationPolicy, Depends(get_policy)]


class PeriodIn(BaseModel):
    kind: Literal["monthly", "quarterly", "annual"]
    start: date = Field(description="first day: 1st of a month / quarter / 1 January")
    unit_codes: list[str] = Field(min_length=1, max_length=500)


class PeriodOut(BaseModel):
    id: int
    name: str
    kind: str
    start: date
    end: date
    status: str
    unit_codes: list[str]
    computed_at: datetime | None
    finalized_at: datetime | None


class EvaluationOut(BaseModel):
    """One officer as the reader may see them. Case figures count only the cases the reader
    may open; the suggestion (level and reason) and an override's reason only for readers
    who may open every case of the period's units; the decisions to others once finalized."""

    id: int
    officer_id: int
    nip: str
    officer_name: str
    unit_id: int
    survey_n: int
    raw_mean: float | None
    score: float
    score_low: float
    score_high: float
    unit_mean: float
    insufficient: bool
    complaints_received: int
    complaints_substantiated: int
    cases_overdue: int
    suggested_level: str | None
    suggestion_reason: str | None
    suggestion_reason_en: str | None
    behaviour_level: str | None
    override_reason: str | None
    results_level: str | None
    rating: str | None
    officer_response: str | None = Field(
        default=None,
        description="the officer's own written response to this evidence (written in the "
        "console by the account linked to the officer); shown with the suggestion",
    )
    officer_response_at: datetime | None = None


class PeriodDetailOut(BaseModel):
    period: PeriodOut
    full_evidence: bool = Field(
        description="true: every case of the period's units counts and suggestions are shown; "
        "false: figures count only the cases you may open, and no suggestion is shown"
    )
    officers: list[EvaluationOut]


class DecisionIn(BaseModel):
    """`confirm: true` takes the suggestion; `behaviour_level` overrides it (with a reason)."""

    confirm: bool = False
    behaviour_level: Level | None = None
    override_reason: str | None = Field(default=None, max_length=2000)
    results_level: Level | None = None


class AuditOut(BaseModel):
    id: int
    kind: str
    officer_evaluation_id: int | None
    actor_user_id: int | None
    actor_name: str | None = Field(description="who acted: display name, else username")
    officer_name: str | None = Field(description="the officer the event is about, if any")
    detail: str | None
    created_at: datetime


class FinalizeIn(BaseModel):
    """Only to finalize before the period has ended (administrators): why."""

    early_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="required to finalize before the period's last day is over "
        "(administrators only); kept in the audit trail",
    )


class OfficerScoreOut(BaseModel):
    officer_id: int
    officer_name: str
    unit_id: int
    n: int
    raw_mean: float | None
    score: float
    score_low: float
    score_high: float
    unit_mean: float
    insufficient: bool


def _period_out(session: Session, period: EvaluationPeriod) -> PeriodOut:
    unit_ids = ev.period_units(session, period)
    codes = session.exec(select(Unit.code).where(col(Unit.id).in_(unit_ids))).all()
    assert period.id is not None
    return PeriodOut(
        id=period.id,
        name=period.name,
        kind=period.kind,
        start=period.start,
        end=period.end,
        status=period.status,
        unit_codes=sorted(codes),
        computed_at=period.computed_at,
        finalized_at=period.finalized_at,
    )


def _detail_out(session: Session, actor: Actor, period: EvaluationPeriod) -> PeriodDetailOut:
    return PeriodDetailOut(
        period=_period_out(session, period),
        full_evidence=ev.sees_full_evidence(session, period, actor=actor),
        officers=[
            EvaluationOut.model_validate(v, from_attributes=True)
            for v in ev.evaluation_views(session, period, actor=actor)
        ],
    )


@router.post("/evaluation-periods", response_model=PeriodOut, status_code=201)
def create_period(actor: CurrentActor, session: SessionDep, body: PeriodIn) -> PeriodOut:
    period = ev.create_period(session, body.kind, body.start, body.unit_codes, actor=actor)
    return _period_out(session, period)


@router.get("/evaluation-periods", response_model=list[PeriodOut])
def list_periods(actor: CurrentActor, session: SessionDep) -> list[PeriodOut]:
    return [_period_out(session, p) for p in ev.list_periods(session, actor=actor)]


@router.get("/evaluation-periods/{period_id}", response_model=PeriodDetailOut)
def get_period(actor: CurrentActor, session: SessionDep, period_id: int) -> PeriodDetailOut:
    period = ev.get_period(session, period_id, actor=actor)
    return _detail_out(session, actor, period)


@router.post("/evaluation-periods/{period_id}/compute", response_model=PeriodDetailOut)
def compute_period(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policy: PolicyDep,
    period_id: int,
) -> PeriodDetailOut:
    period = ev.get_period(session, period_id, actor=actor)
    ev.compute_period(session, period, policy, settings.tz, actor=actor)
    return _detail_out(session, actor, period)


@router.post(
    "/evaluation-periods/{period_id}/officers/{evaluation_id}/decision",
    response_model=EvaluationOut,
)
def decide(
    actor: CurrentActor, session: SessionDep, period_id: int, evaluation_id: int, body: DecisionIn
) -> EvaluationOut:
    period = ev.get_period(session, period_id, actor=actor)
    if not (body.confirm or body.behaviour_level or body.results_level):
        raise HTTPException(422, "send confirm, behaviour_level and/or results_level")
    if body.confirm and body.behaviour_level:
        raise HTTPException(422, "either confirm the suggestion or give behaviour_level")
    row = None
    if body.confirm or body.behaviour_level:
        row = ev.decide_behaviour(
            session, period, evaluation_id, body.behaviour_level, body.override_reason, actor=actor
        )
    if body.results_level:
        row = ev.set_results_level(session, period, evaluation_id, body.results_level, actor=actor)
    assert row is not None and row.id is not None
    view = ev.evaluation_view(session, period, row.id, actor=actor)
    return EvaluationOut.model_validate(view, from_attributes=True)


@router.post("/evaluation-periods/{period_id}/results", response_model=PeriodDetailOut)
def import_results(
    actor: CurrentActor, session: SessionDep, period_id: int, file: UploadFile
) -> PeriodDetailOut | JSONResponse:
    """CSV with columns nip, results_level (or hasil_kerja): Di Atas / Sesuai / Di Bawah
    Ekspektasi as e-Kinerja writes them (any case or spacing, "Diatas", "Ekspetasi"), or
    above / meets / below."""
    period = ev.get_period(session, period_id, actor=actor)
    raw = file.file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(413, "the file is larger than 2 MB")
    _, errors = ev.import_results(session, period, raw, actor=actor)
    if errors:
        session.rollback()
        first = errors[0]
        return problem(
            422,
            f"{len(errors)} bad row(s), nothing imported; first: row {first.row}, "
            f"column {first.column or '-'}: {first.reason}",
            errors=[{"row": e.row, "column": e.column, "reason": e.reason} for e in errors],
        )
    return _detail_out(session, actor, period)


@router.post(
    "/evaluation-periods/{period_id}/finalize",
    response_model=PeriodOut,
    responses={
        409: {
            "description": "Not yet: the period has not ended (only an administrator may "
            "finalize early, with `early_reason`), or decisions are missing: `missing` lists "
            "every officer by name with the fields still to decide "
            "(`behaviour_level`, `results_level`)",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    },
)
def finalize(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    period_id: int,
    body: FinalizeIn | None = None,
) -> PeriodOut | JSONResponse:
    period = ev.get_period(session, period_id, actor=actor)
    try:
        done = ev.finalize(
            session,
            period,
            actor=actor,
            tz=settings.tz,
            now=policies.now(),
            early_reason=body.early_reason if body else None,
        )
    except ev.DecisionsMissing as exc:
        return problem(
            409,
            exc.message,
            code=exc.code,
            missing=[
                {
                    "evaluation_id": m.evaluation_id,
                    "officer_name": m.officer_name,
                    "nip": m.nip,
                    "fields": list(m.fields),
                }
                for m in exc.missing
            ],
        )
    return _period_out(session, done)


@router.get("/evaluation-periods/{period_id}/audit", response_model=list[AuditOut])
def audit(actor: CurrentActor, session: SessionDep, period_id: int) -> list[AuditOut]:
    """Who did what and when. Without full evidence a behaviour decision shows as
    `behaviour_decided`, and decisions carry no detail (levels, reasons)."""
    period = ev.get_period(session, period_id, actor=actor)
    return [
        AuditOut.model_validate(e, from_attributes=True)
        for e in ev.audit_trail(session, period, actor=actor)
    ]


def _export(
    actor: Actor, session: Session, period_id: int
) -> tuple[EvaluationPeriod, list[list[object]]]:
    period = ev.get_period(session, period_id, actor=actor)
    return period, ev.export_rows(session, period, actor=actor)


@router.get(
    "/evaluation-periods/{period_id}/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_csv(actor: CurrentActor, session: SessionDep, period_id: int) -> Response:
    """Machine-friendly: one header row (`nip`, `nama`, ... as documented in the README),
    one row per NIP."""
    period, rows = _export(actor, session, period_id)
    buf = io.StringIO()
    writer = csv_writer(buf)  # formulas in names and reasons neutralized
    writer.writerow(ev.EXPORT_COLUMNS)
    writer.writerows(rows)
    return Response(
        buf.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="skp-bukti-{period.name}.csv"'},
    )


@router.get(
    "/evaluation-periods/{period_id}/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
def export_xlsx(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    period_id: int,
) -> Response:
    """For people: a title, the period, the unit(s), the table under Indonesian headers
    (from row 6) and a signature block for the unit head."""
    period = ev.get_period(session, period_id, actor=actor)
    content = ev.export_workbook(
        session,
        period,
        actor=actor,
        tz=settings.tz,
        place=settings.evaluation_signature_place,
        now=policies.now(),
    )
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="skp-bukti-{period.name}.xlsx"'},
    )


# Officer scores for any range -------------------------------------------------------------


def _score_out(officer: Officer, score: OfficerScore) -> OfficerScoreOut:
    return OfficerScoreOut(
        officer_id=score.officer_id,
        officer_name=officer.name,
        unit_id=score.unit_id,
        n=score.n,
        raw_mean=score.raw_mean,
        score=score.shrunk,
        score_low=score.low,
        score_high=score.high,
        unit_mean=score.unit_mean,
        insufficient=score.insufficient,
    )


@router.get("/scores/officers", response_model=list[OfficerScoreOut], tags=["scores"])
def officer_score_list(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policy: PolicyDep,
    unit: Annotated[str, Query(max_length=40)],
    start: date,
    end: date,
) -> list[OfficerScoreOut]:
    """Every active officer of a unit, for any date range (local days, inclusive)."""
    found = visible_unit(session, unit, actor=actor)  # another unit's answers as an unknown one
    period = Period(start=start, end=end)
    lo, hi = local_day_bounds_utc(period.start, period.end, settings.tz)
    rows = unit_officer_scores(session, found.id or 0, lo, hi, policy.scores)
    return [_score_out(officer, score) for officer, score in rows]


@router.get("/scores/officers/{officer_id}", response_model=OfficerScoreOut, tags=["scores"])
def officer_score(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policy: PolicyDep,
    officer_id: int,
    start: date,
    end: date,
) -> OfficerScoreOut:
    officer = visible_officer(session, officer_id, actor=actor)  # as an unknown id outside scope
    period = Period(start=start, end=end)
    lo, hi = local_day_bounds_utc(period.start, period.end, settings.tz)
    scores = officer_scores(session, [(officer_id, officer.unit_id)], lo, hi, policy.scores)
    return _score_out(officer, scores[officer_id])
