"""Tables and enums of digests. Times are naive UTC."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
)
from sqlmodel import Field, SQLModel

from core.shared.clock import utcnow


class DigestRunStatus(StrEnum):
    running = "running"
    done = "done"


class DigestRun(SQLModel, table=True):
    """A claim on one unit's digest for one ISO week: the unique key makes it exactly once."""

    __tablename__ = "digest_run"
    __table_args__ = (Index("ix_digest_run_unit_id_week", "unit_id", "week", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    week: str = Field(max_length=10)  # e.g. 2026-W47
    status: str = Field(default=DigestRunStatus.running.value, max_length=10)
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
