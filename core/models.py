"""Tables of DESIGN section 2 (foundation part). Times are naive UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, SmallInteger, Text
from sqlmodel import Field, SQLModel

from core.clock import utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    unit_head = "unit_head"
    viewer = "viewer"


class Language(StrEnum):
    id = "id"
    en = "en"


class Unit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="unit.id")
    active: bool = True
    service_population: int | None = Field(default=None, ge=1)
    created_at: datetime = Field(default_factory=utcnow)


class Service(SQLModel, table=True):
    __table_args__ = (Index("ix_service_unit_id_name", "unit_id", "name", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    name: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Officer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    nip: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=200)
    position: str = Field(default="", max_length=200)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    active: bool = True
    public_code: str = Field(max_length=16, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class Citizen(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    language: str = Field(default=Language.id.value, max_length=5)
    consent_at: datetime | None = None
    phone: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class AppUser(SQLModel, table=True):
    """An admin API account (table `app_user`: `user` is reserved in PostgreSQL)."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=20)
    active: bool = True
    telegram_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(default_factory=utcnow)


class UserUnit(SQLModel, table=True):
    """The units a non-admin user may see and act on."""

    __tablename__ = "user_unit"

    user_id: int = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    )
    unit_id: int = Field(
        sa_column=Column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    )


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
    channel: str = Field(default="telegram", max_length=20)
    local_date: date
    # citizen:unit:service:local date; unique, so a second response the same day is refused
    # by the database even when two requests race.
    daily_key: str | None = Field(default=None, max_length=80, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class ConversationState(SQLModel, table=True):
    """The bot's per-chat step and half-filled answers, written at every step."""

    __tablename__ = "conversation_state"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    step: str = Field(default="", max_length=40)
    data: str = Field(default="{}", sa_type=Text)
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    updated_at: datetime = Field(default_factory=utcnow)


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled, so a redelivered update is ignored."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: datetime = Field(default_factory=utcnow, index=True)
