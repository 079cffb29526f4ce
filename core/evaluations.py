"""Folding citizen feedback into ASN evaluations (PermenPANRB 6/2022, DESIGN section 5).

The supervisor (Pejabat Penilai Kinerja) decides; the system supplies a frozen snapshot of
the evidence and a suggested behaviour level with its reason. A period is `open` until it is
finalized in one transaction; after that nothing about it changes.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case as sql_case
from sqlalchemy import func
from sqlmodel import Session, col, select

from core.access import Actor
from core.clock import local_day_bounds_utc, utcnow
from core.config import Settings
from core.csv_input import read_csv
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.i18n import ct
from core.masterdata import get_unit_by_code
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
    Role,
)
from core.officer_scores import OfficerScore, ScorePolicy, officer_scores

WRITE_ROLES = frozenset({Role.admin, Role.supervisor, Role.unit_head})
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
    return actor.is_admin or set(unit_ids) <= actor.unit_ids


def get_period(session: Session, actor: Actor, period_id: int) -> EvaluationPeriod:
    period = session.get(EvaluationPeriod, period_id)
    if period is None or not _can_read(actor, period_units(session, period)):
        raise NotFound(f"evaluation period {period_id} does not exist")
    return period


def _require_write(session: Session, actor: Actor, period: EvaluationPeriod) -> None:
    if actor.role not in WRITE_ROLES:
        raise Forbidden(f"role {actor.role.value} may only read evaluation periods")
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
    if actor.role not in WRITE_ROLES:
        raise Forbidden(f"role {actor.role.value} may not create evaluation periods")
    end, name = period_bounds(kind, start)
    if not unit_codes:
        raise InvalidInput("name at least one unit")
    units = [get_unit_by_code(session, code) for code in dict.fromkeys(unit_codes)]
    for unit in units:
        assert unit.id is not None
        actor.require_unit(unit.id)
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


def _case_evidence(
    session: Session, unit_ids: Sequence[int], lo: datetime, hi: datetime, cutoff: datetime
) -> dict[int, CaseEvidence]:
    """Per officer: complaints received in the period, how many substantiated, how many of
    them are overdue at `cutoff`. One GROUP BY over (officer_id, received_at)."""
    open_values = [s.value for s in OPEN_STATUSES]
    stmt = (
        select(
            Case.officer_id,
            func.count(),
            func.sum(sql_case((col(Case.outcome).in_(SUBSTANTIATED), 1), else_=0)),
            func.sum(
                sql_case(
                    (col(Case.status).in_(open_values) & (col(Case.due_at) < cutoff), 1), else_=0
                )
            ),
        )
        .join(Officer, col(Officer.id) == col(Case.officer_id))
        .where(col(Officer.unit_id).in_(unit_ids), Case.received_at >= lo, Case.received_at < hi)
        .group_by(col(Case.officer_id))
    )
    return {
        int(officer_id or 0): CaseEvidence(int(n), int(sub or 0), int(late or 0))
        for officer_id, n, sub, late in session.exec(stmt).all()
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
        cases = evidence.get(officer.id, CaseEvidence())
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


def audit_trail(session: Session, period: EvaluationPeriod) -> list[EvaluationEvent]:
    return list(
        session.exec(
            select(EvaluationEvent)
            .where(EvaluationEvent.period_id == period.id)
            .order_by(col(EvaluationEvent.id))
        ).all()
    )


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


def export_rows(session: Session, period: EvaluationPeriod) -> list[list[object]]:
    """One row per NIP, as the e-Kinerja/SKP import expects; finalized periods only."""
    if period.status != "finalized":
        raise Conflict("only a finalized period can be exported")
    rows = sorted(evaluations(session, period), key=lambda r: r.nip)
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
            LEVEL_WORDS[r.suggested_level],
            LEVEL_WORDS[r.behaviour_level or "meets"],
            r.override_reason or "",
            LEVEL_WORDS[r.results_level or "meets"],
            r.rating or "",
        ]
        for r in rows
    ]
