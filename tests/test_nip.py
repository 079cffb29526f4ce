"""NIP validation: PNS numbers (Peraturan Kepala BKN No. 22 Tahun 2007) and PPPK numbers (NI
PPPK, BKN), every part and what the dates imply about each other and about today.

Valid examples are the numbers published as worked examples of the format: 19680411 199303 1 009
and 19860926 201505 1 001 (explanations of Perka BKN 22/2007 by regional BKD pages), a PPPK
number of 2021 with code 21, and the part-time PPPK example 19900913 2025 24 2 014.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from core.access import Actor
from core.masterdata.nip import (
    MAX_PNS_AGE_AT_TMT,
    MAX_PPPK_AGE,
    InvalidNip,
    NipKind,
    default_today,
    parse_nip,
    validate_nip,
)
from core.masterdata.officer_import import import_officers
from core.people.models import Role
from tests.factories import make_unit

TODAY = date(2026, 11, 30)


def test_valid_pns() -> None:
    assert validate_nip("198504122010031002", TODAY) == "198504122010031002"


def test_spaces_are_removed() -> None:
    assert validate_nip("19850412 201003 1 002", TODAY) == "198504122010031002"


@pytest.mark.parametrize(
    "nip",
    [
        "19680411 199303 1 009",  # born 11 Apr 1968, TMT CPNS March 1993, male, 009
        "19860926 201505 1 001",  # born 26 Sep 1986, TMT CPNS May 2015
        "19900101 201501 2 002",  # female
    ],
)
def test_published_pns_examples_are_accepted(nip: str) -> None:
    parts = parse_nip(nip, TODAY)
    assert parts.kind is NipKind.pns and parts.appointed_month is not None


def test_parts_of_a_pns_number() -> None:
    parts = parse_nip("19680411 199303 1 009", TODAY)
    assert parts.birth_date == date(1968, 4, 11)
    assert (parts.appointed_year, parts.appointed_month) == (1993, 3)
    assert (parts.sex, parts.sequence, parts.pppk_code) == (1, 9, None)


@pytest.mark.parametrize(
    ("nip", "code"),
    [
        ("199001012021212001", 21),  # PPPK appointed 2021, code 21, female
        ("198103112022211003", 21),
        ("199009132025242014", 24),  # part-time PPPK (paruh waktu), 2025
    ],
)
def test_valid_pppk_whose_digits_13_14_are_not_a_month(nip: str, code: int) -> None:
    parts = parse_nip(nip, TODAY)
    assert parts.kind is NipKind.pppk and parts.pppk_code == code
    assert parts.appointed_month is None


def test_current_month_is_allowed_and_next_month_is_not() -> None:
    assert parse_nip("199504122026111002", TODAY).appointed_month == 11
    with pytest.raises(InvalidNip, match=r"TMT CPNS 2026-12\) lies in the future"):
        parse_nip("199504122026121002", TODAY)
    # The same number is fine once December has come.
    assert validate_nip("199504122026121002", date(2026, 12, 1))


def test_age_bounds_at_appointment() -> None:
    # 18 on the first day of the TMT month: the youngest a CPNS can be.
    assert validate_nip("200001012018011001", TODAY)
    with pytest.raises(InvalidNip, match="age 17; a CPNS is at least 18"):
        validate_nip("200001022018011001", TODAY)  # one day short of 18
    # Honorary staff appointed under PP 48/2005 jo. PP 56/2012: 46 on 1 Jan 2006, TMT 2015.
    assert validate_nip("195901022015121001", TODAY)
    assert validate_nip("195801012015011001", TODAY)  # 57 at TMT: the oldest accepted
    with pytest.raises(InvalidNip, match="age 58; no CPNS is appointed older than 57"):
        validate_nip("195701012015011001", TODAY)
    with pytest.raises(InvalidNip, match="age 60; no CPNS is appointed older than 57"):
        validate_nip("195001012010011001", TODAY)


def test_pppk_bounds() -> None:
    assert validate_nip("200412312024211001", TODAY)  # 20 by the end of 2024
    with pytest.raises(InvalidNip, match="younger than 20"):
        validate_nip("200501012024211001", TODAY)
    assert validate_nip("195601012021211001", TODAY)  # at most 64 in 2021
    with pytest.raises(InvalidNip, match=f"older than {MAX_PPPK_AGE}"):
        validate_nip("195501012021211001", TODAY)
    with pytest.raises(InvalidNip, match="before 2019"):
        validate_nip("199001012018212001", TODAY)
    with pytest.raises(InvalidNip, match="PPPK appointment year 2027 lies in the future"):
        validate_nip("199001012027212001", TODAY)


@pytest.mark.parametrize(
    ("nip", "reason"),
    [
        ("198502302010031002", "birth date"),  # 30 February
        ("198513012010031002", "birth date"),  # month 13
        ("198504002010031002", "birth date"),  # day 00
        ("189912312010031002", "before 1900"),
        ("202701012045011001", "birth date 2027-01-01 lies in the future"),
        ("198504122010033002", "digit 15"),
        ("198504122010030002", "digit 15"),
        ("198504122010031000", "16-18 must be a sequence number from 001 to 999"),
        ("198504122010001002", "13-14 must be the month of first appointment"),  # month 00
        ("19850412201003100", "18 digits"),
        ("1985041220100310021", "18 digits"),
        ("19850412201003100A", "digits only"),
        ("１９８５０４１２２０１００３１００２", "digits only"),  # full-width digits
        ("", "digits only"),
        ("198504121980031002", "first appointment .* is not after the birth date"),
        ("198504121985041002", "not after the birth date"),  # TMT = 1 Apr, born 12 Apr
        ("198504122030031002", "future"),  # TMT in 2030
        ("198504120000031002", "first appointment"),  # year 0000
    ],
)
def test_invalid(nip: str, reason: str) -> None:
    with pytest.raises(InvalidNip, match=reason):
        validate_nip(nip, TODAY)


def test_today_defaults_to_the_first_place_where_the_day_has_begun() -> None:
    from core.shared.clock import utcnow

    assert default_today() in {
        (utcnow() + timedelta(hours=14)).date(),
        (utcnow() + timedelta(hours=14, seconds=-5)).date(),
    }
    assert validate_nip("198504122010031002") == "198504122010031002"


def _months(year: int, month: int) -> int:
    return 12 * year + month - 1


@st.composite
def pns_numbers(draw: st.DrawFn) -> tuple[str, date, int, int]:
    """A number that can exist: TMT on the first of a month between the 18th birthday and
    the age bound, not after this month."""
    born = draw(st.dates(date(1950, 1, 1), date(2008, 10, 31)))
    first = _months(born.year + 18, born.month) + 1  # the first month begun at 18 or older
    last = min(_months(born.year + MAX_PNS_AGE_AT_TMT, born.month), _months(TODAY.year, 11))
    tmt_year, tmt_index = divmod(draw(st.integers(first, last)), 12)
    tmt_month = tmt_index + 1
    sex = draw(st.sampled_from([1, 2]))
    seq = draw(st.integers(1, 999))
    return f"{born:%Y%m%d}{tmt_year:04d}{tmt_month:02d}{sex}{seq:03d}", born, tmt_year, tmt_month


@given(pns_numbers())
def test_real_pns_numbers_are_accepted_and_read_back(case: tuple[str, date, int, int]) -> None:
    nip, born, year, month = case
    parts = parse_nip(nip, TODAY)
    assert (parts.birth_date, parts.appointed_year, parts.appointed_month) == (born, year, month)


@given(st.text(max_size=30))
def test_never_crashes_on_any_text(raw: str) -> None:
    try:
        nip = validate_nip(raw, TODAY)
    except InvalidNip:
        return
    assert len(nip) == 18 and nip.isdigit()


@given(st.text("0123456789", min_size=18, max_size=18))
def test_any_18_digits_either_parse_or_say_why(raw: str) -> None:
    try:
        parts = parse_nip(raw, TODAY)
    except InvalidNip as exc:
        reason = str(exc)
    else:
        reason = ""
        assert parts.birth_date <= TODAY and parts.sex in (1, 2) and 1 <= parts.sequence <= 999
    assert reason == "" or reason.startswith("NIP digit")


def test_import_names_the_reason_per_row(session: Session) -> None:
    """The officer CSV import reports each impossible NIP with its reason, on its row."""
    make_unit(session, "dukcapil", "Dinas Dukcapil")
    session.commit()
    csv = (
        b"nip,name,unit_code\n"
        b"199001012021212001,Maria Bria,dukcapil\n"
        b"199001012018212001,Too Early PPPK,dukcapil\n"
        b"198504122010031000,Sequence Zero,dukcapil\n"
        b"201001012020011001,Child,dukcapil\n"
    )
    report = import_officers(session, csv, actor=Actor(1, "admin", Role.admin))
    reasons = {e.row: e.reason for e in report.errors}
    assert set(reasons) == {3, 4, 5}
    assert "before 2019" in reasons[3]
    assert "sequence number from 001 to 999" in reasons[4]
    assert "a CPNS is at least 18" in reasons[5]
