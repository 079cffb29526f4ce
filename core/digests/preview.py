"""Who may read a unit's digest before it is sent, and the preview itself.

A unit head previews the digest of their own unit for any week, exactly as it reaches them
(the figures over the cases they may open); an admin previews any unit's, and may send it now
(`MANAGE_DIGESTS`). Anyone else: the unit answers as if it did not exist, or is refused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core.access import Actor, Permission
from core.digests.figures import DigestData, IsoWeek, build_digest
from core.masterdata.models import Unit
from core.masterdata.service import visible_unit
from core.shared.errors import Forbidden


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
) -> tuple[Unit, DigestData]:
    """The unit's digest for the week as `actor` would receive it."""
    unit = visible_unit(session, code, actor=actor)
    if not may_preview_digest(actor=actor, unit_id=unit.id):
        raise Forbidden("only the unit's heads and admins may preview its digest")
    data = build_digest(
        session, unit, week, tz, default_population, actor=actor, now=now,
        min_responses=min_responses,
    )  # fmt: skip
    return unit, data
