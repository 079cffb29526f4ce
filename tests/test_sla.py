"""SLA dates across weekends and Indonesian public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from core.cases.sla import SlaPolicy, add_working_days, is_working_day

WITA = ZoneInfo("Asia/Makassar")
POLICY = SlaPolicy(tz=WITA)


def test_weekends_are_skipped() -> None:
    # Thursday 12 Nov 2026 + 3 working days = Fri 13, Mon 16, Tue 17.
    assert add_working_days(date(2026, 11, 12), 3) == date(2026, 11, 17)


def test_public_holidays_are_skipped() -> None:
    # Independence Day, Monday 17 Aug 2026: Fri 14 Aug + 1 working day = Tue 18 Aug.
    assert not is_working_day(date(2026, 8, 17))
    assert add_working_days(date(2026, 8, 14), 1) == date(2026, 8, 18)
    # Christmas, Friday 25 Dec 2026: Thu 24 Dec + 2 = Mon 28, Tue 29.
    assert add_working_days(date(2026, 12, 24), 2) == date(2026, 12, 29)


def test_due_times_are_the_end_of_the_local_day() -> None:
    # Received Friday 13 Nov 2026 at 23:30 WITA (15:30 UTC): a Friday receipt.
    received = datetime(2026, 11, 13, 15, 30, tzinfo=UTC)
    # 3 working days after Friday: Mon 16, Tue 17, Wed 18 -> due at 00:00 WITA on Thu 19.
    assert POLICY.verify_due(received) == datetime(2026, 11, 19, 0, 0, tzinfo=WITA)
    assert POLICY.followup_due(received) == datetime(2026, 11, 21, 0, 0, tzinfo=WITA)
    # 60 calendar days after 13 Nov is 12 Jan 2027.
    assert POLICY.resolve_due(received) == datetime(2027, 1, 13, 0, 0, tzinfo=WITA)
    # 00:30 WITA on Saturday is still Saturday locally (Friday in UTC).
    saturday = datetime(2026, 11, 13, 16, 30, tzinfo=UTC)
    assert POLICY.verify_due(saturday) == datetime(2026, 11, 19, 0, 0, tzinfo=WITA)


@given(st.dates(date(2024, 1, 1), date(2030, 12, 31)), st.integers(1, 30))
def test_working_day_arithmetic(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert is_working_day(end)
    counted = sum(
        is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1)
    )
    assert counted == n
