"""Units, services and officers: create, update, deactivate, list with filters."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Sequence

from pydantic import StrictInt, field_validator
from sqlalchemy import func, or_
from sqlmodel import Field, Session, SQLModel, col, select

from core.access import Actor, Permission
from core.masterdata.models import Officer, Service, Unit
from core.masterdata.nip import InvalidNip, validate_nip
from core.shared.errors import Conflict, Forbidden, InvalidInput, NotFound

UNIT_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# The people a unit serves: at least one (the Krejcie-Morgan sample needs it), at most 300
# million (more than Indonesia's population). Checked at input, so no stored value can break
# the scores, the SKM report or the digest.
MIN_SERVICE_POPULATION = 1
MAX_SERVICE_POPULATION = 300_000_000
POPULATION_DESCRIPTION = (
    f"people the unit serves, {MIN_SERVICE_POPULATION}-{MAX_SERVICE_POPULATION:_}; "
    "null: the configured default"
)
PUBLIC_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def clean_text(value: str) -> str:
    """Control characters and lone surrogates removed, whitespace collapsed."""
    kept = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cs"))
    return " ".join(kept.split())


def _clean_name(value: str) -> str:
    value = clean_text(value)
    if not value:
        raise ValueError("must not be empty")
    return value


class UnitCreate(SQLModel):
    code: str
    name: str
    parent_code: str | None = None
    service_population: StrictInt | None = Field(
        default=None,
        ge=MIN_SERVICE_POPULATION,
        le=MAX_SERVICE_POPULATION,
        description=POPULATION_DESCRIPTION,
    )

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        v = v.strip().lower()
        if not UNIT_CODE_RE.match(v):
            raise ValueError("use 1-40 lowercase letters, digits or '-', starting with a letter")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _clean_name(v)[:200]


class UnitUpdate(SQLModel):
    name: str | None = None
    service_population: StrictInt | None = Field(
        default=None,
        ge=MIN_SERVICE_POPULATION,
        le=MAX_SERVICE_POPULATION,
        description=POPULATION_DESCRIPTION,
    )
    active: bool | None = None
    parent_code: str | None = Field(
        default=None,
        max_length=80,
        description=(
            "the parent unit's code; empty or null: top level; left out: unchanged "
            "(admins only: a unit's place in the tree)"
        ),
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else _clean_name(v)[:200]

    @field_validator("parent_code")
    @classmethod
    def _parent_code(cls, v: str | None) -> str | None:
        return None if v is None else v.strip().lower()


class ServiceCreate(SQLModel):
    unit_code: str
    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _clean_name(v)[:200]


class ServiceUpdate(SQLModel):
    name: str | None = None
    active: bool | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else _clean_name(v)[:200]


class OfficerCreate(SQLModel):
    nip: str
    name: str
    position: str = ""
    unit_code: str

    @field_validator("nip")
    @classmethod
    def _nip(cls, v: str) -> str:
        try:
            return validate_nip(v)
        except InvalidNip as exc:
            raise ValueError(str(exc)) from None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _clean_name(v)[:200]

    @field_validator("position")
    @classmethod
    def _position(cls, v: str) -> str:
        return clean_text(v)[:200]


class OfficerUpdate(SQLModel):
    name: str | None = None
    position: str | None = None
    unit_code: str | None = None
    active: bool | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else _clean_name(v)[:200]


def new_public_code(length: int = 8) -> str:
    return "".join(secrets.choice(PUBLIC_CODE_ALPHABET) for _ in range(length))


# Units ------------------------------------------------------------------------------------


def get_unit_by_code(session: Session, code: str) -> Unit:
    unit = session.exec(select(Unit).where(Unit.code == code.strip().lower())).first()
    if unit is None:
        raise NotFound(f"unit {code!r} does not exist")
    return unit


def get_unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist")
    return unit


# Lookups on behalf of a user. What lies outside the user's units answers exactly as what
# does not exist (the same NotFound, word for word): a 403 would tell them it exists.


def visible_unit(session: Session, code: str, *, actor: Actor) -> Unit:
    """The unit with this code, if `actor` may see it; else NotFound as for an unknown code."""
    unit = session.exec(select(Unit).where(Unit.code == code.strip().lower())).first()
    if unit is None or unit.id is None or not actor.can_see_unit(unit.id):
        raise NotFound(f"unit {code!r} does not exist")
    return unit


def visible_service(session: Session, service_id: int, *, actor: Actor) -> Service:
    """The service, if `actor` may see its unit; else NotFound as for an unknown id."""
    service = session.get(Service, service_id)
    if service is None or not actor.can_see_unit(service.unit_id):
        raise NotFound(f"service {service_id} does not exist")
    return service


def visible_officer(session: Session, officer_id: int, *, actor: Actor) -> Officer:
    """The officer, if `actor` may see their unit; else NotFound as for an unknown id."""
    officer = session.get(Officer, officer_id)
    if officer is None or not actor.can_see_unit(officer.unit_id):
        raise NotFound(f"officer {officer_id} does not exist")
    return officer


def list_units(
    session: Session,
    scope: frozenset[int] | None,
    *,
    active: bool | None = True,
    q: str | None = None,
) -> Sequence[Unit]:
    stmt = select(Unit).order_by(Unit.name)
    if scope is not None:
        stmt = stmt.where(col(Unit.id).in_(scope))
    if active is not None:
        stmt = stmt.where(Unit.active == active)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Unit.name).like(like), col(Unit.code).like(like)))
    return session.exec(stmt).all()


def create_unit(session: Session, data: UnitCreate, *, actor: Actor) -> Unit:
    actor.require_admin()
    if session.exec(select(Unit).where(Unit.code == data.code)).first():
        raise Conflict(f"unit code {data.code!r} is already used")
    parent_id = get_unit_by_code(session, data.parent_code).id if data.parent_code else None
    unit = Unit(
        code=data.code,
        name=data.name,
        parent_id=parent_id,
        service_population=data.service_population,
    )
    session.add(unit)
    session.flush()
    return unit


def update_unit(session: Session, code: str, data: UnitUpdate, *, actor: Actor) -> Unit:
    """Change a unit's name, service population, state or parent. The state and the parent
    (the unit tree) are for those who may create units (`Permission.MANAGE_UNITS`)."""
    unit = visible_unit(session, code, actor=actor)
    actor.require_write(unit.id)
    if data.active is not None:
        actor.require_admin()
    changes = data.model_dump(exclude_unset=True)
    if "parent_code" in changes:
        actor.require(Permission.MANAGE_UNITS)
        unit.parent_id = _new_parent_id(session, unit, changes.pop("parent_code") or None)
    for key, value in changes.items():
        if value is not None or key == "service_population":
            setattr(unit, key, value)
    session.add(unit)
    session.flush()
    return unit


def _new_parent_id(session: Session, unit: Unit, parent_code: str | None) -> int | None:
    """The id of the unit named to be `unit`'s parent (None: top level), refused when it is
    unknown, the unit itself, or one of its descendants (the chain of parents would come back
    to the unit). The chain is read with its rows locked (PostgreSQL), so two opposite moves
    at once cannot both pass and close a circle."""
    if parent_code is None:
        return None
    if parent_code == unit.code:
        raise InvalidInput(
            "a unit cannot be its own parent", why="unit.parent_self", unit=unit.code
        )
    locked = select(Unit).with_for_update().execution_options(populate_existing=True)
    parent = session.exec(locked.where(Unit.code == parent_code)).first()
    if parent is None:
        raise InvalidInput(
            f"parent_code: no unit has the code {parent_code!r}",
            why="unit.parent_unknown",
            unit=parent_code,
        )
    seen: set[int] = set()
    above: Unit | None = parent
    while above is not None and above.id is not None and above.id not in seen:
        if above.id == unit.id:
            raise InvalidInput(
                f"{parent_code!r} lies under {unit.code!r}: the chain of parents would come "
                "back to the unit",
                why="unit.parent_cycle",
                unit=parent_code,
            )
        seen.add(above.id)
        above = (
            session.exec(locked.where(Unit.id == above.parent_id)).first()
            if above.parent_id is not None
            else None
        )
    return parent.id


# Services ---------------------------------------------------------------------------------


def list_services(
    session: Session,
    scope: frozenset[int] | None,
    *,
    unit_id: int | None = None,
    active: bool | None = True,
) -> Sequence[Service]:
    stmt = select(Service).order_by(col(Service.unit_id), col(Service.name))
    if scope is not None:
        stmt = stmt.where(col(Service.unit_id).in_(scope))
    if unit_id is not None:
        stmt = stmt.where(Service.unit_id == unit_id)
    if active is not None:
        stmt = stmt.where(Service.active == active)
    return session.exec(stmt).all()


def get_service(session: Session, service_id: int) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(f"service {service_id} does not exist")
    return service


def create_service(session: Session, data: ServiceCreate, *, actor: Actor) -> Service:
    unit = visible_unit(session, data.unit_code, actor=actor)
    assert unit.id is not None
    actor.require_write(unit.id)
    clash = session.exec(
        select(Service).where(Service.unit_id == unit.id, Service.name == data.name)
    ).first()
    if clash:
        raise Conflict(f"unit {unit.code!r} already has a service named {data.name!r}")
    service = Service(unit_id=unit.id, name=data.name)
    session.add(service)
    session.flush()
    return service


def update_service(
    session: Session, service_id: int, data: ServiceUpdate, *, actor: Actor
) -> Service:
    service = visible_service(session, service_id, actor=actor)
    actor.require_write(service.unit_id)
    if data.name is not None and data.name != service.name:
        clash = session.exec(
            select(Service).where(Service.unit_id == service.unit_id, Service.name == data.name)
        ).first()
        if clash:
            raise Conflict(f"this unit already has a service named {data.name!r}")
    for key, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(service, key, value)
    session.add(service)
    session.flush()
    return service


# Officers ---------------------------------------------------------------------------------


def list_officers(
    session: Session,
    scope: frozenset[int] | None,
    *,
    unit_id: int | None = None,
    active: bool | None = True,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Officer]:
    stmt = select(Officer).order_by(col(Officer.name), col(Officer.id))
    if scope is not None:
        stmt = stmt.where(col(Officer.unit_id).in_(scope))
    if unit_id is not None:
        stmt = stmt.where(Officer.unit_id == unit_id)
    if active is not None:
        stmt = stmt.where(Officer.active == active)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Officer.name).like(like), col(Officer.nip).like(like)))
    return session.exec(stmt.limit(limit).offset(offset)).all()


def get_officer(session: Session, officer_id: int) -> Officer:
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise NotFound(f"officer {officer_id} does not exist")
    return officer


def create_officer(session: Session, data: OfficerCreate, *, actor: Actor) -> Officer:
    unit = visible_unit(session, data.unit_code, actor=actor)
    assert unit.id is not None
    actor.require_write(unit.id)
    if session.exec(select(Officer).where(Officer.nip == data.nip)).first():
        raise Conflict("an officer with this NIP already exists")
    officer = Officer(
        nip=data.nip,
        name=data.name,
        position=data.position,
        unit_id=unit.id,
        public_code=new_public_code(),
    )
    session.add(officer)
    session.flush()
    return officer


def update_officer(
    session: Session, officer_id: int, data: OfficerUpdate, *, actor: Actor
) -> Officer:
    officer = visible_officer(session, officer_id, actor=actor)
    actor.require_write(officer.unit_id)
    if officer.id == actor.officer_id:
        raise Forbidden("you may not change your own officer record; ask another supervisor")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    unit_code = changes.pop("unit_code", None)
    if unit_code is not None:
        unit = visible_unit(session, unit_code, actor=actor)
        assert unit.id is not None
        actor.require_write(unit.id)
        officer.unit_id = unit.id
    if "position" in changes:
        changes["position"] = clean_text(str(changes["position"]))[:200]
    for key, value in changes.items():
        setattr(officer, key, value)
    session.add(officer)
    session.flush()
    return officer


def require_active_unit(session: Session, unit_id: int) -> Unit:
    unit = get_unit(session, unit_id)
    if not unit.active:
        raise InvalidInput("this unit no longer takes feedback")
    return unit


# What a citizen may choose from -----------------------------------------------------------


def active_officers(
    session: Session, unit_id: int, *, offset: int = 0, limit: int | None = None
) -> Sequence[Officer]:
    """The unit's active officers a citizen may name, by name (one page with offset/limit)."""
    stmt = (
        select(Officer)
        .where(Officer.unit_id == unit_id, Officer.active == True)  # noqa: E712
        .order_by(col(Officer.name), col(Officer.id))
        .offset(offset)
    )
    return session.exec(stmt if limit is None else stmt.limit(limit)).all()


def active_services(
    session: Session, unit_id: int, *, limit: int | None = None
) -> Sequence[Service]:
    """The unit's active services a citizen may choose, by name."""
    stmt = (
        select(Service)
        .where(Service.unit_id == unit_id, Service.active == True)  # noqa: E712
        .order_by(col(Service.name), col(Service.id))
    )
    return session.exec(stmt if limit is None else stmt.limit(limit)).all()


def offered_officer(session: Session, unit_id: int, officer_id: int) -> Officer | None:
    """The officer, if a citizen may choose them for this unit (active, serving in it)."""
    officer = session.get(Officer, officer_id)
    if officer is None or officer.unit_id != unit_id or not officer.active:
        return None
    return officer


def offered_service(session: Session, unit_id: int, service_id: int) -> Service | None:
    """The service, if a citizen may choose it for this unit (active, of this unit)."""
    service = session.get(Service, service_id)
    if service is None or service.unit_id != unit_id or not service.active:
        return None
    return service


def offered_unit(session: Session, unit_id: int) -> Unit | None:
    """The unit, if it takes feedback (the rule of require_active_unit, without raising)."""
    try:
        return require_active_unit(session, unit_id)
    except (NotFound, InvalidInput):
        return None
