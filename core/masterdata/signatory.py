"""Who signs a unit's printed report: its head, by name and NIP (blank lines when unknown)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from core.masterdata.models import Officer, Unit
from core.people.models import AppUser, Role, UserUnit
from core.shared.i18n import ct


@dataclass(frozen=True)
class Signatory:
    """The signature block: the title line, the name and the NIP ("" to sign by hand)."""

    title: str
    name: str
    nip: str


def generic_head() -> Signatory:
    """For a report over several units: blank lines under a generic title."""
    return Signatory(ct("id", "export.head_generic"), "", "")


def unit_head_of(session: Session, unit_id: int) -> Signatory:
    """The head of the unit: an active `unit_head` account of exactly that unit (the first by
    id), named as its linked officer (with NIP), else its display name or username."""
    unit = session.get(Unit, unit_id)
    title = ct("id", "export.head_of", unit=unit.name if unit else "")
    found = session.execute(
        sa_select(
            col(AppUser.display_name), col(AppUser.username), col(Officer.name), col(Officer.nip)
        )
        .join(UserUnit, col(UserUnit.user_id) == col(AppUser.id))
        .outerjoin(Officer, col(Officer.id) == col(AppUser.officer_id))
        .where(
            col(UserUnit.unit_id) == unit_id,
            col(AppUser.role) == Role.unit_head.value,
            col(AppUser.active) == True,  # noqa: E712
        )
        .order_by(col(AppUser.id))
        .limit(1)
    ).first()
    if found is None:
        return Signatory(title, "", "")
    display_name, username, officer_name, nip = found
    named = officer_name or (display_name or "").strip() or username or ""
    return Signatory(title, named, nip or "")


def indonesian_date(day: date) -> str:
    """30 November 2026."""
    months = ct("id", "months").split(",")
    return f"{day.day} {months[day.month - 1]} {day.year}"
