"""A unit's IKM month by month, and who answered (the respondent profile), in SQL.

The caller has checked that the viewer may see the unit (`core.masterdata.service.visible_unit`),
as for `core.surveys.unit_scores.unit_score_detail`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal_column
from sqlmodel import Session, col, select

from core.shared.clock import local_day_bounds_utc
from core.surveys.models import SurveyResponse
from core.surveys.skm import ELEMENT_COUNT
from core.surveys.submission import profile_group
from core.surveys.unit_scores import (
    EARLIEST_DAY,
    LATEST_DAY,
    Period,
    Score,
    aggregate_columns,
    score_of,
)

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
    holding `last_day`, oldest first. A month outside the days the service can hold data for
    (before 2000, after 2099) counts no response.

    One grouped aggregate: a range on the covering index (unit_id, created_at, nine elements)
    over the months, grouped by the local month of each response. Times are stored as naive
    UTC; a response's local month is found by comparing its time with each month's first
    instant in UTC (`local_day_bounds_utc`, bound as `unit_ikm` binds its range), so months
    split at local midnight in any zone, and the same SQL runs on SQLite and PostgreSQL."""
    firsts = [month_start(last_day, back) for back in range(months - 1, -1, -1)]
    empty = Score(n=0, element_sums=(0,) * ELEMENT_COUNT)
    counted = [first for first in firsts if EARLIEST_DAY <= first <= LATEST_DAY]
    scores: dict[int, Score] = {}
    if counted:
        # The UTC instants where each counted month starts, then where the last one ends.
        bounds = [local_day_bounds_utc(first, month_end(first), tz) for first in counted]
        edges = [lo for lo, _ in bounds] + [bounds[-1][1]]
        created = col(SurveyResponse.created_at)
        # The WHERE keeps every row below the last edge, so one WHEN always matches.
        month_index = case(*((created < edges[i + 1], i) for i in range(len(counted)))).label(
            "month_index"
        )
        rows = session.exec(
            select(month_index, *aggregate_columns())
            .where(
                SurveyResponse.unit_id == unit_id,
                created >= edges[0],
                created < edges[-1],
            )
            # By the output name: PostgreSQL cannot tell that a CASE repeated in GROUP BY
            # with its own bound parameters is the selected one.
            .group_by(literal_column("month_index"))
        ).all()
        scores = {int(row[0]): score_of(row[1:]) for row in rows}
    points = []
    index = 0
    for first in firsts:
        if EARLIEST_DAY <= first <= LATEST_DAY:
            points.append(MonthPoint(month=first, score=scores.get(index, empty)))
            index += 1
        else:
            points.append(MonthPoint(month=first, score=empty))
    return points


def respondent_profile(
    session: Session, unit_id: int, period: Period, tz: ZoneInfo
) -> dict[str, list[tuple[str | None, int]]]:
    """Per profile field (sex, age band, education, occupation): each value given and how many
    responses gave it (None: not given), most frequent first; a value of an earlier list is
    counted in today's answer that contains it (`profile_group`). Counts only, never a person."""
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
        merged: dict[str | None, int] = {}
        for value, n in rows:
            group = profile_group(field, value)
            merged[group] = merged.get(group, 0) + int(n)
        counted = list(merged.items())
        counted.sort(key=lambda item: (-item[1], item[0] is None, item[0] or ""))
        profile[field] = counted
    return profile
