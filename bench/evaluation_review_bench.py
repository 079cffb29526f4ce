"""Benchmark: the console's evaluation review of a 300-officer unit (issue 15: < 300 ms).

Seeds one unit with 300 officers and ten survey answers each, computes a monthly period,
then times, in process: everything the period page asks core for (period, units, the
officers' evidence as the reader may see it, whether they may still change it, the audit),
and the whole page `GET /staff/evaluations/<id>` with its 300 decision forms; against a
floor measured in the same run: the JSON API's `GET /api/evaluation-periods/<id>` (the same
evidence as JSON, no page).

    python bench/evaluation_review_bench.py [--engine sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from common import postgres_database
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.site import create_site
from core.access import Actor
from core.evaluations import overview
from core.evaluations import service as ev
from core.masterdata.models import Officer, Unit
from core.people.models import Role
from core.people.users import create_user
from core.policies import build
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from core.surveys.models import SurveyResponse

OFFICERS = 300
BUDGET_MS = 300.0
PASSWORD = "benchmark-password"  # noqa: S105
WITA = ZoneInfo("Asia/Makassar")


def _best_ms(step: object, times: int = 5) -> float:
    assert callable(step)
    timings = []
    for _ in range(times):
        t0 = time.perf_counter()
        step()
        timings.append((time.perf_counter() - t0) * 1000)
    return min(timings)


def run(label: str, url: str) -> None:
    upgrade(url)
    settings = load_settings(database_url=url, environment="test", _env_file=None)
    engine = make_engine(url)
    with Session(engine) as s:
        unit = Unit(code="dukcapil", name="Dinas Dukcapil")
        s.add(unit)
        s.flush()
        officers = [
            Officer(
                nip=f"19850412201103{1 + i % 2}{i + 1:03d}",
                name=f"Petugas {i:03d}",
                unit_id=unit.id or 0,
                public_code=f"bench{i:04d}",
            )
            for i in range(OFFICERS)
        ]
        s.add_all(officers)
        s.flush()
        day = datetime(2026, 11, 10, 2, tzinfo=UTC)
        rows = [
            {
                "unit_id": unit.id,
                "officer_id": o.id,
                "channel": "bench",
                "local_date": date(2026, 11, 10),
                "created_at": day + timedelta(seconds=i),
                **{f"q{k}": 3 + (i + k) % 2 for k in range(1, 10)},
            }
            for i, o in enumerate(officers * 10)
        ]
        s.execute(insert(SurveyResponse), rows)
        user = create_user(s, "spv", Role.supervisor, PASSWORD, ["dukcapil"])
        spv = Actor(user.id or 0, "spv", Role.supervisor, frozenset({unit.id or 0}))
        period = ev.create_period(s, "monthly", date(2026, 11, 1), ["dukcapil"], actor=spv)
        ev.compute_period(s, period, ev.EvaluationPolicy(), WITA, actor=spv)
        s.commit()
        period_id = period.id or 0

        def review() -> None:
            s.expire_all()
            found = ev.get_period(s, period_id, actor=spv)
            overview.units_of_periods(s, [found])
            ev.sees_full_evidence(s, found, actor=spv)
            assert len(ev.evaluation_views(s, found, actor=spv)) == OFFICERS
            overview.may_write(s, found, actor=spv)
            ev.audit_trail(s, found, actor=spv)

        core_ms = _best_ms(review)
    client = TestClient(create_site(build(settings, engine)))
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/login").text)
    assert csrf is not None
    form = {"username": "spv", "password": PASSWORD, "csrf": csrf.group(1), "next": ""}
    assert client.post("/staff/login", data=form, follow_redirects=False).status_code == 303
    token = client.post("/api/auth/token", data={"username": "spv", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def page() -> None:
        answer = client.get(f"/staff/evaluations/{period_id}")
        assert answer.status_code == 200
        assert answer.text.count('class="eval-officer"') == OFFICERS

    def api() -> None:
        assert client.get(f"/api/evaluation-periods/{period_id}", headers=bearer).status_code == 200

    page_ms, api_ms = _best_ms(page), _best_ms(api)
    verdict = "ok" if page_ms < BUDGET_MS else "OVER"
    print(
        f"  {label}: core reads {core_ms:.1f} ms; page GET /staff/evaluations/<id> "
        f"{page_ms:.1f} ms [{verdict}, bar {BUDGET_MS:.0f} ms]; floor: JSON "
        f"GET /api/evaluation-periods/<id> {api_ms:.1f} ms ({page_ms / api_ms:.1f}x)"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    print(f"Evaluation review benchmark: one unit, {OFFICERS} officers, 10 answers each")
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run("sqlite", f"sqlite:///{tmp}/bench.db")
    if args.engine in ("postgres", "both"):
        with postgres_database() as url:
            run("postgresql", url)


if __name__ == "__main__":
    main()
