"""Computing a period: a frozen snapshot of the evidence per officer, in SQL, with the
non-confidential counts beside the full ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func
from sqlalchemy import case as sql_case
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core.access import Actor
from core.cases.models import OPEN_STATUSES, Case, Privacy
from core.evaluations.models import (
    EvaluationPeriod,
    OfficerEvaluation,
)
from core.evaluations.periods import audit_event, period_units, require_writable
from core.evaluations.rules import SUBSTANTIATED, EvaluationPolicy, suggest, suggestion_reason
from core.masterdata.models import Officer
from core.shared.clock import local_day_bounds_utc, utcnow
from core.surveys.officer_scores import officer_scores


@dataclass(frozen=True)
class CaseEvidence:
    received: int = 0
    substantiated: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class OfficerCases:
    """An officer's case evidence over every case, and over the non-confidential ones."""

    all: CaseEvidence = field(default_factory=CaseEvidence)
    nonconf: CaseEvidence = field(default_factory=CaseEvidence)


def _case_evidence(
    session: Session, unit_ids: Sequence[int], lo: datetime, hi: datetime, cutoff: datetime
) -> dict[int, OfficerCases]:
    """Per officer of the units: complaints of these units received in the period, how many
    substantiated, how many of them are overdue at `cutoff`; each over every case and over
    the cases that are not `rahasia`. One GROUP BY over (officer_id, received_at).

    Only cases of the period's units count (a case forwarded to another unit is not
    evidence here): whoever may read the period may see those units' cases."""
    open_values = [s.value for s in OPEN_STATUSES]
    substantiated = col(Case.outcome).in_(SUBSTANTIATED)
    late = and_(col(Case.status).in_(open_values), col(Case.due_at) < cutoff)
    nonconf = col(Case.privacy) != Privacy.rahasia.value

    def total(condition: Any) -> Any:
        return func.sum(sql_case((condition, 1), else_=0))

    stmt = (
        sa_select(
            col(Case.officer_id),
            func.count(),
            total(substantiated),
            total(late),
            total(nonconf),
            total(and_(substantiated, nonconf)),
            total(and_(late, nonconf)),
        )
        .join(Officer, col(Officer.id) == col(Case.officer_id))
        .where(
            col(Officer.unit_id).in_(unit_ids),
            col(Case.unit_id).in_(unit_ids),
            col(Case.received_at) >= lo,
            col(Case.received_at) < hi,
        )
        .group_by(col(Case.officer_id))
    )
    return {
        int(officer_id or 0): OfficerCases(
            CaseEvidence(int(n), int(sub or 0), int(overdue or 0)),
            CaseEvidence(int(n_nc or 0), int(sub_nc or 0), int(overdue_nc or 0)),
        )
        for officer_id, n, sub, overdue, n_nc, sub_nc, overdue_nc in session.execute(stmt)
    }


def compute_period(
    session: Session,
    period: EvaluationPeriod,
    policy: EvaluationPolicy,
    tz: ZoneInfo,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> int:
    """Create or refresh each officer's draft; the supervisor's decisions are kept."""
    now = now or utcnow()
    require_writable(session, period, actor=actor)
    unit_ids = period_units(session, period)
    lo, hi = local_day_bounds_utc(period.start, period.end, tz)
    existing = {
        e.officer_id: e
        for e in session.exec(
            select(OfficerEvaluation).where(OfficerEvaluation.period_id == period.id)
        ).all()
    }
    officers = list(
        session.exec(
            select(Officer).where(
                col(Officer.unit_id).in_(unit_ids),
                (col(Officer.active) == True) | col(Officer.id).in_(list(existing)),  # noqa: E712
            )
        ).all()
    )
    scores = officer_scores(
        session, [(o.id or 0, o.unit_id) for o in officers], lo, hi, policy.scores
    )
    evidence = _case_evidence(session, unit_ids, lo, hi, min(now, hi))
    assert period.id is not None
    for officer in officers:
        assert officer.id is not None
        score = scores[officer.id]
        found = evidence.get(officer.id, OfficerCases())
        cases, nonconf = found.all, found.nonconf
        level = suggest(score, cases.substantiated, policy.behaviour)
        row = existing.get(officer.id) or OfficerEvaluation(
            period_id=period.id,
            officer_id=officer.id,
            nip=officer.nip,
            officer_name=officer.name,
            unit_id=officer.unit_id,
            score=0,
            score_low=0,
            score_high=0,
            unit_mean=0,
            insufficient=True,
            suggested_level=level.value,
            suggestion_reason_code="",
            suggestion_reason_params="",
        )
        row.nip, row.officer_name, row.unit_id = officer.nip, officer.name, officer.unit_id
        row.survey_n = score.n
        row.raw_mean = score.raw_mean
        row.score, row.score_low, row.score_high = score.shrunk, score.low, score.high
        row.unit_mean = score.unit_mean
        row.insufficient = score.insufficient
        row.complaints_received = cases.received
        row.complaints_substantiated = cases.substantiated
        row.cases_overdue = cases.overdue
        row.nonconf_complaints_received = nonconf.received
        row.nonconf_complaints_substantiated = nonconf.substantiated
        row.nonconf_cases_overdue = nonconf.overdue
        row.suggested_level = level.value
        code, params = suggestion_reason(score, cases.substantiated)
        row.suggestion_reason_code, row.suggestion_reason_params = code.value, params.to_json()
        row.updated_at = now
        session.add(row)
    period.computed_at = now
    session.add(period)
    audit_event(session, period, "computed", f"{len(officers)} officers", actor=actor, now=now)
    session.flush()
    return len(officers)


def evaluations(session: Session, period: EvaluationPeriod) -> list[OfficerEvaluation]:
    return list(
        session.exec(
            select(OfficerEvaluation)
            .where(OfficerEvaluation.period_id == period.id)
            .order_by(col(OfficerEvaluation.officer_name), col(OfficerEvaluation.nip))
        ).all()
    )
