"""A unit's IKM month by month, and who answered (the respondent profile), in SQL.

The caller has checked that the viewer may see the unit (`core.masterdata.service.visible_unit`),
as for `core.surveys.unit_scores.unit_score_detail`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.shared.clock import local_day_bounds_utc
from core.surveys.models import SurveyResponse
from core.surveys.skm import ELEMENT_COUNT
from core.surveys.unit_scores import EARLIEST_DAY, LATEST_DAY, Period, Score, unit_ikm

TREND_MONTHS = 12
PROFILE_FIELDS = ("sex", "age_band", "education", "occupation")


@dataclass(frozen=True)
class MonthPoint:
    month: date  # the month's first day
    score: Score


def month_start(day: date, back: int = 0) -> date:
    """The first day of `day`'s month, `back` months earlier."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    following = month_start(first, -1)
    return date.fromordinal(following.toordinal() - 1)


def monthly_trend(
    session: Session, unit_id: int, last_day: date, tz: ZoneInfo, months: int = TREND_MONTHS
) -> list[MonthPoint]:
    """The unit's n and element sums for each of the `months` calendar months up to the one
    holding `last_day`, oldest first: one index-only aggregate per month. A month outside the
    days the service can hold data for (before 2000) counts no response."""
    points = []
    empty = Score(n=0, element_sums=(0,) * ELEMENT_COUNT)
    for back in range(months - 1, -1, -1):
        first = month_start(last_day, back)
        if first < EARLIEST_DAY or first > LATEST_DAY:
            points.append(MonthPoint(month=first, score=empty))
            continue
        period = Period(start=first, end=month_end(first))
        points.append(MonthPoint(month=first, score=unit_ikm(session, unit_id, period, tz)))
    return points


def respondent_profile(
    session: Session, unit_id: int, period: Period, tz: ZoneInfo
) -> dict[str, list[tuple[str | None, int]]]:
    """Per profile field (sex, age band, education, occupation): each value given and how many
    responses gave it (None: not given), most frequent first. Counts only, never a person."""
    lo, hi = local_day_bounds_utc(period.start, period.end, tz)
    profile: dict[str, list[tuple[str | None, int]]] = {}
    for field in PROFILE_FIELDS:
        column = col(getattr(SurveyResponse, field))
        rows = session.exec(
            select(column, func.count())
            .where(
                SurveyResponse.unit_id == unit_id,
                SurveyResponse.created_at >= lo,
                SurveyResponse.created_at < hi,
            )
            .group_by(column)
        ).all()
        counted = [(value, int(n)) for value, n in rows]
        counted.sort(key=lambda item: (-item[1], item[0] is None, item[0] or ""))
        profile[field] = counted
    return profile
