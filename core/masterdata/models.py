"""Tables and enums of masterdata. Times are naive UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
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
