"""Evaluation periods: their dates and units, who may read or evaluate them, and their audit."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import Session, col, select

from core.access import Actor, Permission, may_open_every_case
from core.cases.models import Case
from core.evaluations.models import (
    EvaluationEvent,
    EvaluationPeriod,
    EvaluationPeriodUnit,
    OfficerEvaluation,
    PeriodStatus,
)
from core.evaluations.rules import KINDS
from core.masterdata.service import visible_unit
from core.shared.clock import utcnow
from core.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.surveys.unit_scores import check_day

# Periods ----------------------------------------------------------------------------------


def period_bounds(kind: str, start: date) -> tuple[date, str]:
    """The last day and the name of a period of `kind` starting on `start`."""
    check_day(start, "the period's start")
    if kind == "monthly":
        if start.day != 1:
            raise InvalidInput(
                "a monthly period starts on the first day of a month",
                why="evaluation.start_monthly",
            )
        last = calendar.monthrange(start.year, start.month)[1]
        return date(start.year, start.month, last), f"{start:%Y-%m}"
    if kind == "quarterly":
        if start.day != 1 or start.month not in (1, 4, 7, 10):
            raise InvalidInput(
                "a quarterly period starts on 1 January, April, July or October",
                why="evaluation.start_quarterly",
            )
        end_month = start.month + 2
        last = calendar.monthrange(start.year, end_month)[1]
        return date(start.year, end_month, last), f"{start.year}-Q{(start.month + 2) // 3}"
    if kind == "annual":
        if (start.month, start.day) != (1, 1):
            raise InvalidInput(
                "an annual period starts on 1 January", why="evaluation.start_annual"
            )
        return date(start.year, 12, 31), str(start.year)
    raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", why="evaluation.bad_kind")


def period_units(session: Session, period: EvaluationPeriod) -> list[int]:
    return list(
        session.exec(
            select(EvaluationPeriodUnit.unit_id).where(EvaluationPeriodUnit.period_id == period.id)
        ).all()
    )


def _can_read(actor: Actor, unit_ids: Sequence[int]) -> bool:
    """May read the period: evaluations and the units themselves, on every unit of it."""
    if not unit_ids:
        return actor.is_global
    return all(
        actor.may(Permission.VIEW_EVALUATIONS, u) and actor.can_see_unit(u) for u in unit_ids
    )


def may_evaluate(unit_ids: Sequence[int], *, actor: Actor) -> bool:
    """Compute, decide and finalize: `EVALUATE` on every unit, and no case of them hidden."""
    return (
        bool(unit_ids)
        and all(actor.may(Permission.EVALUATE, u) for u in unit_ids)
        and may_open_every_case(unit_ids, actor=actor)
    )


def _require_evaluator(actor: Actor, unit_ids: Sequence[int]) -> None:
    if not actor.has(Permission.EVALUATE):
        raise Forbidden(f"role {actor.role.value} may only read evaluation periods")
    if not may_evaluate(unit_ids, actor=actor):
        raise Forbidden(
            "only an evaluator who may open every case of the period's units may do this "
            "(an account linked to an officer of these units may not)"
        )


def get_period(session: Session, period_id: int, *, actor: Actor) -> EvaluationPeriod:
    period = session.get(EvaluationPeriod, period_id)
    if period is None or not _can_read(actor, period_units(session, period)):
        raise NotFound(f"evaluation period {period_id} does not exist")
    return period


def involves_own_officer(session: Session, period: EvaluationPeriod, *, actor: Actor) -> bool:
    """The account's linked officer is evaluated in the period, or named by a case of its
    units, wherever that officer works now (an officer record can move between units)."""
    if actor.officer_id is None:
        return False
    if session.exec(
        select(OfficerEvaluation.id).where(
            OfficerEvaluation.period_id == period.id,
            OfficerEvaluation.officer_id == actor.officer_id,
        )
    ).first():
        return True
    named = select(Case.id).where(
        col(Case.unit_id).in_(period_units(session, period)), Case.officer_id == actor.officer_id
    )
    return session.exec(named).first() is not None


def require_writable(session: Session, period: EvaluationPeriod, *, actor: Actor) -> None:
    _require_evaluator(actor, period_units(session, period))
    if involves_own_officer(session, period, actor=actor):
        raise Forbidden("your own officer record is part of this period; another assessor decides")
    if period.status == PeriodStatus.finalized:
        raise Conflict(
            "this period is finalized and can no longer change", why="evaluation.finalized"
        )


def audit_event(
    session: Session,
    period: EvaluationPeriod,
    kind: str,
    detail: str | None = None,
    evaluation: OfficerEvaluation | None = None,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> None:
    assert period.id is not None
    session.add(
        EvaluationEvent(
            period_id=period.id,
            officer_evaluation_id=evaluation.id if evaluation else None,
            actor_user_id=actor.user_id or None,
            kind=kind,
            detail=detail,
            created_at=now or utcnow(),
        )
    )


def list_periods(session: Session, *, actor: Actor) -> list[EvaluationPeriod]:
    periods = session.exec(
        select(EvaluationPeriod).order_by(col(EvaluationPeriod.start).desc())
    ).all()
    return [p for p in periods if _can_read(actor, period_units(session, p))]


def create_period(
    session: Session, kind: str, start: date, unit_codes: Sequence[str], *, actor: Actor
) -> EvaluationPeriod:
    if not actor.has(Permission.EVALUATE):
        raise Forbidden(f"role {actor.role.value} may not create evaluation periods")
    end, name = period_bounds(kind, start)
    if not unit_codes:
        raise InvalidInput("name at least one unit", why="evaluation.no_units")
    # A unit outside the actor's scope answers as an unknown one (no existence probe).
    units = [visible_unit(session, code, actor=actor) for code in dict.fromkeys(unit_codes)]
    _require_evaluator(actor, [u.id or 0 for u in units])
    period = EvaluationPeriod(
        name=name, kind=kind, start=start, end=end, created_by=actor.user_id or None
    )
    session.add(period)
    session.flush()
    assert period.id is not None
    for unit in units:
        session.add(EvaluationPeriodUnit(period_id=period.id, unit_id=unit.id or 0))
    audit_event(
        session, period, "created", f"{name}: {', '.join(u.code for u in units)}", actor=actor
    )
    session.flush()
    return period
