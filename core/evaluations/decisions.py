"""The assessor's decisions: confirm or override the behaviour level, the work results (one by
one or imported as CSV), and finalizing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from core.access import Actor
from core.evaluations.compute import evaluations
from core.evaluations.models import (
    EvaluationPeriod,
    Level,
    OfficerEvaluation,
    PeriodStatus,
)
from core.evaluations.periods import audit_event, require_writable
from core.evaluations.rules import parse_level, rating
from core.shared.clock import utcnow
from core.shared.csv_input import read_csv
from core.shared.errors import Conflict, InvalidInput, NotFound


def load_evaluation(
    session: Session, period: EvaluationPeriod, evaluation_id: int
) -> OfficerEvaluation:
    row = session.get(OfficerEvaluation, evaluation_id)
    if row is None or row.period_id != period.id:
        raise NotFound(f"officer evaluation {evaluation_id} is not in this period")
    return row


def _refresh_rating(row: OfficerEvaluation) -> None:
    if row.behaviour_level and row.results_level:
        row.rating = rating(Level(row.results_level), Level(row.behaviour_level))
    else:
        row.rating = None


def decide_behaviour(
    session: Session,
    period: EvaluationPeriod,
    evaluation_id: int,
    level: Level | None,
    reason: str | None = None,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> OfficerEvaluation:
    """Confirm the suggestion (level None or equal to it) or override it with a reason."""
    now = now or utcnow()
    require_writable(session, period, actor=actor)
    row = load_evaluation(session, period, evaluation_id)
    chosen = level or Level(row.suggested_level)
    if chosen.value == row.suggested_level:
        row.behaviour_level, row.override_reason = chosen.value, None
        audit_event(session, period, "confirmed", chosen.value, row, actor=actor, now=now)
    else:
        text = (reason or "").strip()
        if not text:
            raise InvalidInput("overriding the suggested behaviour level needs a reason")
        if len(text) > 2000:
            raise InvalidInput("the reason must be at most 2000 characters")
        row.behaviour_level, row.override_reason = chosen.value, text
        audit_event(
            session,
            period,
            "overridden",
            f"{row.suggested_level} -> {chosen.value}: {text}",
            row,
            actor=actor,
            now=now,
        )
    row.decided_by, row.decided_at, row.updated_at = actor.user_id or None, now, now
    _refresh_rating(row)
    session.add(row)
    session.flush()
    return row


def set_results_level(
    session: Session,
    period: EvaluationPeriod,
    evaluation_id: int,
    level: Level,
    *,
    actor: Actor,
    now: datetime | None = None,
    source: str = "entered",
) -> OfficerEvaluation:
    now = now or utcnow()
    require_writable(session, period, actor=actor)
    row = load_evaluation(session, period, evaluation_id)
    row.results_level = level.value
    row.updated_at = now
    _refresh_rating(row)
    session.add(row)
    audit_event(
        session, period, "results_set", f"{level.value} ({source})", row, actor=actor, now=now
    )
    session.flush()
    return row


@dataclass(frozen=True)
class ImportError_:
    row: int
    column: str
    reason: str


def import_results(
    session: Session, period: EvaluationPeriod, raw: bytes, *, actor: Actor
) -> tuple[int, list[ImportError_]]:
    """CSV `nip,results_level`: all rows or none; every bad row reported."""
    require_writable(session, period, actor=actor)
    try:
        header, records = read_csv(raw)
    except ValueError as exc:
        return 0, [ImportError_(0, "", str(exc))]
    if "nip" not in header or "results_level" not in header:
        return 0, [ImportError_(1, "nip,results_level", "required column missing")]
    by_nip = {row.nip: row for row in evaluations(session, period)}
    errors: list[ImportError_] = []
    wanted: list[tuple[OfficerEvaluation, Level]] = []
    seen: dict[str, int] = {}
    for line, record in records:
        if "" in record:
            errors.append(ImportError_(line, "", record[""]))
            continue
        nip = record.get("nip", "").replace(" ", "")
        raw_level = record.get("results_level", "")
        row = by_nip.get(nip)
        if row is None:
            errors.append(ImportError_(line, "nip", "no officer with this NIP in the period"))
        elif nip in seen:
            errors.append(ImportError_(line, "nip", f"the same NIP is already on row {seen[nip]}"))
        try:
            level = parse_level(raw_level)
        except InvalidInput as exc:
            errors.append(ImportError_(line, "results_level", exc.message))
            continue
        if row is not None and nip not in seen:
            seen[nip] = line
            wanted.append((row, level))
    if errors:
        return 0, errors
    for row, level in wanted:
        assert row.id is not None
        set_results_level(session, period, row.id, level, actor=actor, source="imported")
    return len(wanted), []


def finalize(
    session: Session, period: EvaluationPeriod, *, actor: Actor, now: datetime | None = None
) -> EvaluationPeriod:
    """Freeze the period. Refused while any officer lacks a decision."""
    now = now or utcnow()
    require_writable(session, period, actor=actor)
    rows = evaluations(session, period)
    if period.computed_at is None or not rows:
        raise Conflict("compute the period before finalizing it")
    missing = [r for r in rows if not (r.behaviour_level and r.results_level)]
    if missing:
        names = ", ".join(r.officer_name for r in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise Conflict(f"{len(missing)} officer(s) still need a decision: {names}{more}")
    period.status = PeriodStatus.finalized.value
    period.finalized_at = now
    period.finalized_by = actor.user_id or None
    session.add(period)
    audit_event(session, period, "finalized", f"{len(rows)} officers", actor=actor, now=now)
    session.flush()
    return period
