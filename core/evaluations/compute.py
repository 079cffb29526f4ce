"""Computing a period: a frozen snapshot of the evidence per officer, in SQL, with the
non-confidential counts beside the full ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func
from sqlalchemy import case as sql_case
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core.access import Actor
from core.cases.models import OPEN_STATUSES, Case, Privacy
from core.evaluations.models import (
    EvaluationPeriod,
    OfficerEvaluation,
)
from core.evaluations.periods import audit_event, period_units, require_writable
from core.evaluations.rules import SUBSTANTIATED, EvaluationPolicy, suggest, suggestion_reason
from core.masterdata.models import Officer
from core.shared.clock import local_day_bounds_utc, utcnow
from core.surveys.officer_scores import officer_scores


@dataclass(frozen=True)
class CaseEvidence:
    received: int = 0
    substantiated: int = 0
    overdue: int = 0
    # Substantiated complaints per serious category (BehaviourPolicy.serious_categories).
    serious: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class OfficerCases:
    """An officer's case evidence over every case, and over the non-confidential ones."""

    all: CaseEvidence = field(default_factory=CaseEvidence)
    nonconf: CaseEvidence = field(default_factory=CaseEvidence)


def _case_evidence(
    session: Session,
    unit_ids: Sequence[int],
    lo: datetime,
    hi: datetime,
    cutoff: datetime,
    serious: Sequence[str] = (),
) -> dict[int, OfficerCases]:
    """Per officer of the units: complaints of these units received in the period, how many
    substantiated (and how many of them per serious category), how many of them are overdue
    at `cutoff`; each over every case and over the cases that are not `rahasia`. One GROUP
    BY over (officer_id, received_at).

    Only cases of the period's units count (a case forwarded to another unit is not
    evidence here): whoever may read the period may see those units' cases. Officers named
    by them who work elsewhere now come back too and are left out by the caller (no join
    with `officer`, which would cost a lookup per case)."""
    open_values = [s.value for s in OPEN_STATUSES]
    substantiated = col(Case.outcome).in_(SUBSTANTIATED)
    late = and_(col(Case.status).in_(open_values), col(Case.due_at) < cutoff)
    nonconf = col(Case.privacy) != Privacy.rahasia.value

    def total(condition: Any) -> Any:
        return func.sum(sql_case((condition, 1), else_=0))

    per_category = []
    for code in serious:
        in_category = and_(substantiated, col(Case.category) == code)
        per_category += [total(in_category), total(and_(in_category, nonconf))]
    stmt = (
        sa_select(
            col(Case.officer_id),
            func.count(),
            total(substantiated),
            total(late),
            total(nonconf),
            total(and_(substantiated, nonconf)),
            total(and_(late, nonconf)),
            *per_category,
        )
        .where(
            col(Case.officer_id).is_not(None),
            col(Case.unit_id).in_(unit_ids),
            col(Case.received_at) >= lo,
            col(Case.received_at) < hi,
        )
        .group_by(col(Case.officer_id))
    )
    out = {}
    for officer_id, n, sub, overdue, n_nc, sub_nc, overdue_nc, *by_category in session.execute(
        stmt
    ):
        every: dict[str, int] = {}
        shown: dict[str, int] = {}
        if sub and any(by_category):  # only officers with a serious substantiated complaint
            for i, code in enumerate(serious):
                if by_category[2 * i]:
                    every[code] = int(by_category[2 * i])
                if by_category[2 * i + 1]:
                    shown[code] = int(by_category[2 * i + 1])
        out[int(officer_id or 0)] = OfficerCases(
            CaseEvidence(int(n), int(sub or 0), int(overdue or 0), every),
            CaseEvidence(int(n_nc or 0), int(sub_nc or 0), int(overdue_nc or 0), shown),
        )
    return out


_TABLE = OfficerEvaluation.__table__  # type: ignore[attr-defined]


def _write_many(session: Session, verb: str, rows: list[dict[str, Any]]) -> None:
    """INSERT the new drafts, or UPDATE the existing ones by primary key (`row_id`), in bulk:
    values converted by each column's own type, as the ORM would, never a statement built
    per row. PostgreSQL: COPY (into the table, or into a scratch table joined by one
    UPDATE). SQLite: one executemany of a prepared statement."""
    if not rows:
        return
    # The SQL text holds only this table's own column names (checked below), never input.
    conn = session.connection()
    dialect = conn.dialect
    columns = [c for c in rows[0] if c != "row_id"]
    for name in columns:
        _TABLE.c[name]  # a KeyError here is a programming error: no such column
    keys = columns if verb == "INSERT" else [*columns, "row_id"]
    processors = {
        c: p
        for c in columns
        if (p := _TABLE.c[c].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    }
    # A value the same for every row (the compute's time) is converted once.
    first = rows[0]
    same = {
        c: processors[c](first[c]) for c in processors if all(row[c] is first[c] for row in rows)
    }
    convert = {c: p for c, p in processors.items() if c not in same}
    params = [
        tuple(
            same[k] if k in same else convert[k](row[k]) if k in convert else row[k] for k in keys
        )
        for row in rows
    ]
    table, names = _TABLE.name, ", ".join(columns)
    if dialect.name == "postgresql":
        cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        if verb == "INSERT":
            target = f"{table} ({names})"
        else:
            scratch = "officer_evaluation_refresh"
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{scratch}")
            cursor.execute(
                f"CREATE TEMP TABLE {scratch} ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {names}, id AS row_id FROM {table} WITH NO DATA"
            )
            target = f"{scratch} ({names}, row_id)"
        with cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for record in params:
                copy.write_row(record)
        if verb == "UPDATE":
            sets = ", ".join(f"{c} = s.{c}" for c in columns)
            cursor.execute(
                f"UPDATE {table} AS t SET {sets} FROM {scratch} AS s "  # noqa: S608
                "WHERE t.id = s.row_id"
            )
        return
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    if verb == "INSERT":
        values = ", ".join([mark] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({values})"  # noqa: S608
    else:
        sets = ", ".join(f"{c} = {mark}" for c in columns)
        sql = f"UPDATE {table} SET {sets} WHERE id = {mark}"  # noqa: S608
    conn.exec_driver_sql(sql, params)


def compute_period(
    session: Session,
    period: EvaluationPeriod,
    policy: EvaluationPolicy,
    tz: ZoneInfo,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> int:
    """Create or refresh each officer's draft; the supervisor's decisions are kept.

    One query per need (officers, existing drafts, scores, case evidence) and two bulk
    statements (INSERT of the new drafts, UPDATE of the existing ones by primary key), never
    one ORM object per officer."""
    now = now or utcnow()
    require_writable(session, period, actor=actor)
    assert period.id is not None
    unit_ids = period_units(session, period)
    lo, hi = local_day_bounds_utc(period.start, period.end, tz)
    session.flush()
    existing: dict[int, int] = {
        int(officer_id): int(row_id)
        for officer_id, row_id in session.execute(
            sa_select(col(OfficerEvaluation.officer_id), col(OfficerEvaluation.id)).where(
                col(OfficerEvaluation.period_id) == period.id
            )
        )
    }
    officers = [
        (int(oid), str(nip), str(name), int(unit_id))
        for oid, nip, name, unit_id in session.execute(
            sa_select(
                col(Officer.id), col(Officer.nip), col(Officer.name), col(Officer.unit_id)
            ).where(
                col(Officer.unit_id).in_(unit_ids),
                (col(Officer.active) == True)  # noqa: E712
                | col(Officer.id).in_(
                    sa_select(col(OfficerEvaluation.officer_id)).where(
                        col(OfficerEvaluation.period_id) == period.id
                    )
                ),
            )
        )
    ]
    scores = officer_scores(session, [(o[0], o[3]) for o in officers], lo, hi, policy.scores)
    serious = policy.behaviour.serious_categories
    evidence = _case_evidence(session, unit_ids, lo, hi, min(now, hi), serious)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for officer_id, nip, name, unit_id in officers:
        score = scores[officer_id]
        found = evidence.get(officer_id, OfficerCases())
        cases, nonconf = found.all, found.nonconf
        level = suggest(score, cases.substantiated, policy.behaviour, cases.serious)
        code, params = suggestion_reason(score, cases.substantiated, cases.serious)
        values: dict[str, Any] = {
            "nip": nip,
            "officer_name": name,
            "unit_id": unit_id,
            "survey_n": score.n,
            "raw_mean": score.raw_mean,
            "score": score.shrunk,
            "score_low": score.low,
            "score_high": score.high,
            "unit_mean": score.unit_mean,
            "insufficient": score.insufficient,
            "complaints_received": cases.received,
            "complaints_substantiated": cases.substantiated,
            "cases_overdue": cases.overdue,
            "nonconf_complaints_received": nonconf.received,
            "nonconf_complaints_substantiated": nonconf.substantiated,
            "nonconf_cases_overdue": nonconf.overdue,
            "suggested_level": level.value,
            "suggestion_reason_code": code.value,
            "suggestion_reason_params": params.to_json(),
            "updated_at": now,
        }
        row_id = existing.get(officer_id)
        if row_id is None:
            inserts.append({**values, "period_id": period.id, "officer_id": officer_id})
        else:
            updates.append({**values, "row_id": row_id})
    _write_many(session, "INSERT", inserts)
    _write_many(session, "UPDATE", updates)
    # Drafts already in the session are stale now: read them afresh when next used (without
    # touching their attributes here, which would load every expired one by itself).
    for obj in list(session.identity_map.values()):
        if isinstance(obj, OfficerEvaluation):
            session.expire(obj)
    period.computed_at = now
    session.add(period)
    audit_event(session, period, "computed", f"{len(officers)} officers", actor=actor, now=now)
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
