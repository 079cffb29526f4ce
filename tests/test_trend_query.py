"""The 12-month IKM trend of a unit's page comes from one grouped query, with each month
split at local midnight (WITA, UTC+8): the same figures as the unit's IKM for that month."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.surveys.trend import month_end, monthly_trend
from core.surveys.unit_scores import Period, unit_ikm
from tests.factories import add_response, make_unit

WITA = ZoneInfo("Asia/Makassar")


@contextmanager
def _selects(engine: Engine) -> Iterator[list[str]]:
    """Every SELECT the engine sends while the block runs (SQLite's own BEGIN aside)."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_the_trend_splits_months_at_local_midnight_in_one_select(
    engine: Engine, session: Session
) -> None:
    unit = make_unit(session, "capil")
    other = make_unit(session, "pajak")
    answers = [
        # Before the twelve months: 30 November 2025, 23.59 WITA.
        (_utc(2025, 11, 30, 15, 59), [1] * 9),
        # The first of them: 1 December 2025, 00.00 WITA.
        (_utc(2025, 11, 30, 16, 0), [2] * 9),
        # 31 March 2026, 23.30 WITA: March, though the UTC time is 15.30.
        (_utc(2026, 3, 31, 15, 30), [4] * 9),
        (_utc(2026, 3, 31, 15, 59, 59), [3, 4, 3, 4, 3, 4, 3, 4, 3]),
        # 1 April 2026, 00.00 and 00.10 WITA: April, though the UTC date is 31 March.
        (_utc(2026, 3, 31, 16, 0), [2] * 9),
        (_utc(2026, 3, 31, 16, 10), [1, 2, 3, 4, 1, 2, 3, 4, 1]),
        (_utc(2026, 4, 15, 2, 0), [3] * 9),
        # The last day of the last month, 30 November 2026, 23.59 WITA; then 1 December.
        (_utc(2026, 11, 30, 15, 59), [4] * 9),
        (_utc(2026, 11, 30, 16, 0), [1] * 9),
    ]
    for at, values in answers:
        add_response(session, unit, values, at=at)
    add_response(session, other, [1] * 9, at=_utc(2026, 3, 31, 15, 30))
    session.commit()

    with _selects(engine) as sent:
        points = monthly_trend(session, unit.id or 0, date(2026, 11, 20), WITA)
    assert len(sent) == 1

    assert [p.month for p in points] == [date(2025, 12, 1)] + [
        date(2026, m, 1) for m in range(1, 12)
    ]
    by_month = {p.month: p.score for p in points}
    assert by_month[date(2025, 12, 1)].n == 1
    assert by_month[date(2026, 3, 1)].n == 2
    assert by_month[date(2026, 4, 1)].n == 3
    assert by_month[date(2026, 11, 1)].n == 1 and by_month[date(2026, 11, 1)].ikm == 100
    assert by_month[date(2026, 2, 1)].n == 0 and by_month[date(2026, 2, 1)].ikm is None
    assert sum(p.score.n for p in points) == 7
    for point in points:
        month = Period(point.month, month_end(point.month))
        assert point.score == unit_ikm(session, unit.id or 0, month, WITA), point.month


def test_the_first_months_the_service_knows_count_from_local_midnight_of_2000(
    engine: Engine, session: Session
) -> None:
    unit = make_unit(session, "capil")
    add_response(session, unit, [4] * 9, at=_utc(1999, 12, 31, 15, 59))  # 23.59 WITA, 1999
    add_response(session, unit, [3] * 9, at=_utc(1999, 12, 31, 16, 0))  # 00.00 WITA, 2000
    add_response(session, unit, [2] * 9, at=_utc(2000, 3, 5, 2, 0))
    session.commit()

    with _selects(engine) as sent:
        points = monthly_trend(session, unit.id or 0, date(2000, 3, 5), WITA)
    assert len(sent) == 1

    assert [p.month for p in points][:2] == [date(1999, 4, 1), date(1999, 5, 1)]
    before = [p for p in points if p.month < date(2000, 1, 1)]
    assert len(before) == 9 and all(p.score.n == 0 for p in before)
    by_month = {p.month: p.score for p in points}
    assert by_month[date(2000, 1, 1)].n == 1 and by_month[date(2000, 1, 1)].ikm == 75
    assert by_month[date(2000, 2, 1)].n == 0
    assert by_month[date(2000, 3, 1)].n == 1 and by_month[date(2000, 3, 1)].ikm == 50


def test_a_zone_with_summer_time_splits_months_as_the_unit_score_does(
    engine: Engine, session: Session
) -> None:
    """Any configured zone: in Berlin, March starts at UTC+1 and April at UTC+2."""
    berlin = ZoneInfo("Europe/Berlin")
    unit = make_unit(session, "capil")
    add_response(session, unit, [4] * 9, at=_utc(2026, 2, 28, 22, 59))  # 23.59 in February
    add_response(session, unit, [3] * 9, at=_utc(2026, 2, 28, 23, 0))  # 00.00 on 1 March
    add_response(session, unit, [2] * 9, at=_utc(2026, 3, 31, 21, 59))  # 23.59 on 31 March
    add_response(session, unit, [1] * 9, at=_utc(2026, 3, 31, 22, 0))  # 00.00 on 1 April
    session.commit()

    points = monthly_trend(session, unit.id or 0, date(2026, 4, 10), berlin)
    by_month = {p.month: p.score for p in points}
    assert [by_month[date(2026, m, 1)].n for m in (2, 3, 4)] == [1, 2, 1]
    for point in points:
        month = Period(point.month, month_end(point.month))
        assert point.score == unit_ikm(session, unit.id or 0, month, berlin), point.month
