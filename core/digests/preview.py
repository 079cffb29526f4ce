"""Who may read a unit's digest before it is sent, and the preview itself.

A unit head previews the digest of their own unit for any week, exactly as it reaches them
(the figures over the cases they may open); an admin previews any unit's, and may send it now
(`MANAGE_DIGESTS`). Anyone else: the unit answers as if it did not exist, or is refused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core.access import Actor, Permission, actor_for, may_open_every_case
from core.digests.delivery import digest_recipients
from core.digests.figures import DigestData, IsoWeek, build_digest
from core.masterdata.models import Unit
from core.masterdata.service import visible_unit
from core.people.models import AppUser
from core.shared.errors import Forbidden, NotFound


def may_preview_digest(*, actor: Actor, unit_id: int | None = None) -> bool:
    """Manages digests (admins), or receives this unit's digest (its unit heads)."""
    return actor.may(Permission.MANAGE_DIGESTS, unit_id) or actor.may(
        Permission.RECEIVE_DIGEST, unit_id
    )


def may_send_digest(*, actor: Actor, unit_id: int | None = None) -> bool:
    return actor.may(Permission.MANAGE_DIGESTS, unit_id)


def previewable_units(session: Session, *, actor: Actor) -> Sequence[Unit]:
    """The active units whose digest `actor` may preview, by name."""
    if not may_preview_digest(actor=actor):
        return []
    stmt = select(Unit).where(Unit.active == True).order_by(col(Unit.name))  # noqa: E712
    scope = actor.unit_scope()
    if scope is not None:
        stmt = stmt.where(col(Unit.id).in_(scope or {-1}))
    return [u for u in session.exec(stmt).all() if may_preview_digest(actor=actor, unit_id=u.id)]


def preview_readers(session: Session, unit_id: int, *, actor: Actor) -> list[AppUser]:
    """Whose digest of the unit `actor` may preview as they receive it: its recipients, for
    one who may send it and open every case of it (an admin); nobody for anyone else."""
    if not may_send_digest(actor=actor, unit_id=unit_id) or not may_open_every_case(
        [unit_id], actor=actor
    ):
        return []
    return digest_recipients(session, unit_id)


def digest_reader(session: Session, unit: Unit, as_user: int | None, *, actor: Actor) -> Actor:
    """Whose view the preview counts: the actor's own, or (`as_user`) one of the unit's
    recipients (`preview_readers`); anyone else answers as an unknown recipient."""
    if as_user is None or as_user == actor.user_id:
        return actor
    assert unit.id is not None
    allowed = {u.id for u in preview_readers(session, unit.id, actor=actor)}
    reader = actor_for(session, as_user) if as_user in allowed else None
    if reader is None:
        raise NotFound(f"user {as_user} does not receive this unit's digest")
    return reader


def preview_digest(
    session: Session,
    code: str,
    week: IsoWeek,
    tz: ZoneInfo,
    default_population: int,
    *,
    actor: Actor,
    now: datetime,
    min_responses: int,
    as_user: int | None = None,
) -> tuple[Unit, DigestData]:
    """The unit's digest for the week as `actor` (or, for an admin, the recipient `as_user`)
    would receive it."""
    unit = visible_unit(session, code, actor=actor)
    if not may_preview_digest(actor=actor, unit_id=unit.id):
        raise Forbidden("only the unit's heads and admins may preview its digest")
    reader = digest_reader(session, unit, as_user, actor=actor)
    data = build_digest(
        session, unit, week, tz, default_population, actor=reader, now=now,
        min_responses=min_responses,
    )  # fmt: skip
    return unit, data
