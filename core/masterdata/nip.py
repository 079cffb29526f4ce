"""NIP validation: the 18-digit number of a civil servant, PNS or PPPK.

PNS (Nomor Identitas PNS, Peraturan Kepala BKN No. 22 Tahun 2007):
    YYYYMMDD  YYYYMM  G  NNN
    digits 1-8 birth date, 9-14 year and month of first appointment (TMT CPNS, always the
    first of that month), 15 sex (1 male, 2 female), 16-18 sequence number 001-999 (the sequence
    starts at 001 for every combination of the first 15 digits).
PPPK (Nomor Induk PPPK, "NI PPPK", assigned by BKN since the first PPPK appointments of 2019):
    YYYYMMDD  YYYY  KK  G  NNN
    digits 1-8 birth date, 9-12 year of first appointment as PPPK, 13-14 a two-digit code that is
    not a month (BKN's numbers use 21 for PPPK and 24 for part-time PPPK; BKN describes the field
    as "jumlah perjanjian kerja"), 15 sex, 16-18 sequence 001-999.

A number whose digits 13-14 are a month (01-12) is a PNS number, 13-99 a PPPK number, 00 neither.
What the dates imply is checked too (docs/rules.md, "NIP", has every bound and its source):
- the birth date is a real calendar date, not before 1900 and not after today;
- PNS: the appointment month is not after the current month; the officer was at least 18 at
  TMT CPNS (PP 11/2017 art. 23: a CPNS applicant is 18 to 35, 40 for some positions) and at most
  MAX_PNS_AGE_AT_TMT (numbers of honorary staff appointed under PP 48/2005 jo. PP 56/2012, up
  to 46 years old on 1 January 2006 and appointed until 2015, reach 56);
- PPPK: the appointment year is 2019 or later (PP 49/2018) and not after this year; the officer
  was 20 or older (PP 49/2018 art. 16) and at most MAX_PPPK_AGE (one year before the highest
  retirement age of a position, 65) in that year.

"today" is passed in; without it, the date that is already today somewhere on Earth (UTC+14), so
that a number appointed this month is never refused because the server's clock is still in
yesterday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from core.shared.clock import utcnow

NIP_LENGTH = 18
EARLIEST_BIRTH_YEAR = 1900
MIN_PNS_AGE_AT_TMT = 18
MAX_PNS_AGE_AT_TMT = 57  # below 58, the lowest retirement age (UU 5/2014 art. 90)
FIRST_PPPK_YEAR = 2019
MIN_PPPK_AGE = 20
MAX_PPPK_AGE = 64
LATEST_TIMEZONE = timedelta(hours=14)  # UTC+14 (Kiribati): the first place where a day begins


class InvalidNip(ValueError):
    pass


class NipKind(StrEnum):
    pns = "pns"
    pppk = "pppk"


@dataclass(frozen=True)
class Nip:
    number: str
    kind: NipKind
    birth_date: date
    appointed_year: int
    appointed_month: int | None  # PNS only: the TMT CPNS month
    pppk_code: int | None  # PPPK only: digits 13-14
    sex: int  # 1 male, 2 female
    sequence: int


def default_today() -> date:
    """Today's date somewhere on Earth (the most advanced time zone)."""
    return (utcnow() + LATEST_TIMEZONE).date()


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def parse_nip(raw: str, today: date | None = None) -> Nip:
    """The parts of a NIP, or InvalidNip naming the digits that cannot be right and why."""
    today = today or default_today()
    nip = raw.replace(" ", "").strip()
    if not nip.isascii() or not nip.isdigit():
        raise InvalidNip("NIP must contain digits only")
    if len(nip) != NIP_LENGTH:
        raise InvalidNip(f"NIP must be 18 digits, got {len(nip)}")
    try:
        born = date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        raise InvalidNip(
            f"NIP digits 1-8 must be a real birth date (YYYYMMDD), got {nip[0:8]}"
        ) from None
    if born.year < EARLIEST_BIRTH_YEAR:
        raise InvalidNip(
            f"NIP digits 1-8 must be a real birth date (YYYYMMDD), got {nip[0:8]}"
            f" (before {EARLIEST_BIRTH_YEAR})"
        )
    if born > today:
        raise InvalidNip(f"NIP digits 1-8: the birth date {born.isoformat()} lies in the future")
    sex = int(nip[14])
    if sex not in (1, 2):
        raise InvalidNip(f"NIP digit 15 must be 1 (male) or 2 (female), got {nip[14]}")
    sequence = int(nip[15:18])
    if sequence == 0:
        raise InvalidNip("NIP digits 16-18 must be a sequence number from 001 to 999, got 000")
    year = int(nip[8:12])
    code = int(nip[12:14])
    if code == 0:
        raise InvalidNip(
            "NIP digits 13-14 must be the month of first appointment (01-12) for a PNS,"
            " or the PPPK code (for example 21) for a PPPK; got 00"
        )
    if code <= 12:
        _check_pns(born, year, code, today)
        return Nip(nip, NipKind.pns, born, year, code, None, sex, sequence)
    _check_pppk(born, year, today)
    return Nip(nip, NipKind.pppk, born, year, None, code, sex, sequence)


def _check_pns(born: date, year: int, month: int, today: date) -> None:
    tmt_text = f"{year:04d}-{month:02d}"
    if (year, month) > (today.year, today.month):
        raise InvalidNip(
            f"NIP digits 9-14: the first appointment (TMT CPNS {tmt_text}) lies in the future"
        )
    if year < 1:  # year 0000: not a date at all
        raise InvalidNip("NIP digits 9-14 must be the year and month of first appointment")
    tmt = date(year, month, 1)
    if tmt <= born:
        raise InvalidNip(
            f"NIP digits 9-14: the first appointment (TMT CPNS {tmt_text}) is not after the"
            f" birth date ({born.isoformat()})"
        )
    age = _age_on(born, tmt)
    if age < MIN_PNS_AGE_AT_TMT:
        raise InvalidNip(
            f"NIP digits 9-14: first appointment {tmt_text} at age {age}; a CPNS is at least"
            f" {MIN_PNS_AGE_AT_TMT} (PP 11/2017 art. 23)"
        )
    if age > MAX_PNS_AGE_AT_TMT:
        raise InvalidNip(
            f"NIP digits 9-14: first appointment {tmt_text} at age {age}; no CPNS is appointed"
            f" older than {MAX_PNS_AGE_AT_TMT}"
        )


def _check_pppk(born: date, year: int, today: date) -> None:
    if year < FIRST_PPPK_YEAR:
        raise InvalidNip(
            f"NIP digits 9-12: PPPK appointment year {year} is before {FIRST_PPPK_YEAR}, the"
            " first year PPPK were appointed (PP 49/2018); digits 13-14 of a PNS number are a"
            " month, 01-12"
        )
    if year > today.year:
        raise InvalidNip(f"NIP digits 9-12: the PPPK appointment year {year} lies in the future")
    # Year precision: the youngest age in that year is year - birth year - 1, the oldest
    # year - birth year (at its end).
    if year - born.year < MIN_PPPK_AGE:
        raise InvalidNip(
            f"NIP digits 9-12: born {born.isoformat()}, a PPPK appointed in {year} would be"
            f" younger than {MIN_PPPK_AGE} (PP 49/2018 art. 16)"
        )
    if year - born.year - 1 > MAX_PPPK_AGE:
        raise InvalidNip(
            f"NIP digits 9-12: born {born.isoformat()}, a PPPK appointed in {year} would be"
            f" older than {MAX_PPPK_AGE} (PP 49/2018 art. 16)"
        )


def validate_nip(raw: str, today: date | None = None) -> str:
    """Return the normalised NIP (spaces removed) or raise InvalidNip with the reason."""
    return parse_nip(raw, today).number
