"""The figures of a unit's weekly digest, in SQL: the survey part once per unit, the case part
per recipient over the cases that recipient may open."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.access import Actor, Permission, roles_with, visible_cases_clause
from core.cases.models import OPEN_STATUSES, Case, CaseOutcome
from core.masterdata.models import Officer, Service, Unit
from core.shared.clock import local_day_bounds_utc
from core.surveys.models import SurveyResponse
from core.surveys.skm import (
    ELEMENTS,
    MIN_RESPONSES_DEFAULT,
    enough_responses,
    minimum_sample,
    round_half_up,
)
from core.surveys.unit_scores import Period, Score, effective_population, unit_ikm

# A run refreshes its claim before each recipient; a claim silent this long is taken over.
CLAIM_STALE_AFTER = timedelta(minutes=5)
TREND_WEEKS = 12
NRR_DIGEST_PLACES = 2  # the digest shows NRR to 2 decimals, rounded half-up from the exact mean
CHART_SIZE = (800, 400)  # pixels
SUBSTANTIATED = (CaseOutcome.substantiated.value, CaseOutcome.partly.value)
RECIPIENT_ROLES = tuple(sorted(r.value for r in roles_with(Permission.RECEIVE_DIGEST)))
DIGEST_COMMENTS = 3  # the week's newest survey comments quoted in the digest
COMMENT_CHARS = 200  # a longer comment is cut there (the console shows it whole)


@dataclass(frozen=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        year, _, week = text.upper().partition("-W")
        value = cls(int(year), int(week))
        value.monday()  # validates
        return value

    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def sunday(self) -> date:
        return self.monday() + timedelta(days=6)

    def previous(self, weeks: int = 1) -> IsoWeek:
        return IsoWeek.of(self.monday() - timedelta(weeks=weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


@dataclass(frozen=True)
class IkmFigure:
    n: int
    ikm: Decimal | None
    grade: str | None
    minimum: int  # the Krejcie-Morgan minimum: the regulation's target
    threshold: int = MIN_RESPONSES_DEFAULT  # fewer responses: "belum cukup data (n = ...)"

    @property
    def enough(self) -> bool:
        return enough_responses(self.n, self.threshold)


@dataclass(frozen=True)
class DigestComment:
    """A citizen's survey comment as the digest quotes it: the local day it was given, the
    service it rates, its text; nothing that tells who gave it, and no time of day."""

    day: date
    service: str | None
    text: str


@dataclass
class DigestData:
    unit_id: int
    unit_name: str
    week: IsoWeek
    new: int = 0
    open: int = 0
    overdue: int = 0
    resolved: int = 0
    oldest_overdue: list[str] = field(default_factory=list)
    this_week: IkmFigure | None = None
    last_week: IkmFigure | None = None
    quarter: IkmFigure | None = None
    lowest_elements: list[tuple[str, Decimal]] = field(default_factory=list)
    officers_substantiated: list[tuple[str, int]] = field(default_factory=list)
    trend: list[tuple[str, Decimal | None]] = field(default_factory=list)
    trend_n: list[int] = field(default_factory=list)  # the responses behind each trend week
    comments: list[DigestComment] = field(default_factory=list)  # the week's newest few

    @property
    def nothing_new(self) -> bool:
        return not (self.new or self.open or self.overdue or self.resolved) and not (
            self.this_week and self.this_week.n
        )


def _figure(score: Score, population: int, min_responses: int) -> IkmFigure:
    grade = score.grade
    return IkmFigure(
        score.n,
        score.ikm,
        grade.letter if grade else None,
        minimum_sample(population),
        min_responses,
    )


def build_digest(
    session: Session,
    unit: Unit,
    week: IsoWeek,
    tz: ZoneInfo,
    default_population: int,
    *,
    actor: Actor,
    now: datetime | None = None,
    min_responses: int = MIN_RESPONSES_DEFAULT,
) -> DigestData:
    """The unit's digest for the week as `actor` may see it (`now`: see `digest_for`)."""
    base = survey_digest(session, unit, week, tz, default_population, min_responses)
    return digest_for(session, base, tz, actor=actor, now=now)


def survey_digest(
    session: Session,
    unit: Unit,
    week: IsoWeek,
    tz: ZoneInfo,
    default_population: int,
    min_responses: int = MIN_RESPONSES_DEFAULT,
) -> DigestData:
    """The figures that hold no case (IKM, lowest elements, trend); no case figure yet.

    An IKM on fewer than `min_responses` responses is kept with its n but shown as "belum
    cukup data" (render) and left out of the trend chart."""
    assert unit.id is not None
    data = DigestData(unit_id=unit.id, unit_name=unit.name, week=week)
    population = effective_population(unit, default_population)

    def ikm(start: date, end: date) -> Score:
        return unit_ikm(session, unit.id or 0, Period(start, end), tz)

    this = ikm(week.monday(), week.sunday())
    data.this_week = _figure(this, population, min_responses)
    last = ikm(week.previous().monday(), week.previous().sunday())
    data.last_week = _figure(last, population, min_responses)
    sunday = week.sunday()
    quarter_start = date(sunday.year, 3 * ((sunday.month - 1) // 3) + 1, 1)
    quarter = ikm(quarter_start, sunday)
    data.quarter = _figure(quarter, population, min_responses)
    elements = sorted(quarter.elements(), key=lambda e: (e.exact, e.number))[:2]
    data.lowest_elements = [
        (ELEMENTS[e.number - 1], round_half_up(e.exact, NRR_DIGEST_PLACES)) for e in elements
    ]
    for back in range(TREND_WEEKS - 1, -1, -1):
        w = week.previous(back)
        point = ikm(w.monday(), w.sunday())
        shown = point.ikm if enough_responses(point.n, min_responses) else None
        data.trend.append((str(w), shown))
        data.trend_n.append(point.n)
    data.comments = week_comments(session, unit.id, week, tz)
    return data


def week_comments(
    session: Session, unit_id: int, week: IsoWeek, tz: ZoneInfo, limit: int = DIGEST_COMMENTS
) -> list[DigestComment]:
    """The newest non-empty survey comments the unit received during the week."""
    lo, hi = local_day_bounds_utc(week.monday(), week.sunday(), tz)
    comment = col(SurveyResponse.comment)
    rows = session.exec(
        select(SurveyResponse.created_at, Service.name, comment)
        .outerjoin(Service, col(Service.id) == col(SurveyResponse.service_id))
        .where(
            SurveyResponse.unit_id == unit_id,
            comment.is_not(None),
            comment != "",
            col(SurveyResponse.created_at) >= lo,
            col(SurveyResponse.created_at) < hi,
        )
        .order_by(col(SurveyResponse.created_at).desc(), col(SurveyResponse.id).desc())
        .limit(limit)
    ).all()
    found = []
    for created, service, text in rows:
        moment = created if created.tzinfo else created.replace(tzinfo=UTC)
        words = " ".join(str(text).split())
        if len(words) > COMMENT_CHARS:
            words = words[: COMMENT_CHARS - 1].rstrip() + "…"
        found.append(DigestComment(moment.astimezone(tz).date(), service, words))
    return found


def digest_for(
    session: Session,
    base: DigestData,
    tz: ZoneInfo,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> DigestData:
    """`base` (from `survey_digest`) with the case figures over the cases `actor` may open.

    Overdue means overdue at the end of the week, or at `now` if the week is not over yet
    (a preview of the current week does not count deadlines still to come)."""
    lo, hi = local_day_bounds_utc(base.week.monday(), base.week.sunday(), tz)
    open_values = [s.value for s in OPEN_STATUSES]
    mine = (col(Case.unit_id) == base.unit_id, *visible_cases_clause(actor=actor))
    late_by = hi if now is None else min(hi, now)
    overdue = (*mine, col(Case.status).in_(open_values), col(Case.due_at) < late_by)
    officers = session.exec(
        select(Officer.name, func.count())
        .join(Case, col(Case.officer_id) == col(Officer.id))
        .where(
            *mine,
            col(Case.outcome).in_(SUBSTANTIATED),
            col(Case.resolved_at) >= lo,
            col(Case.resolved_at) < hi,
        )
        .group_by(col(Officer.name))
        .order_by(func.count().desc(), col(Officer.name))
    ).all()
    return replace(
        base,
        new=_count(session, *mine, col(Case.received_at) >= lo, col(Case.received_at) < hi),
        resolved=_count(session, *mine, col(Case.resolved_at) >= lo, col(Case.resolved_at) < hi),
        open=_count(session, *mine, col(Case.status).in_(open_values), col(Case.received_at) < hi),
        overdue=_count(session, *overdue),
        oldest_overdue=list(
            session.exec(
                select(Case.reference)
                .where(*overdue)
                .order_by(col(Case.due_at), col(Case.id))
                .limit(5)
            ).all()
        ),
        officers_substantiated=[(str(name), int(n)) for name, n in officers],
    )


def _count(session: Session, *where: object) -> int:
    return int(session.exec(select(func.count()).select_from(Case).where(*where)).one())  # type: ignore[arg-type]
