"""IKM per unit, service and element from the database, against hand-computed figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from core.shared.errors import InvalidInput
from core.surveys.unit_scores import Period, unit_score_detail, unit_scores
from tests.factories import add_response, local, make_service, make_unit

WITA = ZoneInfo("Asia/Makassar")
NOV = Period(date(2026, 11, 1), date(2026, 11, 30))


def test_unit_ikm_per_element_and_service(session: Session) -> None:
    unit = make_unit(session, "dukcapil", "Dinas Dukcapil", service_population=100)
    ktp = make_service(session, unit, "KTP-el")
    kk = make_service(session, unit, "Kartu Keluarga")
    add_response(session, unit, [4, 4, 4, 4, 4, 4, 4, 4, 4], local(date(2026, 11, 2)), ktp)
    add_response(session, unit, [3, 3, 3, 3, 3, 3, 3, 3, 3], local(date(2026, 11, 3)), ktp)
    add_response(session, unit, [2, 3, 1, 4, 2, 3, 2, 1, 3], local(date(2026, 11, 4)), kk)
    add_response(session, unit, [1, 1, 1, 1, 1, 1, 1, 1, 1], local(date(2026, 11, 5)))
    # Outside the period: the last local day of October (23:30 WITA = 15:30 UTC).
    add_response(session, unit, [1, 1, 1, 1, 1, 1, 1, 1, 1], local(date(2026, 10, 31), 23))
    session.commit()

    detail = unit_score_detail(session, unit, NOV, WITA, 1000)
    score = detail.unit.score
    # Element sums over 4 responses: q1 4+3+2+1 = 10, q2 11, q3 9, q4 12, q5 10, q6 11,
    # q7 10, q8 9, q9 11 -> total 93; IKM = 25 x 93 / (9 x 4) = 64.5833 -> 64.58 (D).
    assert score.n == 4
    assert score.element_sums == (10, 11, 9, 12, 10, 11, 10, 9, 11)
    assert score.ikm == Decimal("64.58")
    assert score.grade is not None and score.grade.letter == "D"
    elements = score.elements()
    assert [e.nrr for e in elements][:3] == [Decimal("2.500"), Decimal("2.750"), Decimal("2.250")]
    assert elements[0].weighted_nrr == Decimal("0.278")
    assert detail.unit.minimum_sample == 80
    assert not detail.unit.sample_sufficient

    by_name = {s.service_name: s.score for s in detail.services}
    assert by_name["KTP-el"].n == 2
    assert by_name["KTP-el"].ikm == Decimal("87.50")  # 25 x (36+27)/18 = 87.5 -> B
    assert by_name["Kartu Keluarga"].ikm == Decimal("58.33")  # 25 x 21/9
    assert by_name[None].ikm == Decimal("25.00")
    assert [s.service_name for s in detail.services] == ["KTP-el", "Kartu Keluarga", None]


def test_unit_list_is_scoped_and_shows_units_without_answers(session: Session) -> None:
    a = make_unit(session, "a", "Alpha")
    b = make_unit(session, "b", "Beta")
    make_unit(session, "c", "Gamma")
    add_response(session, a, [4] * 9, local(date(2026, 11, 10)))
    add_response(session, b, [2] * 9, local(date(2026, 11, 10)))
    session.commit()
    assert a.id is not None and b.id is not None

    everything = unit_scores(session, NOV, WITA, None, 1000)
    assert [(u.unit_code, u.score.n) for u in everything] == [("a", 1), ("b", 1), ("c", 0)]
    assert everything[0].score.ikm == Decimal("100.00")
    assert everything[2].score.ikm is None

    scoped = unit_scores(session, NOV, WITA, frozenset({b.id}), 1000)
    assert [(u.unit_code, u.score.ikm) for u in scoped] == [("b", Decimal("50.00"))]


def test_period_is_in_local_days(session: Session) -> None:
    unit = make_unit(session, "kec-alak")
    # 00:30 WITA on 1 November is 16:30 UTC on 31 October: inside November.
    add_response(session, unit, [4] * 9, local(date(2026, 11, 1), 0))
    session.commit()
    assert unit_score_detail(session, unit, NOV, WITA, 10).unit.score.n == 1
    october = Period(date(2026, 10, 1), date(2026, 10, 31))
    assert unit_score_detail(session, unit, october, WITA, 10).unit.score.n == 0


def test_bad_periods_are_refused() -> None:
    with pytest.raises(InvalidInput, match="ends before"):
        Period(date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(InvalidInput, match="three years"):
        Period(date(2020, 1, 1), date(2026, 1, 1))
