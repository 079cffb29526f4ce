"""What a page about evaluation periods needs besides the service API: the units a period
covers by code and name, the units a user may create a period for, and what stands between a
period and finalizing it (shown before the user confirms)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from core.access import Actor, Permission
from core.evaluations.decisions import MissingDecision, missing_decisions, period_has_ended
from core.evaluations.models import EvaluationPeriod, EvaluationPeriodUnit
from core.evaluations.periods import may_evaluate, period_units, require_writable
from core.masterdata.models import Unit
from core.masterdata.service import list_units
from core.shared.errors import DomainError


@dataclass(frozen=True)
class UnitLabel:
    id: int
    code: str
    name: str


def units_of_periods(
    session: Session, periods: Sequence[EvaluationPeriod]
) -> dict[int, list[UnitLabel]]:
    """Each period's units (by period id), sorted by code: one query for all periods."""
    ids = [p.id for p in periods if p.id is not None]
    out: dict[int, list[UnitLabel]] = {i: [] for i in ids}
    if not ids:
        return out
    stmt = (
        sa_select(col(EvaluationPeriodUnit.period_id), col(Unit.id), col(Unit.code), col(Unit.name))
        .join(Unit, col(Unit.id) == col(EvaluationPeriodUnit.unit_id))
        .where(col(EvaluationPeriodUnit.period_id).in_(ids))
        .order_by(col(Unit.code))
    )
    for period_id, unit_id, code, name in session.execute(stmt):
        out[int(period_id)].append(UnitLabel(int(unit_id), str(code), str(name)))
    return out


def evaluable_units(session: Session, *, actor: Actor) -> list[UnitLabel]:
    """The active units `actor` may create a period for (`EVALUATE` and every case open)."""
    if not actor.has(Permission.EVALUATE):
        return []
    return [
        UnitLabel(u.id or 0, u.code, u.name)
        for u in list_units(session, actor.unit_scope())
        if may_evaluate([u.id or 0], actor=actor)
    ]


def may_write(session: Session, period: EvaluationPeriod, *, actor: Actor) -> bool:
    """`actor` may compute, decide and finalize this period now (core's own check)."""
    try:
        require_writable(session, period, actor=actor)
    except DomainError:
        return False
    return True


@dataclass(frozen=True)
class FinalizeCheck:
    """Before finalizing: who still lacks what, whether the period has ended, and whether
    this user may finalize it before it ends (with a reason)."""

    missing: list[MissingDecision]
    ended: bool
    may_finalize_early: bool
    computed: bool


def finalize_check(
    session: Session, period: EvaluationPeriod, *, actor: Actor, tz: ZoneInfo, now: datetime
) -> FinalizeCheck:
    require_writable(session, period, actor=actor)
    return FinalizeCheck(
        missing=missing_decisions(session, period),
        ended=period_has_ended(period, tz, now=now),
        may_finalize_early=actor.has(Permission.FINALIZE_EARLY),
        computed=period.computed_at is not None,
    )


def unit_ids_of(session: Session, period: EvaluationPeriod) -> list[int]:
    return period_units(session, period)
