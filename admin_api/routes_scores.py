"""IKM per unit, service and element for a period, and the XLSX SKM report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
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
from core.shared.config import Settings
from core.surveys.report import skm_report_xlsx, weighting_lines
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
    now = policies.now()
    period = _period(settings, start, end, now)
    detail = _unit_detail(actor, session, settings, code, period)
    generated: datetime = now.astimezone(settings.tz)
    body = skm_report_xlsx(detail, period, generated, min_responses=settings.ikm_min_responses)
    filename = (
        f"skm-{detail.unit.unit_code}-{period.start.isoformat()}-{period.end.isoformat()}.xlsx"
    )
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
