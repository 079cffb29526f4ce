"""Complaints that arrive elsewhere: staff record a complaint received at the counter, by
phone or by letter. The same rules as a citizen's own report (`filing.validate_draft`, the
reference, the deadlines), plus the citizen's contact if they gave one and the SP4N-LAPOR!
tracking number if the complaint also came that way."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from core.access import Actor, Permission
from core.cases.filing import open_case, validate_draft
from core.cases.models import ActorKind, Case
from core.cases.policy import CasePolicy, ComplaintDraft, EventActor
from core.masterdata.models import Officer, Service, Unit
from core.people.models import Channel, Citizen, Contact, Intake
from core.shared.errors import InvalidInput

# The channels staff record by hand (a paper questionnaire is a survey, not a complaint).
STAFF_INTAKES = (Intake.counter, Intake.phone, Intake.letter)
MAX_LAPOR_ID = 40
MAX_EMAIL = 254
_LAPOR_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
# A national number (0812..., 0380 8...) or an international one (+62 812...): separators
# (spaces, dashes, dots, parentheses) are dropped before the digits are counted.
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_NATIONAL_RE = re.compile(r"0[1-9][0-9]{6,12}")
_INTERNATIONAL_RE = re.compile(r"\+[1-9][0-9]{7,14}")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


class IntakeField(StrEnum):
    """Which part of a recorded complaint is malformed: the console words it."""

    channel = "channel"
    phone = "phone"
    email = "email"
    lapor_id = "lapor_id"


class IntakeInputError(InvalidInput):
    """A field staff typed that cannot be stored as it is; `field` says which."""

    def __init__(self, field: IntakeField, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CitizenContact:
    """How the citizen may be reached, as given at the counter, on the phone or in a letter."""

    phone: str | None = None
    email: str | None = None


def normalise_phone(text: str) -> str | None:
    """A phone number as typed (`0812-3456-7890`, `+62 812 3456 7890`, `(0380) 821234`) in
    international form (`+6281234567890`); None when blank; IntakeInputError when malformed."""
    compact = _PHONE_SEPARATORS.sub("", text.strip())
    if not compact:
        return None
    if _NATIONAL_RE.fullmatch(compact):
        return "+62" + compact[1:]
    if _INTERNATIONAL_RE.fullmatch(compact):
        return compact
    raise IntakeInputError(IntakeField.phone, "not a phone number")


def normalise_email(text: str) -> str | None:
    """An e-mail address (its domain in lower case); None when blank; IntakeInputError when
    malformed."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_EMAIL or not _EMAIL_RE.fullmatch(cleaned):
        raise IntakeInputError(IntakeField.email, "not an e-mail address")
    local, domain = cleaned.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def normalise_lapor_id(text: str) -> str | None:
    """An SP4N-LAPOR! tracking number: letters, digits and dashes, at most 40 characters, in
    upper case; None when blank; IntakeInputError otherwise."""
    cleaned = text.strip().upper()
    if not cleaned:
        return None
    if len(cleaned) > MAX_LAPOR_ID or not _LAPOR_RE.fullmatch(cleaned):
        raise IntakeInputError(IntakeField.lapor_id, "letters, digits and dashes, at most 40")
    return cleaned


def _reporter(
    session: Session, phone: str | None, email: str | None, *, now: datetime
) -> int | None:
    """The citizen behind the given contact: the one who already has this e-mail address,
    else a new one; None when no contact was given."""
    if phone is None and email is None:
        return None
    citizen: Citizen | None = None
    if email is not None:
        citizen = session.exec(
            select(Citizen)
            .join(Contact, col(Contact.citizen_id) == col(Citizen.id))
            .where(Contact.channel == Channel.email.value, Contact.address == email)
        ).first()
    if citizen is None:
        citizen = Citizen(phone=phone, created_at=now)
        session.add(citizen)
        session.flush()
        if email is not None:
            session.add(
                Contact(
                    channel=Channel.email.value,
                    address=email,
                    citizen_id=citizen.id,
                    created_at=now,
                )
            )
    elif phone is not None and citizen.phone is None:
        citizen.phone = phone
        session.add(citizen)
    session.flush()
    return citizen.id


def record_complaint(
    session: Session,
    draft: ComplaintDraft,
    policy: CasePolicy,
    *,
    actor: Actor,
    now: datetime,
    contact: CitizenContact = CitizenContact(),
    lapor_id: str | None = None,
) -> Case:
    """Record a complaint received at the counter, by phone or by letter as a new case of a
    unit the actor handles; the `created` event names the actor. Every field is checked
    before anything is stored."""
    actor.require(Permission.HANDLE_CASES, draft.unit_id)
    if draft.channel not in STAFF_INTAKES:
        raise IntakeInputError(IntakeField.channel, "staff record counter, phone or letter only")
    if draft.photos or draft.latitude is not None or draft.longitude is not None:
        raise InvalidInput("a recorded complaint carries no photos or location")
    phone = normalise_phone(contact.phone or "")
    email = normalise_email(contact.email or "")
    tracking = normalise_lapor_id(lapor_id or "")
    validate_draft(session, draft, policy)
    citizen_id = _reporter(session, phone, email, now=now)
    return open_case(
        session,
        draft,
        policy,
        citizen_id=citizen_id,
        who=EventActor(ActorKind.user, actor.user_id),
        now=now,
        lapor_id=tracking,
    )


@dataclass(frozen=True)
class IntakeUnit:
    """A unit the actor may record complaints for, with its active officers and services."""

    unit: Unit
    officers: Sequence[Officer]
    services: Sequence[Service]


def intake_choices(session: Session, *, actor: Actor) -> list[IntakeUnit]:
    """The active units (by name) where the actor may record a complaint, each with what a
    complaint may name."""
    stmt = select(Unit).where(Unit.active == True).order_by(col(Unit.name))  # noqa: E712
    scope = actor.unit_scope()
    if scope is not None:
        stmt = stmt.where(col(Unit.id).in_(scope or {-1}))
    units = [u for u in session.exec(stmt).all() if actor.may(Permission.HANDLE_CASES, u.id)]
    ids = [u.id for u in units]
    officers = session.exec(
        select(Officer)
        .where(col(Officer.unit_id).in_(ids or [-1]), Officer.active == True)  # noqa: E712
        .order_by(col(Officer.name), col(Officer.id))
    ).all()
    services = session.exec(
        select(Service)
        .where(col(Service.unit_id).in_(ids or [-1]), Service.active == True)  # noqa: E712
        .order_by(col(Service.name), col(Service.id))
    ).all()
    return [
        IntakeUnit(
            unit=u,
            officers=[o for o in officers if o.unit_id == u.id],
            services=[s for s in services if s.unit_id == u.id],
        )
        for u in units
    ]
