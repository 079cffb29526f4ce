"""Fair per-officer feedback scores from SKM elements 6 (competence) and 7 (conduct).

Each counted response scores s = (q6 + q7) / 2 on the 1-4 scale. Anti-gaming, in SQL:
one response per respondent, officer and local day counts (the first), and at most
`citizen_cap` responses per respondent and officer in the period. The raw mean of n
responses is shrunk toward the unit's mean m with prior weight k: (k*m + n*mean) / (k + n),
the posterior mean of a normal model whose prior is worth k responses. The unit's mean (and
the spread sigma) is counted under the same caps, per unit instead of per officer: one
response per respondent, unit and local day, at most `citizen_cap` per respondent and unit,
so one person answering many times moves no officer through the unit's mean either. The 95%
interval is shrunk +- 1.96 * sigma / sqrt(n + k), sigma being the spread of single counted
responses in the unit, clipped to 1-4. Below `min_n` responses the score is marked
insufficient.

The respondent is the response's pseudonymous respondent key (core.surveys.respondents),
which outlives the citizen's erasure; a response without one falls back to its citizen, and
one with neither counts as a respondent of its own (`_WHO`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, text
from sqlmodel import Session, col, select
from sqlmodel.sql.sqltypes import UTCDateTime

from core.masterdata.models import Officer
from core.shared.config import Settings

Z95 = 1.959964
DEFAULT_SIGMA = 0.6  # used when a unit has fewer than two responses to measure its spread


@dataclass(frozen=True)
class ScorePolicy:
    prior_weight: float = 10.0
    min_n: int = 5
    citizen_cap: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> ScorePolicy:
        return cls(
            prior_weight=settings.officer_score_prior_weight,
            min_n=settings.officer_score_min_n,
            citizen_cap=settings.officer_score_citizen_cap,
        )


@dataclass(frozen=True)
class UnitPrior:
    n: int
    mean: float
    sigma: float


@dataclass(frozen=True)
class OfficerScore:
    officer_id: int
    unit_id: int
    n: int
    raw_mean: float | None
    shrunk: float
    low: float
    high: float
    unit_mean: float
    insufficient: bool


def shrink(
    n: int, total: float, prior: UnitPrior, policy: ScorePolicy
) -> tuple[float, float, float]:
    """(shrunk mean, interval low, interval high) from n responses summing to `total`."""
    k = policy.prior_weight
    if n + k <= 0:
        return prior.mean, 1.0, 4.0
    shrunk = (k * prior.mean + total) / (k + n)
    half = Z95 * prior.sigma / math.sqrt(n + k)
    return shrunk, max(1.0, shrunk - half), min(4.0, shrunk + half)


def _sigma(n: int, s1: float, s2: float) -> float:
    if n < 2:
        return DEFAULT_SIGMA
    var = (s2 - s1 * s1 / n) / (n - 1)
    return math.sqrt(var) if var > 1e-9 else DEFAULT_SIGMA


def _params() -> list[BindParameter[Any]]:
    """Typed parameters, so times are bound exactly as the ORM stores them on each engine."""
    return [
        bindparam("units", expanding=True),
        bindparam("lo", type_=UTCDateTime()),
        bindparam("hi", type_=UTCDateTime()),
    ]


# Who answered (see the module docstring). Keys are >= 2**62, citizen ids are 32-bit and the
# last fallback is negative: the three never collide.
_WHO = "COALESCE(r.respondent_key, r.citizen_id, -r.id)"

# The unit's counted responses: one per respondent, unit and local day; then at most `cap`
# per respondent and unit. Each response's score is (q6 + q7) / 2.
_UNIT_COUNTED = f"""
WITH base AS (
    SELECT r.id, r.unit_id, r.q6 + r.q7 AS s, r.local_date, r.created_at, {_WHO} AS who
    FROM survey_response r
    WHERE r.unit_id IN :units AND r.created_at >= :lo AND r.created_at < :hi
), daily AS (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY unit_id, who, local_date ORDER BY created_at, id) AS nth_today
    FROM base
), capped AS (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY unit_id, who ORDER BY created_at, id) AS nth_from_respondent
    FROM daily WHERE nth_today = 1
)
SELECT unit_id, COUNT(*), SUM(s), SUM(s * s)
FROM capped WHERE nth_from_respondent <= :cap
GROUP BY unit_id
"""  # noqa: S608  (no input in the text: _WHO is a constant)


def unit_priors(
    session: Session,
    unit_ids: Iterable[int],
    lo: datetime,
    hi: datetime,
    policy: ScorePolicy | None = None,
) -> dict[int, UnitPrior]:
    """Mean and spread of (q6+q7)/2 over each unit's responses in [lo, hi), counted under the
    anti-gaming caps of `policy` (its `citizen_cap`; the default policy's without one)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    cap = (policy or ScorePolicy()).citizen_cap
    stmt = text(_UNIT_COUNTED).bindparams(*_params())
    rows = session.execute(stmt, {"units": ids, "lo": lo, "hi": hi, "cap": cap}).all()
    priors = {}
    for unit_id, n, s, ss in rows:
        n = int(n)
        s1, s2 = float(s) / 2, float(ss) / 4  # per-response score = (q6 + q7) / 2
        priors[int(unit_id)] = UnitPrior(n=n, mean=s1 / n, sigma=_sigma(n, s1, s2))
    return priors


# One response per respondent, officer and local day; then at most `cap` per respondent and
# officer.
_COUNTED = f"""
WITH base AS (
    SELECT r.id, r.officer_id, r.q6, r.q7, r.local_date, r.created_at, {_WHO} AS who
    FROM survey_response r JOIN officer o ON o.id = r.officer_id
    WHERE o.unit_id IN :units AND r.created_at >= :lo AND r.created_at < :hi
), daily AS (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY officer_id, who, local_date ORDER BY created_at, id) AS nth_today
    FROM base
), capped AS (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY officer_id, who ORDER BY created_at, id) AS nth_from_citizen
    FROM daily WHERE nth_today = 1
)
SELECT officer_id, COUNT(*), SUM(q6 + q7)
FROM capped WHERE nth_from_citizen <= :cap
GROUP BY officer_id
"""  # noqa: S608  (no input in the text: _WHO is a constant)


def officer_scores(
    session: Session,
    officers: Iterable[tuple[int, int]],
    lo: datetime,
    hi: datetime,
    policy: ScorePolicy,
) -> dict[int, OfficerScore]:
    """Scores for (officer id, unit id) pairs over [lo, hi) (aware UTC datetimes)."""
    pairs = list(officers)
    unit_ids = sorted({u for _, u in pairs})
    if not pairs:
        return {}
    priors = unit_priors(session, unit_ids, lo, hi, policy)
    stmt = text(_COUNTED).bindparams(*_params())
    params = {"units": unit_ids, "lo": lo, "hi": hi, "cap": policy.citizen_cap}
    counted = {
        int(officer_id): (int(n), float(total) / 2)
        for officer_id, n, total in session.execute(stmt, params).all()
    }
    out = {}
    for officer_id, unit_id in pairs:
        prior = priors.get(unit_id) or UnitPrior(n=0, mean=2.5, sigma=DEFAULT_SIGMA)
        n, total = counted.get(officer_id, (0, 0.0))
        shrunk, low, high = shrink(n, total, prior, policy)
        out[officer_id] = OfficerScore(
            officer_id=officer_id,
            unit_id=unit_id,
            n=n,
            raw_mean=total / n if n else None,
            shrunk=shrunk,
            low=low,
            high=high,
            unit_mean=prior.mean,
            insufficient=n < policy.min_n,
        )
    return out


def unit_officer_scores(
    session: Session, unit_id: int, lo: datetime, hi: datetime, policy: ScorePolicy
) -> list[tuple[Officer, OfficerScore]]:
    """Every active officer of the unit, by name, with their score over [lo, hi) (UTC). The
    caller has checked that the reader may see the unit (`visible_unit`)."""
    officers = session.exec(
        select(Officer)
        .where(Officer.unit_id == unit_id, Officer.active == True)  # noqa: E712
        .order_by(col(Officer.name))
    ).all()
    scores = officer_scores(session, [(o.id or 0, o.unit_id) for o in officers], lo, hi, policy)
    return [(o, scores[o.id or 0]) for o in officers]
