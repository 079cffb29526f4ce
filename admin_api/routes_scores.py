"""IKM per unit, service and element for a period, and the XLSX SKM report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from admin_api.deps import CurrentActor, PoliciesDep, SessionDep, SettingsDep
from admin_api.schemas import (
    ElementOut,
    PeriodOut,
    ServiceScoreOut,
    UnitScoreDetailOut,
    UnitScoreListOut,
    UnitScoreOut,
    WeightingOut,
)
from core.access import Actor
from core.masterdata.service import visible_unit
from core.policies import Policies
from core.shared.config import Settings
from core.surveys.followup import (
    MAX_ACTION,
    MAX_RESPONSIBLE,
    MAX_TIMEFRAME,
    FollowUpDraft,
    add_follow_up,
    follow_up_plan,
    remove_follow_up,
    update_follow_up,
)
from core.surveys.report import (
    SkmReport,
    skm_report_data,
    skm_report_pdf,
    skm_report_xlsx,
    weighting_lines,
)
from core.surveys.skm import WEIGHT, enough_responses
from core.surveys.unit_scores import (
    EARLIEST_DAY,
    LATEST_DAY,
    Period,
    Score,
    UnitScore,
    UnitScoreDetail,
    unit_score_detail,
    unit_scores,
)

router = APIRouter(tags=["scores"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

DAYS = f"{EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}"
StartQ = Annotated[
    date | None,
    Query(description=f"first local day, {DAYS} (default: start of this quarter)"),
]
EndQ = Annotated[
    date | None, Query(description=f"last local day, inclusive, {DAYS} (default: today)")
]


def _period(settings: Settings, start: date | None, end: date | None, now: datetime) -> Period:
    today = now.astimezone(settings.tz).date()
    end = end or today
    if start is None:
        quarter_month = 3 * ((end.month - 1) // 3) + 1
        start = date(end.year, quarter_month, 1)
    return Period(start=start, end=end)


def _unit_detail(
    actor: Actor, session: Session, settings: Settings, code: str, period: Period
) -> UnitScoreDetail:
    unit = visible_unit(session, code, actor=actor)
    return unit_score_detail(
        session, unit, period, settings.tz, settings.default_service_population
    )


def _score_fields(score: Score, min_responses: int) -> dict[str, object]:
    ikm = score.ikm
    grade = score.grade
    return {
        "n": score.n,
        "ikm": float(ikm) if ikm is not None else None,
        "grade": grade.letter if grade else None,
        "grade_label": grade.label if grade else None,
        "enough_data": enough_responses(score.n, min_responses),
        "min_responses": min_responses,
    }


def _weighting() -> WeightingOut:
    return WeightingOut(
        element_weight=f"{WEIGHT.numerator}/{WEIGHT.denominator}",
        exact=True,
        statement_id=" ".join(weighting_lines("id")),
        statement_en=" ".join(weighting_lines("en")),
    )


def _unit_out(u: UnitScore, min_responses: int) -> UnitScoreOut:
    return UnitScoreOut(
        unit_code=u.unit_code,
        unit_name=u.unit_name,
        population=u.population,
        minimum_sample=u.minimum_sample,
        sample_sufficient=u.sample_sufficient,
        **_score_fields(u.score, min_responses),
    )


@router.get("/scores/units", response_model=UnitScoreListOut)
def scores_per_unit(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    start: StartQ = None,
    end: EndQ = None,
) -> UnitScoreListOut:
    period = _period(settings, start, end, policies.now())
    rows = unit_scores(
        session, period, settings.tz, actor.unit_scope(), settings.default_service_population
    )
    return UnitScoreListOut(
        period=PeriodOut(start=period.start, end=period.end, timezone=settings.timezone),
        units=[_unit_out(r, settings.ikm_min_responses) for r in rows],
    )


@router.get("/scores/units/{code}", response_model=UnitScoreDetailOut)
def scores_for_unit(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    code: str,
    start: StartQ = None,
    end: EndQ = None,
) -> UnitScoreDetailOut:
    now = policies.now()
    period = _period(settings, start, end, now)
    detail = _unit_detail(actor, session, settings, code, period)
    return UnitScoreDetailOut(
        period=PeriodOut(start=period.start, end=period.end, timezone=settings.timezone),
        unit=_unit_out(detail.unit, settings.ikm_min_responses),
        weighting=_weighting(),
        elements=[
            ElementOut(
                number=e.number, name=e.name, nrr=float(e.nrr), weighted_nrr=float(e.weighted_nrr)
            )
            for e in detail.unit.score.elements()
        ],
        services=[
            ServiceScoreOut(
                service_id=s.service_id,
                service_name=s.service_name,
                **_score_fields(s.score, settings.ikm_min_responses),
            )
            for s in detail.services
        ],
        generated_at=now,
    )


def _report(
    actor: Actor, session: Session, policies: Policies, code: str, period: Period
) -> SkmReport:
    settings = policies.settings
    return skm_report_data(
        session,
        visible_unit(session, code, actor=actor),
        period,
        settings.tz,
        actor=actor,
        default_population=settings.default_service_population,
        min_responses=settings.ikm_min_responses,
        place=settings.evaluation_signature_place,
        now=policies.now(),
    )


def _report_name(report: SkmReport, suffix: str) -> dict[str, str]:
    unit, period = report.detail.unit, report.period
    name = f"skm-{unit.unit_code}-{period.start.isoformat()}-{period.end.isoformat()}.{suffix}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/scores/units/{code}/report.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the SKM report workbook"}},
)
def skm_report(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    code: str,
    start: StartQ = None,
    end: EndQ = None,
) -> Response:
    """The full SKM report (PermenPANRB 14/2017, Lampiran): respondents against the minimum
    sample, the profile, the nine elements with the lowest named, IKM and grade, IKM per
    service, the citizens' comments and the unit's follow-up plan."""
    report = _report(actor, session, policies, code, _period(settings, start, end, policies.now()))
    return Response(skm_report_xlsx(report), media_type=XLSX, headers=_report_name(report, "xlsx"))


@router.get(
    "/scores/units/{code}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the printable report"}},
)
def skm_report_printable(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    code: str,
    start: StartQ = None,
    end: EndQ = None,
) -> Response:
    """The same report as a printable A4 PDF, signed by the unit head."""
    report = _report(actor, session, policies, code, _period(settings, start, end, policies.now()))
    return Response(
        skm_report_pdf(report), media_type="application/pdf", headers=_report_name(report, "pdf")
    )


# The follow-up plan (rencana tindak lanjut) ------------------------------------------------


class FollowUpIn(BaseModel):
    """One row of the plan: the SKM element it answers (1-9; null: the service as a whole),
    the program or activity, when, and who answers for it."""

    element: int | None = Field(default=None, ge=1, le=9)
    action: str = Field(max_length=MAX_ACTION)
    timeframe: str = Field(max_length=MAX_TIMEFRAME)
    responsible: str = Field(max_length=MAX_RESPONSIBLE)

    def draft(self) -> FollowUpDraft:
        return FollowUpDraft(self.element, self.action, self.timeframe, self.responsible)


class FollowUpOut(BaseModel):
    id: int
    unit_id: int
    period_start: date
    period_end: date
    element: int | None
    action: str
    timeframe: str
    responsible: str
    updated_at: datetime


@router.get("/scores/units/{code}/follow-up", response_model=list[FollowUpOut])
def follow_up_list(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    code: str,
    start: StartQ = None,
    end: EndQ = None,
) -> list[FollowUpOut]:
    """The unit's follow-up plan for the period (the same dates as its report)."""
    unit = visible_unit(session, code, actor=actor)
    period = _period(settings, start, end, policies.now())
    rows = follow_up_plan(session, unit.id or 0, period, actor=actor)
    return [FollowUpOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/scores/units/{code}/follow-up", response_model=FollowUpOut, status_code=201)
def follow_up_add(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    code: str,
    body: FollowUpIn,
    start: StartQ = None,
    end: EndQ = None,
) -> FollowUpOut:
    """Add a row (admins, the unit's supervisors and head: `plan_follow_up`)."""
    unit = visible_unit(session, code, actor=actor)
    period = _period(settings, start, end, policies.now())
    item = add_follow_up(session, unit.id or 0, period, body.draft(), actor=actor)
    return FollowUpOut.model_validate(item, from_attributes=True)


@router.put("/follow-up/{item_id}", response_model=FollowUpOut)
def follow_up_change(
    actor: CurrentActor, session: SessionDep, item_id: int, body: FollowUpIn
) -> FollowUpOut:
    item = update_follow_up(session, item_id, body.draft(), actor=actor)
    return FollowUpOut.model_validate(item, from_attributes=True)


@router.delete("/follow-up/{item_id}", status_code=204)
def follow_up_remove(actor: CurrentActor, session: SessionDep, item_id: int) -> Response:
    remove_follow_up(session, item_id, actor=actor)
    return Response(status_code=204)
