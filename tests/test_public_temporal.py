"""The security review's snapshot-differencing attacks (issue 17 review), as regression
tests: each takes two snapshots of the public figures a moment apart and tries what the
review did; each must now recover nothing.

1. A quarter published when it had 8 complaints, then a later snapshot where the next
   quarter has 3: the year minus the first quarter gave the 3 (H1).
2. A `rahasia` complaint arriving between two refreshes: the running year's categories
   gave its category.
3. One respondent answering between two refreshes: the running quarter's nine elements
   times n gave their nine answers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from core.cases.models import Case, CaseStatus
from core.masterdata.models import Unit
from core.shared.config import Settings
from core.surveys.models import SurveyResponse, answer_columns
from core.transparency.figures import compute_public_figures
from tests.factories import local, make_unit

pytestmark = pytest.mark.db

_refs = iter(range(1, 10**7))


def _case(
    session: Session, unit: Unit, when: datetime, category: str = "pungli", privacy: str = "biasa"
) -> None:
    assert unit.id is not None
    session.add(
        Case(
            reference=f"KPG-TMP-{next(_refs):07d}",
            unit_id=unit.id,
            category=category,
            description="x",
            privacy=privacy,
            status=CaseStatus.in_progress.value,
            received_at=when,
            verify_due_at=when + timedelta(days=3),
            resolve_due_at=when + timedelta(days=60),
        )
    )
    session.flush()


def _complaints(figures: dict[str, Any], unit: str, key: str) -> dict[str, Any]:
    found: dict[str, Any] = figures[f"unit:{unit}"]["periods"][key]["complaints"]
    return found


def test_a_small_quarter_is_not_the_year_minus_an_earlier_snapshot(
    session: Session, settings: Settings
) -> None:
    unit = make_unit(session, "TMP")
    for _ in range(8):  # the first quarter: 8 complaints
        _case(session, unit, local(date(2026, 2, 10)))
    march = compute_public_figures(session, settings, now=local(date(2026, 3, 31)))
    for _ in range(3):  # the second quarter: 3, which must stay hidden
        _case(session, unit, local(date(2026, 4, 7)))
    april = compute_public_figures(session, settings, now=local(date(2026, 4, 20)))
    assert _complaints(march, "TMP", "2026-Q1")["received"] == 8
    assert _complaints(april, "TMP", "2026-Q1")["received"] == 8
    assert _complaints(april, "TMP", "2026-Q2")["received"] == "<5"
    # Every period containing the small quarter is withheld: nothing to subtract from.
    for key in ("2026-S1", "2026"):
        assert _complaints(april, "TMP", key)["received"] is None, key
    # Once it reaches 5, the quarter, its semester and the year are published together.
    for _ in range(2):
        _case(session, unit, local(date(2026, 5, 4)))
    may = compute_public_figures(session, settings, now=local(date(2026, 5, 20)))
    assert [_complaints(may, "TMP", k)["received"] for k in ("2026-Q2", "2026-S1", "2026")] == [
        5,
        13,
        13,
    ]


def test_a_confidential_complaints_category_does_not_show_between_two_refreshes(
    session: Session, settings: Settings
) -> None:
    unit = make_unit(session, "TMP2")
    for _ in range(8):
        _case(session, unit, local(date(2026, 2, 10)), "pungli")
    for _ in range(6):
        _case(session, unit, local(date(2026, 2, 11)), "tidak_kompeten")
    before = compute_public_figures(session, settings, now=local(date(2026, 4, 20), 10))
    _case(session, unit, local(date(2026, 4, 20), 10), "pungli", privacy="rahasia")
    after = compute_public_figures(session, settings, now=local(date(2026, 4, 20), 11))
    # The periods still running show totals only: no category moved, in any of them.
    for key in ("2026", "2026-S1", "2026-Q2"):
        for side in (before, after):
            assert _complaints(side, "TMP2", key)["categories"] is None, key
    # The ended quarter keeps its breakdown, the same before and after.
    ended = {c["code"]: c["n"] for c in _complaints(after, "TMP2", "2026-Q1")["categories"]}
    assert (ended["pungli"], ended["tidak_kompeten"]) == (8, 6)
    assert _complaints(before, "TMP2", "2026-Q1") == _complaints(after, "TMP2", "2026-Q1")
    # What moved: the running totals (the page shows new totals after the next refresh).
    for key in ("2026", "2026-S1"):
        assert _complaints(before, "TMP2", key)["received"] == 14
        assert _complaints(after, "TMP2", key)["received"] is None  # the new quarter is 1
    assert _complaints(after, "TMP2", "2026-Q2")["received"] == "<5"


def test_one_respondents_answers_do_not_show_between_two_refreshes(
    session: Session, settings: Settings
) -> None:
    unit = make_unit(session, "SRV")
    assert unit.id is not None

    def add(day: date, answers: list[int]) -> None:
        at = local(day)
        session.add(
            SurveyResponse(
                unit_id=unit.id,
                **answer_columns(answers),
                channel="test",
                local_date=at.date(),
                created_at=at,
            )
        )
        session.flush()

    for k in range(10):
        add(date(2026, 1, 5 + k), [3] * 9)
    jan = compute_public_figures(session, settings, now=local(date(2026, 1, 31)))
    add(date(2026, 2, 3), [1, 4, 2, 1, 3, 1, 4, 2, 1])  # one respondent in February
    feb = compute_public_figures(session, settings, now=local(date(2026, 2, 20)))
    for side in (jan, feb):
        periods = side["unit:SRV"]["periods"]
        for key in ("2026", "2026-S1", "2026-Q1"):
            assert periods[key]["survey"]["elements"] == [], key  # running: no elements
        assert all(p["month"] < "2026-02" or p["ikm"] is None for p in periods["2026"]["trend"])
    q1 = jan["unit:SRV"]["periods"]["2026-Q1"]["survey"]
    assert (q1["n"], q1["ikm"]) == (10, 75.0)  # the running total
    # February's single answer is a small part: the quarter is withheld, not moved by it.
    q1 = feb["unit:SRV"]["periods"]["2026-Q1"]["survey"]
    assert (q1["n"], q1["ikm"], q1["status"]) == (11, None, "withheld")
    january = {p["month"]: p for p in feb["unit:SRV"]["periods"]["2026-Q1"]["trend"]}["2026-01"]
    assert (january["n"], january["ikm"]) == (10, 75.0)
