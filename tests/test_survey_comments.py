"""Citizens' comments of a unit (newest first, searchable, keyset pages, only for units the
viewer may see, never an identity), its 12-month IKM trend and its respondent profile."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from core.access import Actor
from core.people.models import Role
from core.shared.errors import InvalidInput, NotFound
from core.surveys.comments import Cursor, unit_comments
from core.surveys.trend import month_end, month_start, monthly_trend, respondent_profile
from core.surveys.unit_scores import Period
from tests.factories import add_response, make_service, make_unit

WITA = ZoneInfo("Asia/Makassar")


def _commented(session: Session, unit, text: str | None, at: datetime, service=None):  # type: ignore[no-untyped-def]
    r = add_response(session, unit, [4] * 9, at=at, service=service, citizen_id=None)
    r.comment = text
    session.add(r)
    session.flush()
    return r


def test_comments_come_newest_first_with_service_and_date_and_page_by_keyset(
    session: Session,
) -> None:
    unit = make_unit(session, "capil")
    other = make_unit(session, "pajak")
    ktp = make_service(session, unit, "KTP-el")
    base = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    for i in range(5):
        _commented(session, unit, f"Komentar {i}", base + timedelta(hours=i), ktp)
    same = base + timedelta(hours=10)
    _commented(session, unit, "Sama waktu A", same)
    _commented(session, unit, "Sama waktu B", same)
    _commented(session, unit, None, base + timedelta(hours=11))
    _commented(session, unit, "", base + timedelta(hours=12))
    _commented(session, other, "Unit lain", base + timedelta(hours=13))
    head = Actor(1, "kadis", Role.unit_head, frozenset({unit.id or 0}))

    first = unit_comments(session, unit.id or 0, actor=head, limit=3)
    assert [c.text for c in first.comments] == ["Sama waktu B", "Sama waktu A", "Komentar 4"]
    assert first.comments[2].service_name == "KTP-el"
    assert first.comments[0].service_name is None
    assert first.next is not None
    token = first.next.token()
    second = unit_comments(session, unit.id or 0, actor=head, after=Cursor.parse(token), limit=3)
    assert [c.text for c in second.comments] == ["Komentar 3", "Komentar 2", "Komentar 1"]
    third = unit_comments(session, unit.id or 0, actor=head, after=second.next, limit=3)
    assert [c.text for c in third.comments] == ["Komentar 0"]
    assert third.next is None
    # Nothing that identifies who answered is part of a comment.
    assert set(vars(first.comments[0])) == {"response_id", "created_at", "service_name", "text"}


def test_comment_search_is_a_plain_case_insensitive_substring(session: Session) -> None:
    unit = make_unit(session, "capil")
    at = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    _commented(session, unit, "Antrean LAMA sekali", at)
    _commented(session, unit, "Petugas ramah", at + timedelta(minutes=1))
    _commented(session, unit, "Diskon 100% untuk_biaya", at + timedelta(minutes=2))
    admin = Actor(1, "admin", Role.admin)
    found = unit_comments(session, unit.id or 0, actor=admin, text="  lama ")
    assert [c.text for c in found.comments] == ["Antrean LAMA sekali"]
    assert [
        c.text for c in unit_comments(session, unit.id or 0, actor=admin, text="%").comments
    ] == ["Diskon 100% untuk_biaya"]
    assert unit_comments(session, unit.id or 0, actor=admin, text="s_k").comments == []
    with pytest.raises(InvalidInput):
        unit_comments(session, unit.id or 0, actor=admin, text="x" * 201)


def test_comments_of_a_unit_outside_the_viewers_units_are_not_found(session: Session) -> None:
    unit = make_unit(session, "capil")
    other = make_unit(session, "pajak")
    _commented(session, other, "Rahasia unit lain", datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    head = Actor(1, "kadis", Role.unit_head, frozenset({unit.id or 0}))
    with pytest.raises(NotFound):
        unit_comments(session, other.id or 0, actor=head)


@pytest.mark.parametrize("token", ["", "abc", "2026-1", "20261102010000000000-x", "9" * 40])
def test_a_tampered_page_position_is_refused(token: str) -> None:
    with pytest.raises(InvalidInput):
        Cursor.parse(token)


def test_month_arithmetic_crosses_years() -> None:
    assert month_start(date(2026, 2, 17), 2) == date(2025, 12, 1)
    assert month_start(date(2026, 12, 31), -1) == date(2027, 1, 1)
    assert month_end(date(2028, 2, 1)) == date(2028, 2, 29)


def test_the_trend_has_one_point_per_local_month_with_its_responses(session: Session) -> None:
    """PermenPANRB 14/2017 annex: IKM = 25 x sum(NRR x 1/9); all answers 4 give 100.00.
    A response at 23.30 WITA on 31 October counts for October, not November (UTC date)."""
    unit = make_unit(session, "capil")
    at_local_end_of_october = datetime(2026, 10, 31, 15, 30, tzinfo=UTC)  # 23.30 WITA
    add_response(session, unit, [4] * 9, at=at_local_end_of_october)
    add_response(session, unit, [3] * 9, at=datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    add_response(session, unit, [1] * 9, at=datetime(2025, 11, 3, 2, 0, tzinfo=UTC))  # too old
    points = monthly_trend(session, unit.id or 0, date(2026, 11, 20), WITA)
    assert len(points) == 12
    assert points[0].month == date(2025, 12, 1) and points[-1].month == date(2026, 11, 1)
    by_month = {p.month: p.score for p in points}
    assert by_month[date(2026, 10, 1)].n == 1
    assert by_month[date(2026, 10, 1)].ikm == 100
    assert by_month[date(2026, 11, 1)].n == 1
    assert by_month[date(2026, 11, 1)].ikm == 75
    assert sum(p.score.n for p in points) == 2


def test_the_profile_counts_each_answer_and_the_unanswered(session: Session) -> None:
    unit = make_unit(session, "capil")
    at = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    for sex, age in [("perempuan", "20-29"), ("perempuan", "30-39"), ("laki-laki", None)]:
        r = add_response(session, unit, [3] * 9, at=at)
        r.sex, r.age_band = sex, age
        session.add(r)
        at += timedelta(minutes=1)
    session.flush()
    profile = respondent_profile(
        session, unit.id or 0, Period(date(2026, 11, 1), date(2026, 11, 30)), WITA
    )
    assert profile["sex"] == [("perempuan", 2), ("laki-laki", 1)]
    assert profile["age_band"] == [("20-29", 1), ("30-39", 1), (None, 1)]
    assert profile["education"] == [(None, 3)]


def test_the_trend_of_the_first_months_the_service_knows_has_empty_months_before(
    session: Session,
) -> None:
    unit = make_unit(session, "capil")
    points = monthly_trend(session, unit.id or 0, date(2000, 3, 5), WITA)
    assert [p.month for p in points][:2] == [date(1999, 4, 1), date(1999, 5, 1)]
    assert all(p.score.n == 0 for p in points)
