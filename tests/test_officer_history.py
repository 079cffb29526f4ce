"""An officer's score month by month (issue 15, the officer's page).

Each month is the fair officer score of docs/rules.md ("Officer feedback score"): a response
scores (q6 + q7) / 2 (SKM elements 6 and 7, PermenPANRB 14/2017 Annex), shrunk toward the
unit's mean of the same month with prior weight k = 10, at most 3 responses per respondent and
officer, and "belum cukup data" below min_n = 5 counted responses.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from core.surveys.officer_history import officer_history
from core.surveys.officer_scores import ScorePolicy
from tests.factories import add_response, local, make_officer, make_unit

WITA = ZoneInfo("Asia/Makassar")
POLICY = ScorePolicy(prior_weight=10, min_n=5, citizen_cap=3)


def answers(q6: int, q7: int) -> tuple[int, ...]:
    return (3, 3, 3, 3, 3, q6, q7, 3, 3)


def test_each_month_is_scored_on_its_own_with_the_caps_and_the_minimum(
    session: Session,
) -> None:
    unit = make_unit(session, "dukcapil")
    yohanes = make_officer(session, unit, "Yohanes Ndun")
    # November: 6 responses of 4 for Yohanes, 4 of 2 for the unit without an officer.
    # Unit mean m = (6*4 + 4*2) / 10 = 3.2; shrunk = (10*3.2 + 24) / (10 + 6) = 3.5.
    for day in range(1, 7):
        add_response(session, unit, answers(4, 4), at=local(date(2026, 11, day)), officer=yohanes)
    for day in range(1, 5):
        add_response(session, unit, answers(2, 2), at=local(date(2026, 11, day), 11))
    # October: 2 responses, below min_n.
    for day in (3, 4):
        add_response(session, unit, answers(4, 3), at=local(date(2026, 10, day)), officer=yohanes)
    # September: one respondent answers 6 times on 6 days: only 3 count.
    for day in range(1, 7):
        r = add_response(
            session, unit, answers(1, 1), at=local(date(2026, 9, day)), officer=yohanes
        )
        r.respondent_key = 2**62 + 7
        session.add(r)
    session.flush()

    months = officer_history(session, yohanes, date(2026, 11, 20), WITA, POLICY)

    assert [m.first for m in months] == [
        date(2026, 11, 1), date(2026, 10, 1), date(2026, 9, 1),
        date(2026, 8, 1), date(2026, 7, 1), date(2026, 6, 1),
    ]  # fmt: skip
    november, october, september, august = months[:4]
    assert november.score.n == 6 and not november.score.insufficient
    assert november.score.unit_mean == pytest.approx(3.2)
    assert november.score.shrunk == pytest.approx(3.5)
    assert 1.0 <= november.score.low < 3.5 < november.score.high <= 4.0
    assert october.score.n == 2 and october.score.insufficient
    assert september.score.n == 3 and september.score.insufficient
    assert august.score.n == 0 and august.score.insufficient


def test_a_month_ends_at_local_midnight(session: Session) -> None:
    """A response at 23:30 WITA on 31 October belongs to October, not November."""
    unit = make_unit(session, "dukcapil")
    yohanes = make_officer(session, unit, "Yohanes Ndun")
    add_response(session, unit, answers(4, 4), at=local(date(2026, 10, 31), 23), officer=yohanes)
    november, october = officer_history(session, yohanes, date(2026, 11, 5), WITA, POLICY, 2)
    assert (november.score.n, october.score.n) == (0, 1)
