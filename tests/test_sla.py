"""SLA dates across weekends, Indonesian public holidays, the collective leave days (cuti
bersama) of the SKB 3 Menteri and the office's own closed days; the resolution clock's start.

The 2026 cuti bersama are those of the joint decree of the Minister of Religious Affairs,
the Minister of Manpower and the Minister of State Apparatus (SKB 3 Menteri) for 2026, as
the `holidays` package (0.109, category "government") records them: 16 Feb, 18 Mar, 20, 23
and 24 Mar, 15 May, 28 May and 24 Dec 2026."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

import core.cases.calendar as cal
from core.access import Actor
from core.cases.calendar import (
    ClosedDaysCache,
    add_closed_day,
    coming_year_without_cuti_bersama,
    list_closed_days,
    national_days_off,
    office_sla,
    remove_closed_day,
    standing_closed_days,
)
from core.cases.models import Case, CaseStatus, ClosedDay
from core.cases.policy import CasePolicy, ComplaintDraft
from core.cases.service import file_complaint, verify
from core.cases.sla import (
    ResolveFrom,
    SlaPolicy,
    WorkCalendar,
    add_working_days,
    cuti_bersama_days,
    is_working_day,
    time_left,
    working_days_left,
)
from core.people.models import Role
from core.shared.config import ConfigError, load_settings
from core.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.contacts import telegram_citizen
from tests.factories import make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
POLICY = SlaPolicy(tz=WITA)
NO_LEAVE = SlaPolicy(tz=WITA, cuti_bersama=False)
CUTI_BERSAMA_2026 = [
    date(2026, 2, 16),  # Tahun Baru Imlek
    date(2026, 3, 18),  # Hari Suci Nyepi
    date(2026, 3, 20),  # Idul Fitri
    date(2026, 3, 23),
    date(2026, 3, 24),
    date(2026, 5, 15),  # Kenaikan Yesus Kristus
    date(2026, 5, 28),  # Idul Adha
    date(2026, 12, 24),  # Natal
]


def wita(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=WITA)


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=WITA)


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


# Cuti bersama ---------------------------------------------------------------------------------


def test_the_2026_cuti_bersama_of_the_skb_are_days_off() -> None:
    assert sorted(cuti_bersama_days(2026)) == CUTI_BERSAMA_2026
    for day in CUTI_BERSAMA_2026:
        assert day.weekday() < 5  # each is a weekday the office would otherwise open
        assert not is_working_day(day), day
        assert NO_LEAVE.calendar().is_working_day(day), day  # switched off: a working day


def test_around_nyepi_and_idul_fitri_the_deadlines_move_by_up_to_a_week() -> None:
    """March 2026: Wed 18 cuti bersama, Thu 19 Nyepi, Fri 20 cuti bersama, Sat 21 - Sun 22
    Idul Fitri, Mon 23 and Tue 24 cuti bersama: the office is shut from 18 to 24 March."""
    tuesday = wita(date(2026, 3, 17))
    # Verification, 3 working days: Wed 25, Thu 26, Fri 27 (not Wed 18, Fri 20, Mon 23).
    assert POLICY.verify_due(tuesday) == end_of(date(2026, 3, 27))
    assert NO_LEAVE.verify_due(tuesday) == end_of(date(2026, 3, 23))
    # Follow-up, 5 working days after Monday 16: Tue 17, Wed 25, Thu 26, Fri 27, Mon 30
    # (counting cuti bersama as working days it would be Tue 24: six days early).
    monday = wita(date(2026, 3, 16))
    assert POLICY.followup_due(monday) == end_of(date(2026, 3, 30))
    assert NO_LEAVE.followup_due(monday) == end_of(date(2026, 3, 24))


def test_around_christmas_the_deadline_moves() -> None:
    """Thu 24 Dec 2026 cuti bersama, Fri 25 Dec Christmas."""
    wednesday = wita(date(2026, 12, 23))
    assert POLICY.verify_due(wednesday) == end_of(date(2026, 12, 30))  # Mon 28, Tue 29, Wed 30
    assert NO_LEAVE.verify_due(wednesday) == end_of(date(2026, 12, 29))  # Thu 24, Mon 28, Tue 29


def test_the_inbox_counts_the_days_left_without_cuti_bersama() -> None:
    due = POLICY.verify_due(wita(date(2026, 3, 17)))  # end of Fri 27 March
    now = wita(date(2026, 3, 17), 15)
    assert working_days_left(due, POLICY, now=now) == 3  # Wed 25, Thu 26, Fri 27
    assert time_left(due, POLICY, now=wita(date(2026, 3, 24))).working_days == 3


def test_the_coming_year_without_cuti_bersama_is_named() -> None:
    """The SKB is signed late each year; until `holidays` knows it, admins are told."""
    assert coming_year_without_cuti_bersama(date(2026, 6, 1), POLICY) is None  # too early
    assert coming_year_without_cuti_bersama(date(2026, 11, 30), POLICY) is None  # 2027 known
    assert coming_year_without_cuti_bersama(date(2099, 11, 30), POLICY) == 2100
    assert coming_year_without_cuti_bersama(date(2099, 11, 30), NO_LEAVE) is None


def test_settings_choose_cuti_bersama_and_the_resolution_start() -> None:
    base = {"environment": "test", "_env_file": None}
    default = SlaPolicy.from_settings(load_settings(**base))  # type: ignore[arg-type]
    assert default.cuti_bersama and default.resolve_from is ResolveFrom.complete
    chosen = SlaPolicy.from_settings(
        load_settings(sla_cuti_bersama=False, sla_resolve_from="received", **base)  # type: ignore[arg-type]
    )
    assert not chosen.cuti_bersama and chosen.resolve_from is ResolveFrom.received
    with pytest.raises(ConfigError, match="SLA_RESOLVE_FROM: Input should be 'received' or"):
        load_settings(sla_resolve_from="verified", **base)  # type: ignore[arg-type]


# The office's closed days ------------------------------------------------------------------

NOW = wita(date(2026, 11, 30), 9)  # Monday 30 November 2026
DESC = "Petugas loket meminta uang tambahan untuk mempercepat KTP-el saya."


class Office:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
        admin = make_user(session, "admin", Role.admin)
        spv = make_user(session, "spv", Role.supervisor, [self.unit])
        assert admin.id is not None and spv.id is not None and self.unit.id is not None
        self.admin = Actor(admin.id, "admin", Role.admin)
        self.spv = Actor(spv.id, "spv", Role.supervisor, frozenset({self.unit.id}))
        self.citizen = telegram_citizen(session, 9001)
        self.policy = CasePolicy(sla=POLICY, complaints_per_day=100)
        session.flush()

    def file(self, when: datetime) -> Case:
        assert self.unit.id is not None
        draft = ComplaintDraft(unit_id=self.unit.id, category="pungli", description=DESC)
        return file_complaint(self.s, self.citizen, draft, self.policy, now=when)

    def close(self, day: date, text: str = "Hari jadi Kota Kupang") -> tuple[ClosedDay, int]:
        return add_closed_day(self.s, day, text, POLICY, actor=self.admin, now=NOW)


@pytest.fixture
def office(session: Session) -> Office:
    return Office(session)


def test_a_closed_day_moves_running_deadlines_and_opening_it_moves_them_back(
    office: Office,
) -> None:
    """Filed Monday 30 Nov 10:00: verification due Thu 3 Dec. The office closes on Wed
    2 Dec: due Fri 4 Dec; opened again: Thu 3 Dec."""
    case = office.file(wita(date(2026, 11, 30)))
    assert case.verify_due_at == end_of(date(2026, 12, 3)) and case.due_at == case.verify_due_at
    entry, moved = office.close(date(2026, 12, 2))
    assert moved == 1
    office.s.refresh(case)
    assert case.verify_due_at == end_of(date(2026, 12, 4))
    assert case.due_at == case.verify_due_at
    assert entry.id is not None
    _, moved = remove_closed_day(office.s, entry.day, POLICY, actor=office.admin, now=NOW)
    assert moved == 1
    office.s.refresh(case)
    assert case.verify_due_at == end_of(date(2026, 12, 3)) and case.due_at == case.verify_due_at


def test_only_the_deadlines_a_closed_day_crosses_move(office: Office) -> None:
    before = office.file(wita(date(2026, 11, 23)))  # due Thu 26 Nov: before the closed day
    after = office.file(wita(date(2026, 12, 3)))  # filed after it: Tue 8 Dec
    verified = office.file(wita(date(2026, 11, 27)))  # Fri 27 Nov
    verify(office.s, verified, office.policy, actor=office.spv, now=wita(date(2026, 11, 30)))
    assert verified.followup_due_at == end_of(date(2026, 12, 7))  # 5 working days after Mon
    dues = (before.verify_due_at, after.verify_due_at)
    _, moved = office.close(date(2026, 12, 2))
    assert moved == 1  # the follow-up only
    for case in (before, after, verified):
        office.s.refresh(case)
    assert (before.verify_due_at, after.verify_due_at) == dues
    assert verified.followup_due_at == end_of(date(2026, 12, 8))
    assert verified.due_at == verified.followup_due_at


def test_a_closed_day_counts_for_deadlines_computed_after_it(office: Office) -> None:
    office.close(date(2026, 12, 2))
    case = office.file(wita(date(2026, 11, 30)))
    assert case.verify_due_at == end_of(date(2026, 12, 4))
    verify(office.s, case, office.policy, actor=office.spv, now=wita(date(2026, 12, 1)))
    # 5 working days after Tue 1 Dec: Thu 3, Fri 4, Mon 7, Tue 8, Wed 9.
    assert case.followup_due_at == end_of(date(2026, 12, 9))


def test_the_deadlines_move_in_batches(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cal, "BATCH", 2)
    cases = [office.file(wita(date(2026, 11, 30), 8 + i)) for i in range(5)]
    ids = [c.id for c in cases]
    _, moved = office.close(date(2026, 12, 1))
    assert moved == 5
    rows = office.s.exec(select(Case).where(Case.id.in_(ids))).all()  # type: ignore[union-attr]
    assert {c.verify_due_at for c in rows} == {end_of(date(2026, 12, 4))}


def test_closed_days_are_checked_and_audited(office: Office) -> None:
    with pytest.raises(Forbidden):
        add_closed_day(office.s, date(2026, 12, 2), "Libur", POLICY, actor=office.spv, now=NOW)
    refused = {
        date(2026, 12, 5): "case.closed_day_weekend",  # a Saturday
        date(2026, 12, 25): "case.closed_day_national",  # Christmas
        date(2026, 12, 24): "case.closed_day_national",  # cuti bersama
        date(2030, 1, 2): "case.closed_day_out_of_range",
        date(2025, 11, 3): "case.closed_day_out_of_range",
    }
    for day, why in refused.items():
        with pytest.raises(InvalidInput) as err:
            office.close(day)
        assert err.value.why == why, day
    for text, why in (
        ("   ", "case.closed_day_no_description"),
        ("x" * 201, "case.closed_day_too_long"),
    ):
        with pytest.raises(InvalidInput) as err:
            office.close(date(2026, 12, 2), text)
        assert err.value.why == why
    entry, _ = office.close(date(2026, 12, 2), "  Banjir   di kantor ")
    assert entry.description == "Banjir di kantor"
    with pytest.raises(Conflict):
        office.close(date(2026, 12, 2))
    assert entry.id is not None
    [shown] = list_closed_days(office.s, actor=office.admin, since=date(2026, 11, 30))
    assert (shown.day, shown.created_by) == (date(2026, 12, 2), "admin")
    later = NOW + timedelta(hours=1)
    remove_closed_day(office.s, entry.day, POLICY, actor=office.admin, now=later)
    with pytest.raises(NotFound):
        remove_closed_day(office.s, entry.day, POLICY, actor=office.admin, now=NOW)
    again, _ = office.close(date(2026, 12, 2), "Libur daerah")  # may be closed again
    office.s.flush()
    rows = office.s.exec(select(ClosedDay).order_by(ClosedDay.id)).all()  # type: ignore[arg-type]
    assert [(r.created_by_id, r.removed_by_id, r.removed_at is not None) for r in rows] == [
        (office.admin.user_id, office.admin.user_id, True),
        (office.admin.user_id, None, False),
    ]
    assert standing_closed_days(office.s) == {date(2026, 12, 2)}
    assert list_closed_days(office.s, actor=office.admin, since=date(2026, 12, 3)) == []
    with pytest.raises(Forbidden):
        list_closed_days(office.s, actor=office.spv)
    assert again.id != entry.id


def test_the_process_cache_rereads_after_a_change_or_when_old(office: Office) -> None:
    office.s.commit()
    clock = [100.0]
    cache = ClosedDaysCache(office.s.get_bind(), max_age=30, monotonic=lambda: clock[0])  # type: ignore[arg-type]
    sla = SlaPolicy(tz=WITA, closed_days=cache)
    assert cache() == frozenset()
    office.close(date(2026, 12, 2))
    assert cache() == frozenset()  # not committed yet: nothing changed for others
    office.s.commit()
    assert cache() == {date(2026, 12, 2)}  # this process changed them: read again at once
    due = sla.verify_due(wita(date(2026, 11, 30)))
    assert due == end_of(date(2026, 12, 4))
    assert working_days_left(due, sla, now=wita(date(2026, 11, 30))) == 3  # Tue, Thu, Fri
    # Another process's change (written here without this module) is seen within max_age.
    office.s.add(ClosedDay(day=date(2026, 12, 10), description="Libur", created_at=NOW))
    office.s.commit()
    assert date(2026, 12, 10) not in cache()
    clock[0] += 31
    assert date(2026, 12, 10) in cache()
    assert office_sla(office.s, POLICY).closed_days() == {date(2026, 12, 2), date(2026, 12, 10)}


def test_the_admins_page_lists_the_national_days_off() -> None:
    days = national_days_off(date(2026, 12, 1), date(2026, 12, 31), POLICY)
    assert [(d.day, d.cuti_bersama) for d in days] == [
        (date(2026, 12, 24), True),
        (date(2026, 12, 25), False),
    ]
    assert "Natal" in days[1].name
    without = national_days_off(date(2026, 12, 1), date(2026, 12, 31), NO_LEAVE)
    assert [d.day for d in without] == [date(2026, 12, 25)]


@given(st.dates(date(2026, 1, 1), date(2027, 12, 31)), st.integers(1, 10))
def test_a_closed_day_is_never_a_working_day(start: date, n: int) -> None:
    closed = frozenset({start + timedelta(days=2), start + timedelta(days=5)})
    calendar = WorkCalendar(closed=closed)
    end = calendar.add_working_days(start, n)
    assert calendar.is_working_day(end) and end not in closed
    assert calendar.working_days_between(start, end) == n
    assert end >= add_working_days(start, n)


def test_the_resolution_clock_starts_when_the_file_is_complete(office: Office) -> None:
    """Perpres 76/2013: 60 days from the day the file is complete (here: verification)."""
    case = office.file(wita(date(2026, 11, 2)))
    assert case.resolve_due_at == end_of(date(2027, 1, 1))
    verify(office.s, case, office.policy, actor=office.spv, now=wita(date(2026, 11, 5)))
    assert case.resolve_due_at == end_of(date(2027, 1, 4))
    received = CasePolicy(sla=SlaPolicy(tz=WITA, resolve_from=ResolveFrom.received))
    other = office.file(wita(date(2026, 11, 2)))
    verify(office.s, other, received, actor=office.spv, now=wita(date(2026, 11, 5)))
    assert other.resolve_due_at == end_of(date(2027, 1, 1))
    assert other.status == CaseStatus.verified


def test_two_admins_closing_the_same_day_at_once(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second one, who read the list before the first one's entry, is told it is taken
    (the unique index decides), and the transaction goes on."""
    office.close(date(2026, 12, 2))
    monkeypatch.setattr(cal, "standing_closed_days", lambda _session: frozenset())
    with pytest.raises(Conflict) as err:
        office.close(date(2026, 12, 2), "Libur daerah")
    assert err.value.why == "case.closed_day_taken"
    monkeypatch.undo()
    assert standing_closed_days(office.s) == {date(2026, 12, 2)}
    office.close(date(2026, 12, 3))
    assert standing_closed_days(office.s) == {date(2026, 12, 2), date(2026, 12, 3)}
