"""Tables of DESIGN section 2 (foundation part). Times are naive UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    Text,
)
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
    language: str = Field(default=Language.id.value, max_length=5)  # of digests and reminders
    display_name: str = Field(default="", max_length=200)
    # The officer (ASN) this account belongs to: cases naming that officer are hidden from it.
    officer_id: int | None = Field(default=None, foreign_key="officer.id", unique=True)
    # Raised on deactivation, password change and role or unit change: older tokens die.
    token_version: int = 0
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


# Complaints and cases ---------------------------------------------------------------------


class CaseStatus(StrEnum):
    received = "received"
    verified = "verified"
    in_progress = "in_progress"
    waiting_citizen = "waiting_citizen"
    resolved = "resolved"
    closed = "closed"
    rejected = "rejected"


OPEN_STATUSES = frozenset(
    {CaseStatus.received, CaseStatus.verified, CaseStatus.in_progress, CaseStatus.waiting_citizen}
)


class Privacy(StrEnum):
    biasa = "biasa"  # ordinary
    anonim = "anonim"  # reporter hidden from everyone but admins
    rahasia = "rahasia"  # the report itself hidden from non-admin lists


class CaseOutcome(StrEnum):
    substantiated = "substantiated"
    partly = "partly"
    unsubstantiated = "unsubstantiated"
    not_our_authority = "not_our_authority"


class ActorKind(StrEnum):
    citizen = "citizen"
    user = "user"
    system = "system"


class Visibility(StrEnum):
    public = "public"
    internal = "internal"


class Case(SQLModel, table=True):
    """A complaint being handled (DESIGN section 3)."""

    __tablename__ = "cases"  # "case" is an SQL keyword
    __table_args__ = (
        Index("ix_cases_unit_id_status_received_at", "unit_id", "status", "received_at"),
        Index("ix_cases_due_at_id", "due_at", "id"),
        Index("ix_cases_received_at_id", "received_at", "id"),
        Index("ix_cases_officer_id_received_at", "officer_id", "received_at"),
        Index("ix_cases_citizen_id_received_at", "citizen_id", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=24, unique=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", ondelete="SET NULL")
    privacy: str = Field(default=Privacy.biasa.value, max_length=10)
    unit_id: int = Field(foreign_key="unit.id")
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    service_id: int | None = Field(default=None, foreign_key="service.id")
    category: str = Field(max_length=40, index=True)
    description: str = Field(sa_type=Text)
    latitude: float | None = None
    longitude: float | None = None
    status: str = Field(default=CaseStatus.received.value, max_length=20)
    priority: str = Field(default="normal", max_length=10)
    assignee_id: int | None = Field(default=None, foreign_key="app_user.id")
    received_at: datetime = Field(default_factory=utcnow)
    verified_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    verify_due_at: datetime
    followup_due_at: datetime | None = None
    resolve_due_at: datetime
    # The deadline running now (the earliest pending one); None while paused or finished.
    due_at: datetime | None = None
    paused_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=20)
    resolution: str | None = Field(default=None, sa_type=Text)
    reject_reason: str | None = Field(default=None, sa_type=Text)
    duplicate_of_id: int | None = Field(default=None, foreign_key="cases.id")
    reopened_count: int = 0
    satisfied: bool | None = None
    satisfaction_reason: str | None = Field(default=None, sa_type=Text)
    rated_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class CaseEvent(SQLModel, table=True):
    """Append-only audit trail of a case. Never updated or deleted."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_id_id", "case_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id")
    actor_kind: str = Field(max_length=10)
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    kind: str = Field(max_length=30)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    body: str | None = Field(default=None, sa_type=Text)
    visibility: str = Field(default=Visibility.public.value, max_length=10)
    created_at: datetime = Field(default_factory=utcnow)


class Attachment(SQLModel, table=True):
    """A photo sent with a complaint. Stored on disk with EXIF removed once downloaded."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    telegram_file_id: str = Field(max_length=255)
    status: str = Field(default="pending", max_length=10, index=True)  # pending/stored/failed
    path: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=50)
    size: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class OutboundMessage(SQLModel, table=True):
    """The outbox: a message to a person, written in the transaction that caused it."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_message_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbound_message_chat_id_status_id", "chat_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    language: str = Field(default=Language.id.value, max_length=5)
    template: str = Field(max_length=40)  # rendered by the bot in the recipient's language
    params: str = Field(default="{}", sa_type=Text)
    status: str = Field(default="pending", max_length=10)  # pending, sent, failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    locked_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    case_event_id: int | None = Field(default=None, foreign_key="case_event.id")
    telegram_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    photo: bytes | None = Field(default=None, sa_type=LargeBinary)  # a PNG sent with the text
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


# ASN evaluations (PermenPANRB 6/2022) ------------------------------------------------------


class Level(StrEnum):
    """Against expectation: di atas / sesuai / di bawah ekspektasi."""

    above = "above"
    meets = "meets"
    below = "below"


class EvaluationPeriod(SQLModel, table=True):
    __tablename__ = "evaluation_period"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    kind: str = Field(max_length=10)  # monthly, quarterly, annual
    start: date
    end: date  # inclusive
    status: str = Field(default="open", max_length=10)  # open, finalized
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
    suggestion_reason: str = Field(sa_type=Text)
    suggestion_reason_en: str = Field(sa_type=Text)
    behaviour_level: str | None = Field(default=None, max_length=10)
    override_reason: str | None = Field(default=None, sa_type=Text)
    results_level: str | None = Field(default=None, max_length=10)
    rating: str | None = Field(default=None, max_length=20)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = None
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


# Linking Telegram chats, digests and reminders ---------------------------------------------


class LinkCode(SQLModel, table=True):
    """A one-time code that links a staff account to a Telegram chat (`/link CODE`)."""

    __tablename__ = "link_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)  # sha256: the code itself is not kept
    expires_at: datetime
    used_at: datetime | None = None
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)


class DigestRun(SQLModel, table=True):
    """A claim on one unit's digest for one ISO week: the unique key makes it exactly once."""

    __tablename__ = "digest_run"
    __table_args__ = (Index("ix_digest_run_unit_id_week", "unit_id", "week", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    week: str = Field(max_length=10)  # e.g. 2026-W47
    status: str = Field(default="running", max_length=10)  # running, done
    claimed_by: str = Field(max_length=64)
    claimed_at: datetime
    finished_at: datetime | None = None


class DigestRecipient(SQLModel, table=True):
    """Who got a run's digest: written with the outbox rows, so a resumed run skips them."""

    __tablename__ = "digest_recipient"

    run_id: int = Field(
        sa_column=Column(ForeignKey("digest_run.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: int = Field(sa_column=Column(ForeignKey("app_user.id"), primary_key=True))
    created_at: datetime = Field(default_factory=utcnow)


class ReminderRun(SQLModel, table=True):
    """One SLA reminder per user and local day."""

    __tablename__ = "reminder_run"
    __table_args__ = (Index("ix_reminder_run_user_id_day", "user_id", "day", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    day: date
    created_at: datetime = Field(default_factory=utcnow)


class InboundUpdate(SQLModel, table=True):
    """A Telegram update stored before it is acknowledged (webhook 200 / next poll offset),
    so an update Telegram considers delivered survives a crash; processed ones are those in
    `processed_update`."""

    __tablename__ = "inbound_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: str = Field(sa_type=Text)
    received_at: datetime = Field(default_factory=utcnow, index=True)


class AuditAction(StrEnum):
    """What `access_audit` records: reading sensitive cases and every change to an account."""

    case_read_confidential = "case_read_confidential"  # opened a `rahasia` case
    case_read_reporter = "case_read_reporter"  # opened a case page showing the reporter
    user_created = "user_created"
    user_role_changed = "user_role_changed"
    user_units_changed = "user_units_changed"
    user_deactivated = "user_deactivated"
    user_reactivated = "user_reactivated"
    user_password_reset = "user_password_reset"  # noqa: S105
    user_password_changed = "user_password_changed"  # noqa: S105
    user_unlocked = "user_unlocked"
    user_officer_linked = "user_officer_linked"
    user_changed = "user_changed"  # display name, language and other details
    # Wrong passwords for one username from many addresses (core.login_limits); not a lock.
    login_alert = "login_alert"


class AccessAudit(SQLModel, table=True):
    """Append-only: who read what sensitive, and who changed which account, when."""

    __tablename__ = "access_audit"
    __table_args__ = (Index("ix_access_audit_action_at", "action", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    action: str = Field(max_length=40)
    target_kind: str = Field(max_length=20)  # case, user
    target_id: int | None = None
    detail: str | None = Field(default=None, sa_type=Text)


class LoginThrottle(SQLModel, table=True):
    """Wrong admin API passwords of one username from one client address (an IPv6 address
    counts by its /64), shared by every API worker: see core.login_limits."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("ix_login_throttle_address_updated_at", "address", "updated_at"),)

    username: str = Field(max_length=64, primary_key=True)
    address: str = Field(max_length=64, primary_key=True)
    # Tries in this streak, counted when a try starts (so concurrent ones are counted too);
    # the right password deletes the row.
    failures: int = 0
    locked_until: datetime | None = None  # no try before then
    updated_at: datetime = Field(default_factory=utcnow, index=True)  # the last try
