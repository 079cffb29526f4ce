"""The assessor's decisions: confirm or override the behaviour level, the work results (one by
one or imported as CSV), and finalizing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from core.access import Actor, Permission
from core.evaluations.compute import evaluations
from core.evaluations.models import (
    EvaluationPeriod,
    Level,
    OfficerEvaluation,
    PeriodStatus,
)
from core.evaluations.periods import audit_event, require_writable
from core.evaluations.rules import parse_level, rating
from core.shared.clock import local_day_bounds_utc, utcnow
from core.shared.config import ZONE_NAMES
from core.shared.csv_input import CsvUnreadable, read_csv
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
            raise InvalidInput(
                "overriding the suggested behaviour level needs a reason",
                why="evaluation.reason_needed",
            )
        if len(text) > 2000:
            raise InvalidInput(
                "the reason must be at most 2000 characters", why="evaluation.reason_too_long"
            )
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
    """A bad row: `reason` in English; `why` the rule's key and `params` its values, for
    adapters that speak the user's language."""

    row: int
    column: str
    reason: str
    why: str = ""
    params: dict[str, str | int] = field(default_factory=dict)


# The level's column: the API's name, or the export's (so an edited export imports back).
RESULTS_COLUMNS = ("results_level", "hasil_kerja")


def import_results(
    session: Session, period: EvaluationPeriod, raw: bytes, *, actor: Actor
) -> tuple[int, list[ImportError_]]:
    """CSV `nip,results_level` (or `nip,hasil_kerja`), levels as e-Kinerja writes them
    (`parse_level`): all rows or none; every bad row reported."""
    require_writable(session, period, actor=actor)
    try:
        header, records = read_csv(raw)
    except CsvUnreadable as exc:
        return 0, [ImportError_(0, "", str(exc), why=exc.why)]
    level_column = next((c for c in RESULTS_COLUMNS if c in header), None)
    if "nip" not in header or level_column is None:
        return 0, [
            ImportError_(
                1,
                "nip,results_level",
                "required column missing: nip and results_level (or hasil_kerja)",
                why="evaluation.import_columns",
            )
        ]
    by_nip = {row.nip: row for row in evaluations(session, period)}
    errors: list[ImportError_] = []
    wanted: list[tuple[OfficerEvaluation, Level]] = []
    seen: dict[str, int] = {}
    for line, record in records:
        if "" in record:
            errors.append(ImportError_(line, "", record[""], why="csv.extra_fields"))
            continue
        nip = record.get("nip", "").replace(" ", "")
        raw_level = record.get(level_column, "")
        row = by_nip.get(nip)
        if row is None:
            errors.append(
                ImportError_(
                    line,
                    "nip",
                    "no officer with this NIP in the period",
                    why="evaluation.import_unknown_nip",
                )
            )
        elif nip in seen:
            errors.append(
                ImportError_(
                    line,
                    "nip",
                    f"the same NIP is already on row {seen[nip]}",
                    why="evaluation.import_duplicate",
                    params={"row": seen[nip]},
                )
            )
        try:
            level = parse_level(raw_level)
        except InvalidInput as exc:
            why, params = exc.why or "", exc.params
            errors.append(ImportError_(line, level_column, exc.message, why=why, params=params))
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


@dataclass(frozen=True)
class MissingDecision:
    """An officer whose evaluation still lacks a decision: `fields` are among
    "behaviour_level" (confirm or override the suggested behaviour) and "results_level"
    (the work-results level, entered or imported)."""

    evaluation_id: int
    officer_name: str
    nip: str
    fields: tuple[str, ...]


FIELD_WORDS = {"behaviour_level": "behaviour decision", "results_level": "work-results level"}


class DecisionsMissing(Conflict):
    """Finalizing refused: `missing` lists every officer and field still undecided."""

    def __init__(self, missing: list[MissingDecision]) -> None:
        shown = "; ".join(
            f"{m.officer_name} (NIP {m.nip}): {' and '.join(FIELD_WORDS[f] for f in m.fields)}"
            for m in missing[:10]
        )
        more = f"; and {len(missing) - 10} more (see the list)" if len(missing) > 10 else ""
        super().__init__(
            f"{len(missing)} officer(s) still need a decision before the period can be "
            f"finalized: {shown}{more}",
            why="evaluation.decisions_missing",
            n=len(missing),
        )
        self.missing = missing


def missing_decisions(
    session: Session, period: EvaluationPeriod, rows: list[OfficerEvaluation] | None = None
) -> list[MissingDecision]:
    """Every officer of the period (`rows`, when already loaded) whose behaviour decision or
    work-results level is missing, by name."""
    out = []
    for r in evaluations(session, period) if rows is None else rows:
        fields = tuple(f for f in ("behaviour_level", "results_level") if not getattr(r, f))
        if fields:
            assert r.id is not None
            out.append(MissingDecision(r.id, r.officer_name, r.nip, fields))
    return out


def period_has_ended(period: EvaluationPeriod, tz: ZoneInfo, *, now: datetime) -> bool:
    """The period's last local day is over (in the configured time zone)."""
    _, hi = local_day_bounds_utc(period.start, period.end, tz)
    return now >= hi


def finalize(
    session: Session,
    period: EvaluationPeriod,
    *,
    actor: Actor,
    tz: ZoneInfo,
    now: datetime | None = None,
    early_reason: str | None = None,
) -> EvaluationPeriod:
    """Freeze the period. Refused before the period has ended (an admin may, with a reason
    that is audited) and while any officer lacks a decision (every one named, with the
    fields missing)."""
    now = now or utcnow()
    # The period's row locked first (PostgreSQL): an officer's response, which locks it too,
    # lands before the period is frozen or is refused after.
    session.exec(
        select(EvaluationPeriod)
        .where(EvaluationPeriod.id == period.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    require_writable(session, period, actor=actor)
    rows = evaluations(session, period)
    if period.computed_at is None or not rows:
        raise Conflict("compute the period before finalizing it", why="evaluation.not_computed")
    early = not period_has_ended(period, tz, now=now)
    reason = (early_reason or "").strip()
    if early:
        ends = f"{period.end.day} {period.end:%B %Y}"
        opens = period.end + timedelta(days=1)
        zone = ZONE_NAMES.get(tz.key, tz.key)
        if not actor.has(Permission.FINALIZE_EARLY):
            raise Conflict(
                f"the period runs until {ends}: it can be finalized from "
                f"{opens.day} {opens:%B %Y} 00:00 {zone}; only an administrator may finalize "
                "it earlier, giving a reason",
                why="evaluation.period_not_ended",
            )
        if not reason:
            raise InvalidInput(
                f"the period runs until {ends}: to finalize it before it has ended, give the "
                "reason (it is kept in the period's audit trail)",
                why="evaluation.early_reason_needed",
            )
        if len(reason) > 2000:
            raise InvalidInput(
                "the reason must be at most 2000 characters", why="evaluation.reason_too_long"
            )
    missing = missing_decisions(session, period, rows)
    if missing:
        raise DecisionsMissing(missing)
    count = len(rows)
    period.status = PeriodStatus.finalized.value
    period.finalized_at = now
    period.finalized_by = actor.user_id or None
    session.add(period)
    if early:
        detail = f"{count} officers, before the period ended ({period.end.isoformat()}): {reason}"
        audit_event(session, period, "finalized_early", detail, actor=actor, now=now)
    else:
        audit_event(session, period, "finalized", f"{count} officers", actor=actor, now=now)
    session.flush()
    return period
