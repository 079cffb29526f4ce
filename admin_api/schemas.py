"""Response bodies of the admin API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int


class MeOut(BaseModel):
    username: str
    role: str
    unit_codes: list[str]


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    parent_id: int | None
    active: bool
    service_population: int | None


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    unit_id: int
    name: str
    active: bool


class OfficerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    nip: str
    name: str
    position: str
    unit_id: int
    active: bool
    public_code: str


class RowErrorOut(BaseModel):
    row: int
    column: str
    reason: str


class ImportOut(BaseModel):
    created: int
    updated: int
    dry_run: bool
    errors: list[RowErrorOut]


class ElementOut(BaseModel):
    number: int
    name: str
    nrr: float
    weighted_nrr: float


class ScoreOut(BaseModel):
    n: int
    ikm: float | None
    grade: str | None
    grade_label: str | None


class UnitScoreOut(ScoreOut):
    unit_code: str
    unit_name: str
    population: int
    minimum_sample: int
    sample_sufficient: bool


class ServiceScoreOut(ScoreOut):
    service_id: int | None
    service_name: str | None


class PeriodOut(BaseModel):
    start: date
    end: date
    timezone: str


class UnitScoreListOut(BaseModel):
    period: PeriodOut
    units: list[UnitScoreOut]


class UnitScoreDetailOut(BaseModel):
    period: PeriodOut
    unit: UnitScoreOut
    elements: list[ElementOut]
    services: list[ServiceScoreOut]
    generated_at: datetime


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    ready: bool
    database: bool
    migrations_at_head: bool
    outbox_pending: int | None
    outbox_oldest_pending_seconds: float | None
