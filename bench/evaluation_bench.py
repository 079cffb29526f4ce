"""Benchmark: computing one quarter's evaluation period, and its export.

Loads 8,000 officers in 200 units, 2,000,000 survey responses over a year (70% naming an
officer, from 200,000 citizens, some of whom answer often) and 200,000 cases; then times
`compute_period` for one quarter over all units (a first compute, and a recompute that keeps
decisions), and the export of the finalized period.

Against a floor measured in the same run, on the same data: the bare window queries that
yield the counted responses (core.surveys.officer_scores: one response per respondent,
officer and day, capped per respondent; and the same per unit, for the unit mean every
officer is shrunk toward), plus a bulk insert of 8,000 snapshot rows (rolled back). The
compute is expected within 1.5x of that floor. The officers' window query alone is printed
too (before the capped unit mean, it was the whole floor).

    python bench/evaluation_bench.py [--responses N] [--engine sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from common import postgres_database
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.access import Actor
from core.evaluations import service as ev
from core.evaluations.models import EvaluationPeriod, Level, OfficerEvaluation
from core.people.models import Role
from core.shared.clock import local_day_bounds_utc
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from core.surveys import officer_scores as scores_sql

TZ = ZoneInfo("Asia/Makassar")
UNITS = 200
OFFICERS = 8000
CITIZENS = 200_000
CASES = 200_000
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = int(timedelta(days=365).total_seconds())


def _t(moment: datetime, sqlite: bool) -> object:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment


def _bulk(engine: Engine, table: str, cols: str, rows: list[tuple[object, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            marks = ", ".join("?" * len(rows[0]))
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
        else:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def load(url: str, responses: int) -> float:
    upgrade(url)
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    rng = random.Random(3)
    now = _t(datetime(2026, 12, 1, tzinfo=UTC), sqlite)
    t0 = time.perf_counter()
    _bulk(
        engine,
        "unit",
        "id, code, name, active, created_at",
        [(i, f"u{i}", f"Unit {i:03d}", True, now) for i in range(1, UNITS + 1)],
    )
    _bulk(
        engine,
        "officer",
        "id, nip, name, position, unit_id, active, public_code, created_at",
        [
            (
                i,
                f"{198001010000000000 + i}",
                f"Officer {i:05d}",
                "",
                1 + i % UNITS,
                True,
                f"c{i:07d}",
                now,
            )
            for i in range(1, OFFICERS + 1)
        ],
    )
    _bulk(
        engine,
        "citizen",
        "id, language, created_at",
        [(i, "id", now) for i in range(1, CITIZENS + 1)],
    )
    _bulk(
        engine,
        "contact",
        "channel, address, citizen_id, created_at",
        [("telegram", str(10_000_000 + i), i, now) for i in range(1, CITIZENS + 1)],
    )
    _bulk(
        engine,
        "app_user",
        "id, username, password_hash, role, active, created_at",
        [(1, "admin", "$argon2id$bench", "admin", True, now)],
    )
    rows = []
    for _ in range(responses):
        moment = START + timedelta(seconds=rng.randrange(SPAN))
        officer = rng.randrange(1, OFFICERS + 1) if rng.random() < 0.7 else None
        unit = 1 + officer % UNITS if officer else rng.randrange(1, UNITS + 1)
        # A few "super fans" answer a lot: the anti-gaming rules have work to do.
        citizen = rng.randrange(1, 200) if rng.random() < 0.05 else rng.randrange(1, CITIZENS + 1)
        q = [rng.choice((2, 3, 3, 4, 4)) for _ in range(9)]
        local_day = (moment + timedelta(hours=8)).date()
        rows.append(
            (
                unit,
                officer,
                citizen,
                *q,
                "bench",
                local_day.isoformat() if sqlite else local_day,
                _t(moment, sqlite),
            )
        )
    _bulk(
        engine,
        "survey_response",
        "unit_id, officer_id, citizen_id, q1, q2, q3, q4, q5, q6, q7, q8, q9, channel, "
        "local_date, created_at",
        rows,
    )
    cases = []
    for i in range(1, CASES + 1):
        moment = START + timedelta(seconds=rng.randrange(SPAN))
        officer = rng.randrange(1, OFFICERS + 1)
        status = rng.choice(("closed", "closed", "resolved", "in_progress", "received"))
        outcome = rng.choice(("substantiated", "partly", "unsubstantiated", None))
        due = moment + timedelta(days=5) if status in ("in_progress", "received") else None
        cases.append(
            (
                f"KPG-B-{i:07d}",
                "biasa",
                1 + officer % UNITS,
                officer,
                "tidak_patut",
                "bench",
                status,
                "normal",
                _t(moment, sqlite),
                _t(moment, sqlite),
                _t(moment, sqlite),
                due and _t(due, sqlite),
                outcome if status in ("closed", "resolved") else None,
                0,
                _t(moment, sqlite),
                "telegram",
            )
        )
    _bulk(
        engine,
        "cases",
        "reference, privacy, unit_id, officer_id, category, description, status, priority, "
        "received_at, verify_due_at, resolve_due_at, due_at, outcome, reopened_count, "
        "updated_at, channel",
        cases,
    )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - t0


def unit_window(engine: Engine, period_start: date, period_end: date) -> float:
    """Seconds of the bare window query of the units' capped means (the second window pass
    `officer_scores` makes: the unit mean is counted under the same caps)."""
    lo, hi = local_day_bounds_utc(period_start, period_end, TZ)
    stmt = text(scores_sql._UNIT_COUNTED).bindparams(*scores_sql._params())
    params = {"units": list(range(1, UNITS + 1)), "lo": lo, "hi": hi, "cap": 3}
    with Session(engine) as s:
        s.execute(stmt, params).all()
        t0 = time.perf_counter()
        s.execute(stmt, params).all()
        return time.perf_counter() - t0


def scores_alone(engine: Engine, period_start: date, period_end: date) -> float:
    """Seconds of `officer_scores` for every officer, as the compute calls it (its unit means
    are counted under the same caps: a window query of their own)."""
    lo, hi = local_day_bounds_utc(period_start, period_end, TZ)
    pairs = [(i, 1 + i % UNITS) for i in range(1, OFFICERS + 1)]
    with Session(engine) as s:
        t0 = time.perf_counter()
        scores_sql.officer_scores(s, pairs, lo, hi, scores_sql.ScorePolicy())
        return time.perf_counter() - t0


def floor(engine: Engine, period_start: date, period_end: date) -> tuple[float, float, int]:
    """(window query s, bulk insert s, counted responses): what the compute cannot beat."""
    lo, hi = local_day_bounds_utc(period_start, period_end, TZ)
    stmt = text(scores_sql._COUNTED).bindparams(*scores_sql._params())
    params = {"units": list(range(1, UNITS + 1)), "lo": lo, "hi": hi, "cap": 3}
    with Session(engine) as s:
        s.execute(stmt, params).all()  # warm the cache as the compute will find it
        t0 = time.perf_counter()
        counted = sum(int(n) for _, n, _ in s.execute(stmt, params).all())
        window = time.perf_counter() - t0
    with Session(engine) as s:
        scratch = EvaluationPeriod(
            name="floor", kind="quarterly", start=period_start, end=period_end
        )
        s.add(scratch)
        s.flush()
        now = datetime.now(UTC)
        rows = [
            {
                "period_id": scratch.id,
                "officer_id": i,
                "nip": f"{198001010000000000 + i}",
                "officer_name": f"Officer {i:05d}",
                "unit_id": 1 + i % UNITS,
                "survey_n": 11,
                "raw_mean": 3.1,
                "score": 3.1,
                "score_low": 2.8,
                "score_high": 3.4,
                "unit_mean": 3.0,
                "insufficient": False,
                "complaints_received": 1,
                "complaints_substantiated": 0,
                "cases_overdue": 0,
                "nonconf_complaints_received": 1,
                "nonconf_complaints_substantiated": 0,
                "nonconf_cases_overdue": 0,
                "suggested_level": "meets",
                "suggestion_reason_code": "evidence",
                "suggestion_reason_params": '{"n": 11, "score": 3.1}',
                "updated_at": now,
            }
            for i in range(1, OFFICERS + 1)
        ]
        t0 = time.perf_counter()
        s.execute(insert(OfficerEvaluation.__table__), rows)  # type: ignore[attr-defined]
        s.flush()
        bulk = time.perf_counter() - t0
        s.rollback()
    return window, bulk, counted


def run(label: str, url: str, responses: int) -> None:
    print(f"{label}: loaded in {load(url, responses):.0f} s")
    engine = make_engine(url)
    admin = Actor(1, "admin", Role.admin)
    policy = ev.EvaluationPolicy()
    start, end = date(2026, 7, 1), date(2026, 9, 30)
    window, bulk, floor_counted = floor(engine, start, end)
    scores = scores_alone(engine, start, end)
    unit = unit_window(engine, start, end)
    with Session(engine) as s:
        period = ev.create_period(
            s, "quarterly", start, [f"u{i}" for i in range(1, UNITS + 1)], actor=admin
        )
        s.commit()
        t0 = time.perf_counter()
        count = ev.compute_period(s, period, policy, TZ, actor=admin)
        s.commit()
        first = time.perf_counter() - t0
        rows = ev.evaluations(s, period)
        for r in rows:
            r.behaviour_level, r.results_level = r.suggested_level, Level.meets.value
            s.add(r)
        s.commit()
        t0 = time.perf_counter()
        ev.compute_period(s, period, policy, TZ, actor=admin)
        s.commit()
        second = time.perf_counter() - t0
        for r in ev.evaluations(s, period):
            r.rating = ev.rating(Level.meets, Level(r.behaviour_level or "meets"))
            s.add(r)
        ev.finalize(s, period, actor=admin, tz=TZ)
        s.commit()
        t0 = time.perf_counter()
        exported = ev.export_rows(s, period, actor=admin)
        export = time.perf_counter() - t0
        counted = sum(r.survey_n for r in rows)
    floor_s = window + unit + bulk
    verdict = "ok" if first <= 1.5 * floor_s and second <= 1.5 * floor_s else "OVER 1.5x"
    print(
        f"  floor: window queries {window + unit:.2f} s (officers' {window:.2f} s: "
        f"{floor_counted:,d} counted responses; units' {unit:.2f} s) + bulk insert of "
        f"{OFFICERS:,d} rows {bulk:.2f} s = {floor_s:.2f} s"
    )
    print(f"  officer_scores() alone (what compute_period calls): {scores:.2f} s")
    print(
        f"  compute one quarter: {count:,d} officers, {counted:,d} counted responses: "
        f"{first:.2f} s ({first / floor_s:.2f}x floor); recompute keeping decisions "
        f"{second:.2f} s ({second / floor_s:.2f}x floor) [{verdict}]; export "
        f"{len(exported):,d} rows {export:.2f} s"
    )
    print(
        f"  (against the officers' window query + insert alone, {window + bulk:.2f} s: "
        f"compute {first / (window + bulk):.2f}x)"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=2_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    print(
        f"Evaluation benchmark: {OFFICERS:,d} officers, {UNITS} units, "
        f"{args.responses:,d} survey responses, {CASES:,d} cases"
    )
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run("sqlite", f"sqlite:///{tmp}/bench.db", args.responses)
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            run("postgresql", url, args.responses)


if __name__ == "__main__":
    main()
