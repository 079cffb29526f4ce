"""Tables and enums of masterdata. Times are naive UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Index,
)
from sqlmodel import Field, SQLModel

from core.shared.clock import utcnow


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


class DemoRecord(SQLModel, table=True):
    """A row the demo data made (`core.demo.seed_demo`), so that `demo purge` removes exactly
    those: `kind` names its table (unit, service, officer, app_user, citizen, cases). Demo
    survey answers need no row here: their channel is "demo"."""

    __tablename__ = "demo_record"

    kind: str = Field(max_length=20, primary_key=True)
    record_id: int = Field(primary_key=True)


class BotIdentity(SQLModel, table=True):
    """Who the bot really is, as Telegram's getMe told the bot process when it last started
    (one row, id 1). QR printing compares it with PUBLIC_BOT_USERNAME without calling
    Telegram itself (core.masterdata.bot_identity)."""

    __tablename__ = "bot_identity"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_type=BigInteger)
    username: str = Field(max_length=64)
    first_name: str = Field(default="", max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow)
