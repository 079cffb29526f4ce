"""Tables and enums of cases. Times are naive UTC."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Index,
    Text,
    text,
)
from sqlmodel import Field, SQLModel

from core.shared.clock import utcnow


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


class CaseEventKind(StrEnum):
    """What a CaseEvent records (stored in `case_event.kind`)."""

    created = "created"
    verified = "verified"
    rejected = "rejected"
    assigned = "assigned"
    info_requested = "info_requested"
    citizen_replied = "citizen_replied"
    reporter_erased = "reporter_erased"
    resolved = "resolved"
    closed = "closed"
    auto_closed = "auto_closed"
    reopened = "reopened"
    reopened_by_citizen = "reopened_by_citizen"
    rated_satisfied = "rated_satisfied"
    rated_unsatisfied = "rated_unsatisfied"
    note = "note"
    misdirected = "misdirected"  # marked "salah alamat": sent to a unit outside its scope
    # Closed (a held report: rejected) after waiting on the reporter's answer too long.
    closed_unanswered = "closed_unanswered"


class AttachmentStatus(StrEnum):
    pending = "pending"  # waiting to be downloaded
    stored = "stored"  # on disk, EXIF removed
    failed = "failed"  # gave up after its attempts


class Case(SQLModel, table=True):
    """A complaint being handled (DESIGN section 3)."""

    __tablename__ = "cases"  # "case" is an SQL keyword
    __table_args__ = (
        Index("ix_cases_unit_id_status_received_at", "unit_id", "status", "received_at"),
        Index("ix_cases_due_at_id", "due_at", "id"),
        Index("ix_cases_received_at_id", "received_at", "id"),
        Index("ix_cases_officer_id_received_at", "officer_id", "received_at"),
        Index("ix_cases_citizen_id_received_at", "citizen_id", "received_at"),
        # The inbox's views, counted and paged from the index alone (migration 0016).
        Index("ix_cases_unit_id_status_due_at_id", "unit_id", "status", "due_at", "id"),
        Index(
            "ix_cases_assignee_id_status_unit_id_due_at_id",
            "assignee_id",
            "status",
            "unit_id",
            "due_at",
            "id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=24, unique=True)
    channel: str = Field(default="telegram", max_length=20)  # an Intake: where it came in
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
    # Sent to the wrong unit, outside its handler's scope ("salah alamat"): waits in the
    # admins' view until an admin forwards it; its deadlines keep running.
    misdirected_at: datetime | None = None
    # The SP4N-LAPOR! tracking number of the same complaint, when it also came that way.
    lapor_id: str | None = Field(default=None, max_length=40, index=True)
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
    source: str = Field(max_length=20)  # the Channel it came through: how to fetch it
    reference: str = Field(max_length=255)  # the channel's id for it (a Telegram file id)
    status: str = Field(default=AttachmentStatus.pending.value, max_length=10, index=True)
    path: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=50)
    size: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class ReminderRun(SQLModel, table=True):
    """One SLA reminder per user and local day."""

    __tablename__ = "reminder_run"
    __table_args__ = (Index("ix_reminder_run_user_id_day", "user_id", "day", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    day: date
    created_at: datetime = Field(default_factory=utcnow)


class CannedResponse(SQLModel, table=True):
    """A reusable text for a staff action (a standard verification notice, a standard
    request for the location), in both languages; placeholders {ref} and {unit}."""

    __tablename__ = "canned_response"
    __table_args__ = (Index("ix_canned_response_action_active", "action", "active"),)

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=30)  # verify, reject, request_info, resolve, note, ...
    title: str = Field(max_length=120)
    body_id: str = Field(sa_type=Text)
    body_en: str = Field(default="", sa_type=Text)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ClosedDay(SQLModel, table=True):
    """A day the office is closed besides the national calendar (a regional holiday, an office
    closure), set by an administrator; the SLA clock skips it. Removing one keeps the row
    (who added it and when, who removed it and when): the table is its own audit trail."""

    __tablename__ = "closed_day"
    __table_args__ = (
        # One standing entry per day; removed entries stay beside it.
        Index(
            "ix_closed_day_day_standing",
            "day",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date
    description: str = Field(max_length=200)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    removed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    removed_at: datetime | None = None


class WebReport(SQLModel, table=True):
    """A complaint filed on the public web site: how its reporter follows it without an
    account. The follow-up code is kept only as a keyed hash; the device (a long-lived cookie)
    only as a keyed hash too, to count the device's complaints a day."""

    __tablename__ = "web_report"
    __table_args__ = (
        Index("ix_web_report_device_created", "device_key", "created_at"),
        Index("ix_web_report_submission_key", "submission_key", unique=True),
    )

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    code_hash: str = Field(max_length=64)
    device_key: str = Field(max_length=64)
    # The form's one submission (keyed hash of the device and the form's random id): the same
    # form sent twice (a double tap, a reload, two worker processes) files one report.
    submission_key: str | None = Field(default=None, max_length=64)
    # Wrong codes typed for this reference since the last right one or lock; at
    # WEB_CODE_MAX_FAILURES the reference is locked until `locked_until`.
    failures: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
