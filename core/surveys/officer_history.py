"""An officer's score month by month: the same fair score (core.surveys.officer_scores, with
its anti-gaming caps and shrinkage toward the unit's mean) over each calendar month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session

from core.masterdata.models import Officer
from core.shared.clock import local_day_bounds_utc
from core.surveys.officer_scores import OfficerScore, ScorePolicy, officer_scores
from core.surveys.trend import month_end, month_start

HISTORY_MONTHS = 6


@dataclass(frozen=True)
class OfficerMonth:
    first: date  # the month's first local day
    score: OfficerScore


def officer_history(
    session: Session,
    officer: Officer,
    last_day: date,
    tz: ZoneInfo,
    policy: ScorePolicy,
    months: int = HISTORY_MONTHS,
) -> list[OfficerMonth]:
    """The officer's score for each of the `months` calendar months up to `last_day`'s,
    newest first; each month is scored on its own (its own caps and unit mean)."""
    assert officer.id is not None
    out = []
    for back in range(months):
        first = month_start(last_day, back)
        lo, hi = local_day_bounds_utc(first, month_end(first), tz)
        score = officer_scores(session, [(officer.id, officer.unit_id)], lo, hi, policy)
        out.append(OfficerMonth(first=first, score=score[officer.id]))
    return out
