"""QR deep-link payloads: short lookup keys (never a NIP) that pre-select what to rate."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, select

from core.masterdata.models import Officer, Service, Unit

PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Preselection:
    unit_id: int
    service_id: int | None = None
    officer_id: int | None = None


def unit_payload(unit: Unit) -> str:
    return f"u_{unit.code}"


def service_payload(service: Service) -> str:
    return f"s_{service.id}"


def officer_payload(officer: Officer) -> str:
    return f"o_{officer.public_code}"


def resolve_payload(session: Session, payload: str) -> Preselection | None:
    """What a `/start <payload>` pre-selects, or None for an unknown or inactive target."""
    if not PAYLOAD_RE.match(payload) or "_" not in payload:
        return None
    kind, key = payload.split("_", 1)
    if kind == "u":
        unit = session.exec(select(Unit).where(Unit.code == key.lower())).first()
        if unit and unit.active and unit.id is not None:
            return Preselection(unit_id=unit.id)
    elif kind == "s" and key.isdigit() and len(key) < 10:
        service = session.get(Service, int(key))
        if service and service.active and _unit_active(session, service.unit_id):
            return Preselection(unit_id=service.unit_id, service_id=service.id)
    elif kind == "o":
        officer = session.exec(select(Officer).where(Officer.public_code == key)).first()
        if officer and _unit_active(session, officer.unit_id):
            # A deactivated officer's code still opens the unit, without naming them.
            return Preselection(
                unit_id=officer.unit_id, officer_id=officer.id if officer.active else None
            )
    return None


def _unit_active(session: Session, unit_id: int) -> bool:
    unit = session.get(Unit, unit_id)
    return bool(unit and unit.active)
