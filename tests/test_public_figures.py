"""The public figures against hand-computed values on small data: IKM, grade, respondents
against the minimum sample, the nine elements and the trend; complaints received, resolved,
within the deadline, the median in working days and by category; a `rahasia` case counts
and nothing else of it shows; officers never appear."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.cases.models import Case, CaseStatus, Privacy
from core.masterdata.models import Unit
from core.shared.config import Settings
from core.surveys.models import FollowUpItem
from core.transparency.models import PublicFigures
from core.transparency.periods import default_period, parse_period, public_periods
from core.transparency.snapshot import public_scope, read_scope, refresh_public_figures
from tests.factories import add_response, local, make_officer, make_unit

pytestmark = pytest.mark.db

NOW = local(date(2026, 11, 30), 10)  # Monday 30 November 2026, 10:00 WITA
_seq = iter(range(1, 10_000))


def add_case(
    session: Session,
    unit: Unit,
    received: datetime,
    *,
    category: str = "lainnya",
    resolved: datetime | None = None,
    due: datetime | None = None,
    privacy: Privacy = Privacy.biasa,
    description: str = "Antrean panjang",
    officer_id: int | None = None,
) -> Case:
    assert unit.id is not None
    case = Case(
        reference=f"KPG-TEST-{next(_seq):05d}",
        unit_id=unit.id,
        category=category,
        description=description,
        privacy=privacy.value,
        officer_id=officer_id,
        status=(CaseStatus.resolved if resolved else CaseStatus.in_progress).value,
        received_at=received,
        resolved_at=resolved,
        verify_due_at=received + timedelta(days=3),
        resolve_due_at=due or received + timedelta(days=60),
    )
    session.add(case)
    session.flush()
    return case


def scope(engine: Engine, name: str) -> dict[str, Any]:
    with Session(engine) as s:
        found = read_scope(s, name)
    assert found is not None, name
    return found.body


@pytest.fixture
def office(session: Session, engine: Engine, settings: Settings) -> Unit:
    unit = make_unit(session, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
    officer = make_officer(session, unit, "Yohanes Ndun")
    for day in range(12):  # August: twelve citizens answer 4 everywhere
        add_response(session, unit, [4] * 9, at=local(date(2026, 8, 3 + day)), officer=officer)
    for day in range(10):  # November: ten answer 3 everywhere
        add_response(session, unit, [3] * 9, at=local(date(2026, 11, 2 + day)))
    received = local(date(2026, 7, 1), 9)  # Wednesday 1 July 2026
    for i in range(6):
        resolved = None
        if i < 3:
            resolved = local(date(2026, 7, 3), 15)  # Friday: 2 working days
        elif i < 5:
            resolved = local(date(2026, 7, 8), 15)  # Wednesday after: 5 working days
        due = received + timedelta(days=2) if i == 4 else None  # one resolved late
        add_case(
            session,
            unit,
            received,
            category="pungli",
            resolved=resolved,
            due=due,
            officer_id=officer.id,
        )
    for _ in range(5):
        add_case(session, unit, local(date(2026, 11, 2)), category="lainnya")
    assert unit.id is not None
    session.add(
        FollowUpItem(
            unit_id=unit.id,
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            element=3,
            action="Menambah loket pada jam sibuk",
            timeframe="Desember 2026",
            responsible="Bapak Yohanes Ndun",
        )
    )
    session.commit()
    refresh_public_figures(engine, settings, now=NOW)
    return unit


def test_the_periods_a_citizen_can_pick() -> None:
    today = date(2026, 11, 30)
    keys = [p.key for p in public_periods(today)]
    assert keys[:7] == ["2026", "2026-S1", "2026-S2", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert "2025-Q4" in keys and "2024" not in keys
    assert default_period(today).key == "2026-Q3"
    assert default_period(date(2027, 1, 5)).key == "2026-Q4"
    assert parse_period("2026-q3") == parse_period("2026-Q3")
    assert parse_period("2026-S3") is None and parse_period("x") is None
    assert parse_period("1999") is None


def test_survey_figures_match_the_hand_computed_ones(engine: Engine, office: Unit) -> None:
    detail = scope(engine, "unit:dukcapil")["periods"]
    q3, q4 = detail["2026-Q3"]["survey"], detail["2026-Q4"]["survey"]
    year = detail["2026"]["survey"]
    assert (q3["n"], q3["ikm"], q3["grade"], q3["grade_label"]) == (12, 100.0, "A", "Sangat Baik")
    assert (q4["n"], q4["ikm"], q4["grade"], q4["grade_label"]) == (10, 75.0, "C", "Kurang Baik")
    # 25 x (12 x 4 + 10 x 3) / 22 = 88.636...: 88.64, grade A.
    assert (year["n"], year["ikm"], year["grade"]) == (22, 88.64, "A")
    # The year has not ended: its total only, no elements (they would move with each
    # answer); the third quarter has ended: its nine elements are published.
    assert year["elements"] == [] and q4["elements"] == []
    assert [e["nrr"] for e in q3["elements"]] == [4.0] * 9
    assert q3["elements"][0]["name"] == "Persyaratan"
    # Below the Krejcie-Morgan minimum for 1,000 service users (278): provisional.
    assert (year["minimum_sample"], year["status"]) == (278, "provisional")
    # The trend of a running period stops before the current month.
    trend = detail["2026"]["trend"]
    assert (trend[0]["month"], trend[-1]["month"]) == ("2025-11", "2026-10")
    assert {p["month"]: (p["n"], p["ikm"]) for p in trend if p["n"]} == {"2026-08": (12, 100.0)}
    trend = detail["2026-Q3"]["trend"]
    assert (trend[0]["month"], trend[-1]["month"]) == ("2025-10", "2026-09")
    assert detail["2026-Q1"]["survey"]["status"] == "none"


def test_complaint_figures_match_the_hand_computed_ones(engine: Engine, office: Unit) -> None:
    detail = scope(engine, "unit:dukcapil")["periods"]
    q3 = detail["2026-Q3"]["complaints"]
    assert (q3["received"], q3["resolved"]) == (6, 5)
    assert q3["on_time_percent"] == 80.0  # four of five resolved within the deadline
    assert q3["median_working_days"] == 2.0  # 2, 2, 2, 5, 5
    assert {c["code"]: c["n"] for c in q3["categories"]}["pungli"] == 6
    q4 = detail["2026-Q4"]["complaints"]
    assert (q4["received"], q4["resolved"], q4["on_time_percent"]) == (5, 0, None)
    year = detail["2026"]["complaints"]
    assert (year["received"], year["resolved"]) == (11, 5)
    # The year and its fourth quarter have not ended: totals only.
    for running in (year, q4):
        assert running["categories"] is None and running["median_working_days"] is None
    assert year["on_time_percent"] is None
    cats = {c["code"]: c["n"] for c in detail["2025"]["complaints"]["categories"]}
    assert set(cats.values()) == {0}
    index = scope(engine, "index:2026-Q3")["units"]
    assert index == [
        {
            "code": "dukcapil",
            "name": "Dinas Kependudukan dan Pencatatan Sipil",
            "n": 12,
            "minimum_sample": 278,
            "status": "provisional",
            "ikm": 100.0,
            "grade": "A",
            "grade_label": "Sangat Baik",
            "received": 6,
            "resolved": 5,
        }
    ]


def test_small_counts_are_suppressed(session: Session, engine: Engine, settings: Settings) -> None:
    unit = make_unit(session, "kecil", "Kantor Kecil")
    for _ in range(3):
        add_case(session, unit, local(date(2026, 8, 4)), category="pungli")
    for day in range(4):
        add_response(session, unit, [2] * 9, at=local(date(2026, 8, 4 + day)))
    session.commit()
    refresh_public_figures(engine, settings, now=NOW)
    detail = scope(engine, "unit:kecil")["periods"]
    year = detail["2026"]
    # Bottom-up: the small quarter is "<5", every period containing it is withheld, the
    # others are published.
    assert detail["2026-Q3"]["complaints"]["received"] == "<5"
    assert detail["2026-Q3"]["complaints"]["categories"] is None
    for key in ("2026", "2026-S2"):
        assert detail[key]["complaints"]["received"] is None, key
        assert detail[key]["complaints"]["categories"] is None, key
    for key in ("2026-S1", "2026-Q1", "2026-Q2", "2026-Q4"):
        assert detail[key]["complaints"]["received"] == 0, key
    # Four respondents: counted, their answers withheld.
    survey = year["survey"]
    assert (survey["n"], survey["ikm"], survey["status"]) == (4, None, "too_few")
    assert all(p["ikm"] is None for p in year["trend"])


def test_a_confidential_case_changes_the_counts_and_nothing_else(
    session: Session, engine: Engine, settings: Settings, office: Unit
) -> None:
    before = scope(engine, "unit:dukcapil")
    add_case(
        session,
        office,
        local(date(2026, 11, 3)),
        category="lainnya",
        privacy=Privacy.rahasia,
        description="Rahasia: pungutan liar oleh petugas loket tiga",
    )
    session.commit()
    refresh_public_figures(engine, settings, now=NOW)
    after = scope(engine, "unit:dukcapil")
    assert after["periods"]["2026-Q4"]["complaints"]["received"] == 6
    assert after["periods"]["2026"]["complaints"]["received"] == 12
    # Nothing but the counts moved.
    for key in ("2026-Q4", "2026-S2", "2026"):
        before["periods"][key]["complaints"].pop("received")
        after["periods"][key]["complaints"].pop("received")
        for side in (before, after):
            for cat in side["periods"][key]["complaints"]["categories"] or []:
                if cat["code"] == "lainnya":
                    cat["n"] = 0
    assert before == after
    with Session(engine) as s:
        everything = " ".join(row.body for row in s.exec(select(PublicFigures)).all())
    for secret in ("Rahasia", "pungutan liar", "Yohanes", "Antrean", "KPG-TEST", "rahasia"):
        assert secret not in everything
    assert "officer" not in everything


def test_the_published_plan_leaves_out_who_answers_for_it(engine: Engine, office: Unit) -> None:
    plan = scope(engine, "unit:dukcapil")["plan"]
    assert plan == [
        {
            "start": "2026-07-01",
            "end": "2026-09-30",
            "element": 3,
            "element_name": "Waktu Penyelesaian",
            "action": "Menambah loket pada jam sibuk",
            "timeframe": "Desember 2026",
        }
    ]


def test_the_snapshot_is_computed_on_first_read_and_then_kept(
    session: Session, engine: Engine, settings: Settings
) -> None:
    unit = make_unit(session, "pajak", "Badan Pendapatan Daerah")
    session.commit()
    cached = settings.model_copy(update={"public_cache_seconds": 600})
    first = public_scope(engine, cached, "unit:pajak", now=NOW)
    assert first is not None and first.computed_at == NOW
    for _ in range(5):
        add_case(session, unit, local(date(2026, 11, 4)))
    session.commit()
    kept = public_scope(engine, cached, "unit:pajak", now=NOW + timedelta(minutes=1))
    assert kept is not None and kept.body["periods"]["2026-Q4"]["complaints"]["received"] == 0
    assert public_scope(engine, cached, "unit:nothing") is None
    live = settings.model_copy(update={"public_cache_seconds": 0})
    fresh = public_scope(engine, live, "unit:pajak", now=NOW + timedelta(minutes=2))
    assert fresh is not None and fresh.body["periods"]["2026-Q4"]["complaints"]["received"] == 5
    assert json.dumps(fresh.body)  # JSON all the way down
    assert fresh.computed_at == (NOW + timedelta(minutes=2)).astimezone(UTC)
