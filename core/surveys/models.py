"""Tables and enums of surveys. Times are naive UTC."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    SmallInteger,
    Text,
)
from sqlmodel import Field, SQLModel

from core.shared.clock import utcnow

# Respondent keys are 62-bit numbers with bit 62 set: always in [2**62, 2**63), so never equal
# to a citizen id (a 32-bit integer) nor to a negated response id, the fallbacks of the caps.
RESPONDENT_KEY_FLOOR = 1 << 62


def erased_respondent_key() -> int:
    """A new random respondent key for the answers of a citizen who erased their data."""
    return RESPONDENT_KEY_FLOOR | secrets.randbits(62)


ELEMENT_COLUMNS = tuple(f"q{i}" for i in range(1, 10))


def answer_columns(answers: Sequence[int]) -> dict[str, Any]:
    """The nine element answers as SurveyResponse column values (q1..q9)."""
    return dict(zip(ELEMENT_COLUMNS, answers, strict=True))


class SurveyResponse(SQLModel, table=True):
    """One SKM questionnaire: nine element answers on the 1-4 scale."""

    __tablename__ = "survey_response"
    __table_args__ = (
        *(CheckConstraint(f"{c} BETWEEN 1 AND 4", name=f"{c}_range") for c in ELEMENT_COLUMNS),
        # Covering index: IKM per unit over a period is an index-only range scan.
        Index("ix_survey_response_unit_scores", "unit_id", "created_at", *ELEMENT_COLUMNS),
        Index("ix_survey_response_service_id_created_at", "service_id", "created_at"),
        Index("ix_survey_response_officer_id_created_at", "officer_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    service_id: int | None = Field(default=None, foreign_key="service.id")
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    q1: int = Field(sa_type=SmallInteger)
    q2: int = Field(sa_type=SmallInteger)
    q3: int = Field(sa_type=SmallInteger)
    q4: int = Field(sa_type=SmallInteger)
    q5: int = Field(sa_type=SmallInteger)
    q6: int = Field(sa_type=SmallInteger)
    q7: int = Field(sa_type=SmallInteger)
    q8: int = Field(sa_type=SmallInteger)
    q9: int = Field(sa_type=SmallInteger)
    comment: str | None = Field(default=None, sa_type=Text)
    sex: str | None = Field(default=None, max_length=20)
    age_band: str | None = Field(default=None, max_length=20)
    education: str | None = Field(default=None, max_length=20)
    occupation: str | None = Field(default=None, max_length=30)
    channel: str = Field(default="telegram", max_length=20)  # an Intake: where it came in
    local_date: date
    # citizen:unit:service:local date; unique, so a second response the same day is refused
    # by the database even when two requests race.
    daily_key: str | None = Field(default=None, max_length=80, unique=True)
    # Who answered, pseudonymously (core.surveys.respondents): a keyed hash of the channel's
    # identity of the person. When a citizen erases their data, their answers get one new
    # random key instead (`erased_respondent_key`): still one person's for the anti-gaming
    # caps of the officer scores, but traceable to nobody, not even with the secret.
    respondent_key: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)


class FollowUpItem(SQLModel, table=True):
    """One row of a unit's follow-up plan (rencana tindak lanjut) for a survey period: what
    the unit will do about an element, when, and who answers for it (PermenPANRB 14/2017,
    Lampiran, the report's last table)."""

    __tablename__ = "follow_up_item"
    __table_args__ = (
        Index("ix_follow_up_item_unit_period", "unit_id", "period_start", "period_end"),
        CheckConstraint("element IS NULL OR element BETWEEN 1 AND 9", name="element_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    period_start: date
    period_end: date  # inclusive
    element: int | None = Field(default=None, sa_type=SmallInteger)  # the SKM element, 1-9
    action: str = Field(sa_type=Text)  # program / kegiatan
    timeframe: str = Field(max_length=100)  # waktu pelaksanaan, as the unit writes it
    responsible: str = Field(max_length=200)  # penanggung jawab
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = Field(default_factory=utcnow)
