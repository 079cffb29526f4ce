"""Tables and enums of evaluations. Times are naive UTC."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Text,
)
from sqlmodel import Field, SQLModel

from core.shared.clock import utcnow


class Level(StrEnum):
    """Against expectation: di atas / sesuai / di bawah ekspektasi."""

    above = "above"
    meets = "meets"
    below = "below"


class PeriodStatus(StrEnum):
    open = "open"
    finalized = "finalized"


class EvaluationPeriod(SQLModel, table=True):
    __tablename__ = "evaluation_period"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    kind: str = Field(max_length=10)  # monthly, quarterly, annual
    start: date
    end: date  # inclusive
    status: str = Field(default=PeriodStatus.open.value, max_length=10)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    computed_at: datetime | None = None
    finalized_by: int | None = Field(default=None, foreign_key="app_user.id")
    finalized_at: datetime | None = None


class EvaluationPeriodUnit(SQLModel, table=True):
    """The units a period covers."""

    __tablename__ = "evaluation_period_unit"

    period_id: int = Field(
        sa_column=Column(ForeignKey("evaluation_period.id", ondelete="CASCADE"), primary_key=True)
    )
    unit_id: int = Field(sa_column=Column(ForeignKey("unit.id"), primary_key=True))


class OfficerEvaluation(SQLModel, table=True):
    """One officer in one period: a frozen snapshot of the evidence and the decisions."""

    __tablename__ = "officer_evaluation"
    __table_args__ = (
        Index("ix_officer_evaluation_period_id_officer_id", "period_id", "officer_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="evaluation_period.id")
    officer_id: int = Field(foreign_key="officer.id")
    nip: str = Field(max_length=18)
    officer_name: str = Field(max_length=200)
    unit_id: int = Field(foreign_key="unit.id")
    survey_n: int = 0
    raw_mean: float | None = None
    score: float
    score_low: float
    score_high: float
    unit_mean: float
    insufficient: bool
    complaints_received: int = 0
    complaints_substantiated: int = 0
    cases_overdue: int = 0
    # The same three counts over non-confidential cases only (what unit heads and viewers see).
    nonconf_complaints_received: int = 0
    nonconf_complaints_substantiated: int = 0
    nonconf_cases_overdue: int = 0
    suggested_level: str = Field(max_length=10)
    # Why the suggestion: a code (core.evaluations.rules.ReasonCode) and its figures as JSON,
    # rendered per language on reading (core.evaluations.rules.render_reason).
    suggestion_reason_code: str = Field(max_length=20)
    suggestion_reason_params: str = Field(sa_type=Text)
    behaviour_level: str | None = Field(default=None, max_length=10)
    override_reason: str | None = Field(default=None, sa_type=Text)
    results_level: str | None = Field(default=None, max_length=10)
    rating: str | None = Field(default=None, max_length=20)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = None
    # The officer's own written response to this evidence (core.evaluations.own), while open.
    officer_response: str | None = Field(default=None, sa_type=Text)
    officer_response_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class EvaluationEvent(SQLModel, table=True):
    """Audit of every decision on a period: who, when, what."""

    __tablename__ = "evaluation_event"

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="evaluation_period.id", index=True)
    officer_evaluation_id: int | None = Field(default=None, foreign_key="officer_evaluation.id")
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    kind: str = Field(max_length=30)
    detail: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
