"""IKM per unit, per service and per element for a date range, aggregated in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.masterdata.models import Service, Unit
from core.shared.clock import local_day_bounds_utc
from core.shared.errors import InvalidInput
from core.surveys.models import ELEMENT_COLUMNS, SurveyResponse
from core.surveys.skm import (
    ELEMENT_COUNT,
    ELEMENTS,
    Grade,
    grade_for,
    ikm_from_sums,
    minimum_sample,
    nrr,
    round3,
    sample_sufficient,
    weighted_nrr,
)

MAX_PERIOD_DAYS = 3 * 366
# Days the service can have data for. Dates outside are refused with a 422 before they reach
# time-zone arithmetic (year 1 or 9999 overflows) or the database.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def check_day(day: date, what: str = "a date") -> date:
    """`day`, or InvalidInput when it lies outside EARLIEST_DAY..LATEST_DAY."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidInput(
            f"{what} must lie between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"
            f" (got {day.isoformat()})"
        )
    return day


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __post_init__(self) -> None:
        check_day(self.start, "start")
        check_day(self.end, "end")
        if self.end < self.start:
            raise InvalidInput("the period ends before it starts")
        if (self.end - self.start).days > MAX_PERIOD_DAYS:
            raise InvalidInput("a period may span at most three years")


@dataclass(frozen=True)
class ElementScore:
    number: int
    name: str
    exact: Fraction  # the NRR, exact: sort and round from this, never from `nrr`
    nrr: Decimal  # mean answer, 1-4, half-up to 3 decimals
    weighted_nrr: Decimal  # NRR x 1/9 (exact weight), half-up to 3 decimals


@dataclass(frozen=True)
class Score:
    n: int
    element_sums: tuple[int, ...]

    @property
    def ikm(self) -> Decimal | None:
        return ikm_from_sums(self.element_sums, self.n) if self.n else None

    @property
    def grade(self) -> Grade | None:
        ikm = self.ikm
        return grade_for(ikm) if ikm is not None else None

    def elements(self) -> list[ElementScore]:
        if not self.n:
            return []
        return [
            ElementScore(
                number=i + 1,
                name=ELEMENTS[i],
                exact=nrr(total, self.n),
                nrr=round3(nrr(total, self.n)),
                weighted_nrr=round3(weighted_nrr(total, self.n)),
            )
            for i, total in enumerate(self.element_sums)
        ]


@dataclass(frozen=True)
class UnitScore:
    unit_id: int
    unit_code: str
    unit_name: str
    score: Score
    population: int
    minimum_sample: int

    @property
    def sample_sufficient(self) -> bool:
        return sample_sufficient(self.score.n, self.population)


@dataclass(frozen=True)
class ServiceScore:
    service_id: int | None
    service_name: str | None
    score: Score


@dataclass(frozen=True)
class UnitScoreDetail:
    unit: UnitScore
    services: list[ServiceScore]


def aggregate_columns() -> list[Any]:
    """The SELECT list of a score: the count of responses and the nine elements' sums."""
    cols: list[Any] = [func.count()]
    cols.extend(func.sum(getattr(SurveyResponse, c)) for c in ELEMENT_COLUMNS)
    return cols


def score_of(row: Sequence[Any]) -> Score:
    """The Score of a row selected with `aggregate_columns` (NULL sums of no rows: 0)."""
    n = int(row[0] or 0)
    return Score(n=n, element_sums=tuple(int(v or 0) for v in row[1 : 1 + ELEMENT_COUNT]))


def unit_ikm_sums(
    session: Session, period: Period, tz: ZoneInfo, scope: frozenset[int] | None
) -> dict[int, Score]:
    """One GROUP BY over (created_at, unit_id): the nine sums and n per unit."""
    lo, hi = local_day_bounds_utc(period.start, period.end, tz)
    stmt = (
        select(SurveyResponse.unit_id, *aggregate_columns())
        .where(SurveyResponse.created_at >= lo, SurveyResponse.created_at < hi)
        .group_by(SurveyResponse.unit_id)
    )
    if scope is not None:
        stmt = stmt.where(col(SurveyResponse.unit_id).in_(scope))
    return {row[0]: score_of(row[1:]) for row in session.exec(stmt).all()}


def unit_ikm(session: Session, unit_id: int, period: Period, tz: ZoneInfo) -> Score:
    """One unit's n and element sums over a period: one index-only aggregate."""
    lo, hi = local_day_bounds_utc(period.start, period.end, tz)
    row = session.exec(
        select(*aggregate_columns()).where(
            SurveyResponse.unit_id == unit_id,
            SurveyResponse.created_at >= lo,
            SurveyResponse.created_at < hi,
        )
    ).one()
    return score_of(row)


def unit_scores(
    session: Session,
    period: Period,
    tz: ZoneInfo,
    scope: frozenset[int] | None,
    default_population: int,
) -> list[UnitScore]:
    """Every active unit in scope, with n = 0 where nobody answered."""
    sums = unit_ikm_sums(session, period, tz, scope)
    units_stmt = select(Unit).where(Unit.active == True).order_by(Unit.name)  # noqa: E712
    if scope is not None:
        units_stmt = units_stmt.where(col(Unit.id).in_(scope))
    empty = Score(n=0, element_sums=(0,) * ELEMENT_COUNT)
    return [
        _unit_score(unit, sums.get(unit.id or 0, empty), default_population)
        for unit in session.exec(units_stmt).all()
    ]


def effective_population(unit: Unit, default_population: int) -> int:
    """The unit's population of service users, or the default where none (or none usable:
    a row written before input was validated) is set."""
    population = unit.service_population
    return population if population is not None and population >= 1 else default_population


def _unit_score(unit: Unit, score: Score, default_population: int) -> UnitScore:
    assert unit.id is not None
    population = effective_population(unit, default_population)
    return UnitScore(
        unit_id=unit.id,
        unit_code=unit.code,
        unit_name=unit.name,
        score=score,
        population=population,
        minimum_sample=minimum_sample(population),
    )


def unit_score_detail(
    session: Session, unit: Unit, period: Period, tz: ZoneInfo, default_population: int
) -> UnitScoreDetail:
    """The unit's IKM with its elements, and the same per service (None: no service named)."""
    assert unit.id is not None
    lo, hi = local_day_bounds_utc(period.start, period.end, tz)
    where = (
        SurveyResponse.unit_id == unit.id,
        SurveyResponse.created_at >= lo,
        SurveyResponse.created_at < hi,
    )
    total = session.exec(select(*aggregate_columns()).where(*where)).one()
    per_service = session.exec(
        select(SurveyResponse.service_id, *aggregate_columns())
        .where(*where)
        .group_by(SurveyResponse.service_id)
    ).all()
    names = {
        s.id: s.name for s in session.exec(select(Service).where(Service.unit_id == unit.id)).all()
    }
    services = [
        ServiceScore(service_id=row[0], service_name=names.get(row[0]), score=score_of(row[1:]))
        for row in per_service
    ]
    services.sort(key=lambda s: (s.service_name is None, s.service_name or ""))
    return UnitScoreDetail(
        unit=_unit_score(unit, score_of(total), default_population), services=services
    )
