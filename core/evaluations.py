"""Folding citizen feedback into ASN evaluations (PermenPANRB 6/2022, DESIGN section 5).

The supervisor (Pejabat Penilai Kinerja) decides; the system supplies a frozen snapshot of
the evidence and a suggested behaviour level with its reason. A period is `open` until it is
finalized in one transaction; after that nothing about it changes.

Confidentiality (core.access): the case evidence is snapshotted twice, over every case and
over the cases that are not `rahasia`. Those who may open every case of the period's units
(`may_open_every_case`: admins, the units' supervisors) see the full evidence and the
suggestions, and they alone compute, decide and finalize (`Permission.EVALUATE`). Everyone
else who may read the period (`Permission.VIEW_EVALUATIONS`) sees case figures over the
cases they may open, no suggestion at all (a missing or changed suggestion would reveal a
hidden case), and the decisions only once the period is finalized. An account linked to an
officer never sees a figure of that officer's cases.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func
from sqlalchemy import case as sql_case
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core.access import Actor, Permission, may_open_every_case
from core.clock import local_day_bounds_utc, utcnow
from core.config import Settings
from core.csv_input import read_csv
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.i18n import ct
from core.masterdata import visible_unit
from core.models import (
    OPEN_STATUSES,
    Case,
    CaseOutcome,
    EvaluationEvent,
    EvaluationPeriod,
    EvaluationPeriodUnit,
    Level,
    Officer,
    OfficerEvaluation,
    Privacy,
)
from core.officer_scores import OfficerScore, ScorePolicy, officer_scores
from core.scores import check_day

KINDS = ("monthly", "quarterly", "annual")
SUBSTANTIATED = (CaseOutcome.substantiated.value, CaseOutcome.partly.value)

# Work results x work behaviour -> predikat (PermenPANRB 6/2022; DESIGN section 5).
MATRIX: dict[tuple[Level, Level], str] = {
    (Level.above, Level.below): "Kurang",
    (Level.above, Level.meets): "Baik",
    (Level.above, Level.above): "Sangat Baik",
    (Level.meets, Level.below): "Kurang",
    (Level.meets, Level.meets): "Baik",
    (Level.meets, Level.above): "Baik",
    (Level.below, Level.below): "Sangat Kurang",
    (Level.below, Level.meets): "Butuh Perbaikan",
    (Level.below, Level.above): "Butuh Perbaikan",
}
LEVEL_WORDS = {
    "above": "di atas ekspektasi",
    "meets": "sesuai ekspektasi",
    "below": "di bawah ekspektasi",
}
LEVEL_ALIASES = {
    "above": Level.above,
    "di atas": Level.above,
    "di atas ekspektasi": Level.above,
    "meets": Level.meets,
    "sesuai": Level.meets,
    "sesuai ekspektasi": Level.meets,
    "below": Level.below,
    "di bawah": Level.below,
    "di bawah ekspektasi": Level.below,
}


def rating(results: Level, behaviour: Level) -> str:
    """The predikat that follows from the work-results and behaviour levels."""
    return MATRIX[(results, behaviour)]


def parse_level(value: str) -> Level:
    level = LEVEL_ALIASES.get(" ".join(value.strip().lower().split()))
    if level is None:
        raise InvalidInput("use above / meets / below (or di atas / sesuai / di bawah)")
    return level


@dataclass(frozen=True)
class BehaviourPolicy:
    above_score: float = 3.5
    below_score: float = 2.5
    below_substantiated: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> BehaviourPolicy:
        return cls(
            above_score=settings.behaviour_above_score,
            below_score=settings.behaviour_below_score,
            below_substantiated=settings.behaviour_below_substantiated,
        )


@dataclass(frozen=True)
class EvaluationPolicy:
    scores: ScorePolicy = field(default_factory=ScorePolicy)
    behaviour: BehaviourPolicy = field(default_factory=BehaviourPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> EvaluationPolicy:
        return cls(ScorePolicy.from_settings(settings), BehaviourPolicy.from_settings(settings))


# The suggestion ---------------------------------------------------------------------------


def _num(value: float, lang: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "id" else text


def _relation(score: OfficerScore) -> str:
    if score.shrunk > score.unit_mean + 0.005:
        return "above"
    return "below" if score.shrunk < score.unit_mean - 0.005 else "equal"


def _reason(score: OfficerScore, substantiated: int, lang: str) -> str:
    """Why the suggestion, in words (core's catalog: Indonesian and English)."""
    head = ct(lang, "reason.response_one" if score.n == 1 else "reason.responses", n=score.n)
    if score.insufficient:
        head += ct(lang, "reason.insufficient")
    text = ct(
        lang,
        "reason.score",
        head=head,
        score=_num(score.shrunk, lang),
        low=_num(score.low, lang),
        high=_num(score.high, lang),
        relation=ct(lang, f"reason.{_relation(score)}"),
        mean=_num(score.unit_mean, lang),
    )
    if substantiated == 0:
        return text + ct(lang, "reason.no_complaint")
    complaints = "reason.complaint_one" if substantiated == 1 else "reason.complaints"
    return text + ct(lang, complaints, n=substantiated)


def suggest(score: OfficerScore, substantiated: int, policy: BehaviourPolicy) -> Level:
    if substantiated >= policy.below_substantiated:
        return Level.below
    if not score.insufficient and score.shrunk < policy.below_score:
        return Level.below
    if (
        not score.insufficient
        and substantiated == 0
        and score.shrunk >= policy.above_score
        and score.low > score.unit_mean
    ):
        return Level.above
    return Level.meets


# Periods ----------------------------------------------------------------------------------


def period_bounds(kind: str, start: date) -> tuple[date, str]:
    """The last day and the name of a period of `kind` starting on `start`."""
    check_day(start, "the period's start")
    if kind == "monthly":
        if start.day != 1:
            raise InvalidInput("a monthly period starts on the first day of a month")
        last = calendar.monthrange(start.year, start.month)[1]
        return date(start.year, start.month, last), f"{start:%Y-%m}"
    if kind == "quarterly":
        if start.day != 1 or start.month not in (1, 4, 7, 10):
            raise InvalidInput("a quarterly period starts on 1 January, April, July or October")
        end_month = start.month + 2
        last = calendar.monthrange(start.year, end_month)[1]
        return date(start.year, end_month, last), f"{start.year}-Q{(start.month + 2) // 3}"
    if kind == "annual":
        if (start.month, start.day) != (1, 1):
            raise InvalidInput("an annual period starts on 1 January")
        return date(start.year, 12, 31), str(start.year)
    raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")


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


def may_evaluate(actor: Actor, unit_ids: Sequence[int]) -> bool:
    """Compute, decide and finalize: `EVALUATE` on every unit, and no case of them hidden."""
    return (
        bool(unit_ids)
        and all(actor.may(Permission.EVALUATE, u) for u in unit_ids)
        and may_open_every_case(actor, unit_ids)
    )


def _require_evaluator(actor: Actor, unit_ids: Sequence[int]) -> None:
    if not actor.has(Permission.EVALUATE):
        raise Forbidden(f"role {actor.role.value} may only read evaluation periods")
    if not may_evaluate(actor, unit_ids):
        raise Forbidden(
            "only an evaluator who may open every case of the period's units may do this "
            "(an account linked to an officer of these units may not)"
        )


def get_period(session: Session, actor: Actor, period_id: int) -> EvaluationPeriod:
    period = session.get(EvaluationPeriod, period_id)
    if period is None or not _can_read(actor, period_units(session, period)):
        raise NotFound(f"evaluation period {period_id} does not exist")
    return period


def _require_write(session: Session, actor: Actor, period: EvaluationPeriod) -> None:
    _require_evaluator(actor, period_units(session, period))
    if period.status == "finalized":
        raise Conflict("this period is finalized and can no longer change")


def _audit(
    session: Session,
    actor: Actor,
    period: EvaluationPeriod,
    kind: str,
    detail: str | None = None,
    evaluation: OfficerEvaluation | None = None,
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


def list_periods(session: Session, actor: Actor) -> list[EvaluationPeriod]:
    periods = session.exec(
        select(EvaluationPeriod).order_by(col(EvaluationPeriod.start).desc())
    ).all()
    return [p for p in periods if _can_read(actor, period_units(session, p))]


def create_period(
    session: Session, actor: Actor, kind: str, start: date, unit_codes: Sequence[str]
) -> EvaluationPeriod:
    if not actor.has(Permission.EVALUATE):
        raise Forbidden(f"role {actor.role.value} may not create evaluation periods")
    end, name = period_bounds(kind, start)
    if not unit_codes:
        raise InvalidInput("name at least one unit")
    # A unit outside the actor's scope answers as an unknown one (no existence probe).
    units = [visible_unit(session, actor, code) for code in dict.fromkeys(unit_codes)]
    _require_evaluator(actor, [u.id or 0 for u in units])
    period = EvaluationPeriod(
        name=name, kind=kind, start=start, end=end, created_by=actor.user_id or None
    )
    session.add(period)
    session.flush()
    assert period.id is not None
    for unit in units:
        session.add(EvaluationPeriodUnit(period_id=period.id, unit_id=unit.id or 0))
    _audit(session, actor, period, "created", f"{name}: {', '.join(u.code for u in units)}")
    session.flush()
    return period


@dataclass(frozen=True)
class CaseEvidence:
    received: int = 0
    substantiated: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class OfficerCases:
    """An officer's case evidence over every case, and over the non-confidential ones."""

    all: CaseEvidence = field(default_factory=CaseEvidence)
    nonconf: CaseEvidence = field(default_factory=CaseEvidence)


def _case_evidence(
    session: Session, unit_ids: Sequence[int], lo: datetime, hi: datetime, cutoff: datetime
) -> dict[int, OfficerCases]:
    """Per officer of the units: complaints of these units received in the period, how many
    substantiated, how many of them are overdue at `cutoff`; each over every case and over
    the cases that are not `rahasia`. One GROUP BY over (officer_id, received_at).

    Only cases of the period's units count (a case forwarded to another unit is not
    evidence here): whoever may read the period may see those units' cases."""
    open_values = [s.value for s in OPEN_STATUSES]
    substantiated = col(Case.outcome).in_(SUBSTANTIATED)
    late = and_(col(Case.status).in_(open_values), col(Case.due_at) < cutoff)
    nonconf = col(Case.privacy) != Privacy.rahasia.value

    def total(condition: Any) -> Any:
        return func.sum(sql_case((condition, 1), else_=0))

    stmt = (
        sa_select(
            col(Case.officer_id),
            func.count(),
            total(substantiated),
            total(late),
            total(nonconf),
            total(and_(substantiated, nonconf)),
            total(and_(late, nonconf)),
        )
        .join(Officer, col(Officer.id) == col(Case.officer_id))
        .where(
            col(Officer.unit_id).in_(unit_ids),
            col(Case.unit_id).in_(unit_ids),
            col(Case.received_at) >= lo,
            col(Case.received_at) < hi,
        )
        .group_by(col(Case.officer_id))
    )
    return {
        int(officer_id or 0): OfficerCases(
            CaseEvidence(int(n), int(sub or 0), int(overdue or 0)),
            CaseEvidence(int(n_nc or 0), int(sub_nc or 0), int(overdue_nc or 0)),
        )
        for officer_id, n, sub, overdue, n_nc, sub_nc, overdue_nc in session.execute(stmt)
    }


def compute_period(
    session: Session,
    actor: Actor,
    period: EvaluationPeriod,
    policy: EvaluationPolicy,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> int:
    """Create or refresh each officer's draft; the supervisor's decisions are kept."""
    now = now or utcnow()
    _require_write(session, actor, period)
    unit_ids = period_units(session, period)
    lo, hi = local_day_bounds_utc(period.start, period.end, tz)
    existing = {
        e.officer_id: e
        for e in session.exec(
            select(OfficerEvaluation).where(OfficerEvaluation.period_id == period.id)
        ).all()
    }
    officers = list(
        session.exec(
            select(Officer).where(
                col(Officer.unit_id).in_(unit_ids),
                (col(Officer.active) == True) | col(Officer.id).in_(list(existing)),  # noqa: E712
            )
        ).all()
    )
    scores = officer_scores(
        session, [(o.id or 0, o.unit_id) for o in officers], lo, hi, policy.scores
    )
    evidence = _case_evidence(session, unit_ids, lo, hi, min(now, hi))
    assert period.id is not None
    for officer in officers:
        assert officer.id is not None
        score = scores[officer.id]
        found = evidence.get(officer.id, OfficerCases())
        cases, nonconf = found.all, found.nonconf
        level = suggest(score, cases.substantiated, policy.behaviour)
        row = existing.get(officer.id) or OfficerEvaluation(
            period_id=period.id,
            officer_id=officer.id,
            nip=officer.nip,
            officer_name=officer.name,
            unit_id=officer.unit_id,
            score=0,
            score_low=0,
            score_high=0,
            unit_mean=0,
            insufficient=True,
            suggested_level=level.value,
            suggestion_reason="",
            suggestion_reason_en="",
        )
        row.nip, row.officer_name, row.unit_id = officer.nip, officer.name, officer.unit_id
        row.survey_n = score.n
        row.raw_mean = score.raw_mean
        row.score, row.score_low, row.score_high = score.shrunk, score.low, score.high
        row.unit_mean = score.unit_mean
        row.insufficient = score.insufficient
        row.complaints_received = cases.received
        row.complaints_substantiated = cases.substantiated
        row.cases_overdue = cases.overdue
        row.nonconf_complaints_received = nonconf.received
        row.nonconf_complaints_substantiated = nonconf.substantiated
        row.nonconf_cases_overdue = nonconf.overdue
        row.suggested_level = level.value
        row.suggestion_reason = _reason(score, cases.substantiated, "id")
        row.suggestion_reason_en = _reason(score, cases.substantiated, "en")
        row.updated_at = now
        session.add(row)
    period.computed_at = now
    session.add(period)
    _audit(session, actor, period, "computed", f"{len(officers)} officers", now=now)
    session.flush()
    return len(officers)


def evaluations(session: Session, period: EvaluationPeriod) -> list[OfficerEvaluation]:
    return list(
        session.exec(
            select(OfficerEvaluation)
            .where(OfficerEvaluation.period_id == period.id)
            .order_by(col(OfficerEvaluation.officer_name), col(OfficerEvaluation.nip))
        ).all()
    )


# What a reader sees ------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationView:
    """One officer's evaluation as `actor` may see it (see the module's docstring)."""

    id: int
    officer_id: int
    nip: str
    officer_name: str
    unit_id: int
    survey_n: int
    raw_mean: float | None
    score: float
    score_low: float
    score_high: float
    unit_mean: float
    insufficient: bool
    complaints_received: int
    complaints_substantiated: int
    cases_overdue: int
    suggested_level: str | None
    suggestion_reason: str | None
    suggestion_reason_en: str | None
    behaviour_level: str | None
    override_reason: str | None
    results_level: str | None
    rating: str | None


def sees_full_evidence(session: Session, actor: Actor, period: EvaluationPeriod) -> bool:
    """Every case of the period's units is open to `actor`: full evidence and suggestions."""
    return may_open_every_case(actor, period_units(session, period))


def _case_figures(row: OfficerEvaluation, actor: Actor, confidential: bool) -> tuple[int, int, int]:
    """Received, substantiated, overdue over the cases `actor` may open."""
    if actor.officer_id is not None and row.officer_id == actor.officer_id:
        return 0, 0, 0  # every case naming one's own officer is hidden from the account
    if confidential:
        return row.complaints_received, row.complaints_substantiated, row.cases_overdue
    return (
        row.nonconf_complaints_received,
        row.nonconf_complaints_substantiated,
        row.nonconf_cases_overdue,
    )


def _view(
    row: OfficerEvaluation, actor: Actor, full: bool, confidential: bool, finalized: bool
) -> EvaluationView:
    suggestion = full and row.officer_id != actor.officer_id
    decisions = full or finalized
    received, substantiated, overdue = _case_figures(row, actor, confidential)
    assert row.id is not None
    return EvaluationView(
        id=row.id,
        officer_id=row.officer_id,
        nip=row.nip,
        officer_name=row.officer_name,
        unit_id=row.unit_id,
        survey_n=row.survey_n,
        raw_mean=row.raw_mean,
        score=row.score,
        score_low=row.score_low,
        score_high=row.score_high,
        unit_mean=row.unit_mean,
        insufficient=row.insufficient,
        complaints_received=received,
        complaints_substantiated=substantiated,
        cases_overdue=overdue,
        suggested_level=row.suggested_level if suggestion else None,
        suggestion_reason=row.suggestion_reason if suggestion else None,
        suggestion_reason_en=row.suggestion_reason_en if suggestion else None,
        behaviour_level=row.behaviour_level if decisions else None,
        # An override's reason tells whether the decision differs from the suggestion.
        override_reason=row.override_reason if suggestion else None,
        results_level=row.results_level if decisions else None,
        rating=row.rating if decisions else None,
    )


def evaluation_views(
    session: Session, actor: Actor, period: EvaluationPeriod
) -> list[EvaluationView]:
    """The period's officers as `actor` may see them: case figures over the cases they may
    open, suggestions only with full evidence, decisions once finalized (or to evaluators)."""
    unit_ids = period_units(session, period)
    full = may_open_every_case(actor, unit_ids)
    confidential = bool(unit_ids) and all(
        actor.may(Permission.VIEW_CONFIDENTIAL_CASES, u) for u in unit_ids
    )
    finalized = period.status == "finalized"
    return [_view(r, actor, full, confidential, finalized) for r in evaluations(session, period)]


def evaluation_view(
    session: Session, actor: Actor, period: EvaluationPeriod, evaluation_id: int
) -> EvaluationView:
    wanted = _evaluation(session, period, evaluation_id)
    return next(v for v in evaluation_views(session, actor, period) if v.id == wanted.id)


def _evaluation(
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
    actor: Actor,
    period: EvaluationPeriod,
    evaluation_id: int,
    level: Level | None,
    reason: str | None = None,
    now: datetime | None = None,
) -> OfficerEvaluation:
    """Confirm the suggestion (level None or equal to it) or override it with a reason."""
    now = now or utcnow()
    _require_write(session, actor, period)
    row = _evaluation(session, period, evaluation_id)
    chosen = level or Level(row.suggested_level)
    if chosen.value == row.suggested_level:
        row.behaviour_level, row.override_reason = chosen.value, None
        _audit(session, actor, period, "confirmed", chosen.value, row, now)
    else:
        text = (reason or "").strip()
        if not text:
            raise InvalidInput("overriding the suggested behaviour level needs a reason")
        if len(text) > 2000:
            raise InvalidInput("the reason must be at most 2000 characters")
        row.behaviour_level, row.override_reason = chosen.value, text
        _audit(
            session,
            actor,
            period,
            "overridden",
            f"{row.suggested_level} -> {chosen.value}: {text}",
            row,
            now,
        )
    row.decided_by, row.decided_at, row.updated_at = actor.user_id or None, now, now
    _refresh_rating(row)
    session.add(row)
    session.flush()
    return row


def set_results_level(
    session: Session,
    actor: Actor,
    period: EvaluationPeriod,
    evaluation_id: int,
    level: Level,
    now: datetime | None = None,
    *,
    source: str = "entered",
) -> OfficerEvaluation:
    now = now or utcnow()
    _require_write(session, actor, period)
    row = _evaluation(session, period, evaluation_id)
    row.results_level = level.value
    row.updated_at = now
    _refresh_rating(row)
    session.add(row)
    _audit(session, actor, period, "results_set", f"{level.value} ({source})", row, now)
    session.flush()
    return row


@dataclass(frozen=True)
class ImportError_:
    row: int
    column: str
    reason: str


def import_results(
    session: Session, actor: Actor, period: EvaluationPeriod, raw: bytes
) -> tuple[int, list[ImportError_]]:
    """CSV `nip,results_level`: all rows or none; every bad row reported."""
    _require_write(session, actor, period)
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
        set_results_level(session, actor, period, row.id, level, source="imported")
    return len(wanted), []


def finalize(
    session: Session, actor: Actor, period: EvaluationPeriod, now: datetime | None = None
) -> EvaluationPeriod:
    """Freeze the period. Refused while any officer lacks a decision."""
    now = now or utcnow()
    _require_write(session, actor, period)
    rows = evaluations(session, period)
    if period.computed_at is None or not rows:
        raise Conflict("compute the period before finalizing it")
    missing = [r for r in rows if not (r.behaviour_level and r.results_level)]
    if missing:
        names = ", ".join(r.officer_name for r in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise Conflict(f"{len(missing)} officer(s) still need a decision: {names}{more}")
    period.status = "finalized"
    period.finalized_at = now
    period.finalized_by = actor.user_id or None
    session.add(period)
    _audit(session, actor, period, "finalized", f"{len(rows)} officers", now=now)
    session.flush()
    return period


@dataclass(frozen=True)
class AuditEntry:
    id: int
    kind: str
    officer_evaluation_id: int | None
    actor_user_id: int | None
    detail: str | None
    created_at: datetime


BEHAVIOUR_EVENTS = frozenset({"confirmed", "overridden"})
DECISION_EVENTS = BEHAVIOUR_EVENTS | {"results_set"}


def audit_trail(session: Session, actor: Actor, period: EvaluationPeriod) -> list[AuditEntry]:
    """Every decision on the period. Without full evidence a reader sees who decided and
    when, but neither confirm versus override (it would tell the hidden suggestion) nor the
    levels and reasons."""
    full = sees_full_evidence(session, actor, period)
    events = session.exec(
        select(EvaluationEvent)
        .where(EvaluationEvent.period_id == period.id)
        .order_by(col(EvaluationEvent.id))
    ).all()
    entries = []
    for e in events:
        assert e.id is not None
        kind, detail = e.kind, e.detail
        if not full and kind in DECISION_EVENTS:
            kind = "behaviour_decided" if kind in BEHAVIOUR_EVENTS else kind
            detail = None
        entries.append(
            AuditEntry(e.id, kind, e.officer_evaluation_id, e.actor_user_id, detail, e.created_at)
        )
    return entries


EXPORT_COLUMNS = (
    "nip",
    "nama",
    "unit_id",
    "periode",
    "mulai",
    "selesai",
    "jumlah_responden",
    "skor",
    "skor_bawah",
    "skor_atas",
    "rerata_unit",
    "data_cukup",
    "pengaduan_diterima",
    "pengaduan_terbukti",
    "kasus_terlambat",
    "saran_perilaku",
    "perilaku",
    "alasan_perubahan",
    "hasil_kerja",
    "predikat",
)


def export_rows(session: Session, actor: Actor, period: EvaluationPeriod) -> list[list[object]]:
    """One row per NIP, as the e-Kinerja/SKP import expects; finalized periods only. The
    figures are what `actor` may see (`evaluation_views`): without full evidence the
    suggestion and the override reason are left empty."""
    if period.status != "finalized":
        raise Conflict("only a finalized period can be exported")
    rows = sorted(evaluation_views(session, actor, period), key=lambda r: r.nip)
    return [
        [
            r.nip,
            r.officer_name,
            r.unit_id,
            period.name,
            period.start.isoformat(),
            period.end.isoformat(),
            r.survey_n,
            round(r.score, 2),
            round(r.score_low, 2),
            round(r.score_high, 2),
            round(r.unit_mean, 2),
            "tidak" if r.insufficient else "ya",
            r.complaints_received,
            r.complaints_substantiated,
            r.cases_overdue,
            LEVEL_WORDS[r.suggested_level] if r.suggested_level else "",
            LEVEL_WORDS[r.behaviour_level or "meets"],
            r.override_reason or "",
            LEVEL_WORDS[r.results_level or "meets"],
            r.rating or "",
        ]
        for r in rows
    ]
