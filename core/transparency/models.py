"""The table of the public figures' snapshot. Times are aware UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from core.shared.clock import utcnow


class PublicFigures(SQLModel, table=True):
    """One scope of the public figures as last computed (`core.transparency.snapshot`): a
    JSON document the public pages and the open data read, never the records behind it."""

    __tablename__ = "public_figures"

    scope: str = Field(max_length=80, primary_key=True)
    body: str = Field(sa_type=Text)
    computed_at: datetime = Field(default_factory=utcnow)
