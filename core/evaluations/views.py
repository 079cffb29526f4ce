"""What a reader sees of a period: full evidence and suggestions only for those who may open
every case of its units (core.access.may_open_every_case)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from core.access import Actor, Permission, may_open_every_case
from core.evaluations.compute import evaluations
from core.evaluations.decisions import load_evaluation
from core.evaluations.models import (
    EvaluationPeriod,
    OfficerEvaluation,
    PeriodStatus,
)
from core.evaluations.periods import involves_own_officer, period_units
from core.evaluations.rules import render_reason

# What a reader sees ------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationView:
    """One officer's evaluation as `actor` may see it (see the module's docstring)."""

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
    behaviour_level: str | None
    override_reason: str | None
    results_level: str | None
    rating: str | None
    # The officer's own response (core.evaluations.own), beside the suggestion: full evidence only.
    officer_response: str | None = None
    officer_response_at: datetime | None = None
    # The suggestion's reason as stored (code, JSON figures); rendered only when read.
    reason_code: str | None = field(default=None, repr=False)
    reason_params: str | None = field(default=None, repr=False)

    def _reason(self, lang: str) -> str | None:
        if self.reason_code is None or self.reason_params is None:
            return None
        return render_reason(self.reason_code, self.reason_params, lang)

    @property
    def suggestion_reason(self) -> str | None:
        return self._reason("id")

    @property
    def suggestion_reason_en(self) -> str | None:
        return self._reason("en")


def sees_full_evidence(session: Session, period: EvaluationPeriod, *, actor: Actor) -> bool:
    """Every case of the period's units is open to `actor`: full evidence and suggestions."""
    return may_open_every_case(
        period_units(session, period), actor=actor
    ) and not involves_own_officer(session, period, actor=actor)


def _case_figures(row: OfficerEvaluation, actor: Actor, confidential: bool) -> tuple[int, int, int]:
    """Received, substantiated, overdue over the cases `actor` may open."""
    if actor.officer_id is not None and row.officer_id == actor.officer_id:
        return 0, 0, 0  # every case naming one's own officer is hidden from the account
    if confidential:
        return row.complaints_received, row.complaints_substantiated, row.cases_overdue
    return (
        row.nonconf_complaints_received,
        row.nonconf_complaints_substantiated,
        row.nonconf_cases_overdue,
    )


def _view(
    row: OfficerEvaluation, actor: Actor, full: bool, confidential: bool, finalized: bool
) -> EvaluationView:
    suggestion = full and row.officer_id != actor.officer_id
    decisions = full or finalized
    received, substantiated, overdue = _case_figures(row, actor, confidential)
    assert row.id is not None
    return EvaluationView(
        id=row.id,
        officer_id=row.officer_id,
        nip=row.nip,
        officer_name=row.officer_name,
        unit_id=row.unit_id,
        survey_n=row.survey_n,
        raw_mean=row.raw_mean,
        score=row.score,
        score_low=row.score_low,
        score_high=row.score_high,
        unit_mean=row.unit_mean,
        insufficient=row.insufficient,
        complaints_received=received,
        complaints_substantiated=substantiated,
        cases_overdue=overdue,
        suggested_level=row.suggested_level if suggestion else None,
        behaviour_level=row.behaviour_level if decisions else None,
        # An override's reason tells whether the decision differs from the suggestion.
        override_reason=row.override_reason if suggestion else None,
        results_level=row.results_level if decisions else None,
        rating=row.rating if decisions else None,
        officer_response=row.officer_response if suggestion else None,
        officer_response_at=row.officer_response_at if suggestion else None,
        reason_code=row.suggestion_reason_code if suggestion else None,
        reason_params=row.suggestion_reason_params if suggestion else None,
    )


def evaluation_views(
    session: Session, period: EvaluationPeriod, *, actor: Actor
) -> list[EvaluationView]:
    """The period's officers as `actor` may see them: case figures over the cases they may
    open, suggestions only with full evidence, decisions once finalized (or to evaluators)."""
    unit_ids = period_units(session, period)
    full = may_open_every_case(unit_ids, actor=actor)
    confidential = bool(unit_ids) and all(
        actor.may(Permission.VIEW_CONFIDENTIAL_CASES, u) for u in unit_ids
    )
    finalized = period.status == PeriodStatus.finalized
    return [_view(r, actor, full, confidential, finalized) for r in evaluations(session, period)]


def evaluation_view(
    session: Session, period: EvaluationPeriod, evaluation_id: int, *, actor: Actor
) -> EvaluationView:
    wanted = load_evaluation(session, period, evaluation_id)
    return next(v for v in evaluation_views(session, period, actor=actor) if v.id == wanted.id)
