"""Response bodies of the admin API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from core.people.models import Role


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
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
    """NRR and weighted NRR (NRR x 1/9), each rounded half-up to 3 decimals from the exact
    mean: the JSON number has exactly the digits of the rounded figure."""

    number: int
    name: str
    nrr: float
    weighted_nrr: float


class WeightingOut(BaseModel):
    """How the nine elements are weighted: exactly 1/9 each (not the annex's rounded 0.111)."""

    element_weight: str  # "1/9"
    exact: bool
    statement_id: str
    statement_en: str


class ScoreOut(BaseModel):
    """`ikm` is rounded half-up to 2 decimals and graded on that value. `enough_data` is false
    below `min_responses` (IKM_MIN_RESPONSES): a display then shows "belum cukup data (n = …)"
    instead of the figure and its grade (core.surveys.skm.enough_responses)."""

    n: int
    ikm: float | None
    grade: str | None
    grade_label: str | None
    enough_data: bool
    min_responses: int


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
    weighting: WeightingOut
    elements: list[ElementOut]
    services: list[ServiceScoreOut]
    generated_at: datetime


# Accounts ---------------------------------------------------------------------------------

PASSWORD_FIELD = Field(max_length=1024)  # the policy (core.people.users) says what a good one is


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    unit_codes: list[str]
    telegram_linked: bool
    officer_id: int | None
    officer_nip: str | None
    officer_name: str | None
    created_at: datetime


class UserCreateIn(BaseModel):
    username: str = Field(max_length=64)
    role: Role
    unit_codes: list[str] = Field(default_factory=list, max_length=500)
    password: str = PASSWORD_FIELD
    display_name: str = Field(default="", max_length=200)


class UserUpdateIn(BaseModel):
    """Only the fields given change; a change of role or units ends the user's tokens."""

    role: Role | None = None
    unit_codes: list[str] | None = Field(default=None, max_length=500)
    display_name: str | None = Field(default=None, max_length=200)


class PasswordResetIn(BaseModel):
    new_password: str = PASSWORD_FIELD


class PasswordChangeIn(BaseModel):
    current_password: str = PASSWORD_FIELD
    new_password: str = PASSWORD_FIELD


class OfficerLinkIn(BaseModel):
    """The NIP of the officer this account belongs to; null removes the link."""

    nip: str | None = Field(max_length=40)


class UnlockOut(BaseModel):
    cleared_failed_logins: int


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    action: str
    actor_user_id: int | None
    actor_username: str | None
    target_kind: str
    target_id: int | None
    target_label: str | None
    detail: str | None


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None
