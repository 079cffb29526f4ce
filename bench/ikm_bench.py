"""Benchmark: IKM for every unit over one quarter, on SQLite and PostgreSQL.

Loads N survey responses (default 1,000,000) for 60 units inside one quarter, then times
`core.surveys.unit_scores.unit_scores` (the code the API runs) against the bare SQL aggregate
over the same rows, and prints rows, seconds (median of 5 runs after one warm-up) and their ratio.

    python bench/ikm_bench.py [--rows N] [--engine sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from common import postgres_database
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.shared.db import make_engine
from core.shared.migrate import upgrade
from core.surveys.unit_scores import Period, unit_scores

TZ = ZoneInfo("Asia/Makassar")
QUARTER = Period(date(2026, 7, 1), date(2026, 9, 30))
UNITS = 60
BARE_SQL = (
    "SELECT unit_id, count(*), sum(q1), sum(q2), sum(q3), sum(q4), sum(q5), sum(q6), "
    "sum(q7), sum(q8), sum(q9) FROM survey_response "
    "WHERE created_at >= :lo AND created_at < :hi GROUP BY unit_id"
)


def _rows(n: int) -> list[tuple[object, ...]]:
    rng = random.Random(7)
    start = datetime(2026, 6, 30, 16, tzinfo=UTC)  # 1 July 00:00 WITA
    span = int((datetime(2026, 9, 30, 16, tzinfo=UTC) - start).total_seconds())
    out = []
    for _ in range(n):
        moment = start + timedelta(seconds=rng.randrange(span))
        answers = [rng.choice((1, 2, 3, 3, 4, 4)) for _ in range(9)]
        out.append(
            (rng.randrange(1, UNITS + 1), *answers, "bench",
             (moment + timedelta(hours=8)).date(), moment)
        )  # fmt: skip
    return out


COLUMNS = "unit_id, q1, q2, q3, q4, q5, q6, q7, q8, q9, channel, local_date, created_at"


def _load(engine: Engine, rows: list[tuple[object, ...]]) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO unit (id, code, name, active, created_at) VALUES "
                 "(:id, :code, :name, true, :now)"),
            [{"id": i, "code": f"u{i}", "name": f"Unit {i:02d}", "now": datetime.now(UTC)}
             for i in range(1, UNITS + 1)],
        )  # fmt: skip
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY survey_response ({COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
            raw.commit()
            cur.execute("ANALYZE survey_response")
            raw.commit()
        finally:
            raw.close()
    else:
        raw = engine.raw_connection()
        try:
            placeholders = ", ".join("?" * 13)
            raw.cursor().executemany(
                f"INSERT INTO survey_response ({COLUMNS}) VALUES ({placeholders})",
                [(*r[:11], r[11].isoformat(), r[12].strftime("%Y-%m-%d %H:%M:%S.%f"))  # type: ignore[attr-defined]
                 for r in rows],
            )  # fmt: skip
            raw.commit()
            raw.cursor().execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()


def _median(fn: Callable[[], object], runs: int = 5) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(label: str, url: str, rows: list[tuple[object, ...]]) -> None:
    upgrade(url)
    engine = make_engine(url)
    t0 = time.perf_counter()
    _load(engine, rows)
    load_s = time.perf_counter() - t0
    lo = datetime(2026, 6, 30, 16, tzinfo=UTC)
    hi = datetime(2026, 9, 30, 16, tzinfo=UTC)

    def ours() -> object:
        with Session(engine) as s:
            result = unit_scores(s, QUARTER, TZ, None, 1000)
            assert sum(u.score.n for u in result) == len(rows)
            return result

    def bare() -> object:
        with engine.connect() as conn:
            params = {"lo": lo, "hi": hi}
            if engine.dialect.name == "sqlite":
                params = {k: v.strftime("%Y-%m-%d %H:%M:%S.%f") for k, v in params.items()}
            return conn.execute(text(BARE_SQL), params).all()

    ours_s = _median(ours)
    bare_s = _median(bare)
    print(
        f"{label:10s} rows={len(rows):>9,d} units={UNITS} load={load_s:6.1f}s  "
        f"ikm_all_units={ours_s:.3f}s  bare_sql={bare_s:.3f}s  ratio={ours_s / bare_s:.2f}"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    print(f"IKM benchmark: {args.rows:,d} survey responses, {UNITS} units, one quarter")
    rows = _rows(args.rows)
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            bench("sqlite", f"sqlite:///{tmp}/bench.db", rows)
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            bench("postgresql", url, rows)


if __name__ == "__main__":
    main()
