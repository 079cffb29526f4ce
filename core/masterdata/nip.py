"""NIP (Nomor Induk Pegawai) validation: 18 digits YYYYMMDD YYYYMM G NNN.

Digits 1-8 are a birth date, 9-14 the year and month of first appointment (for PPPK a year
plus a two-digit code that is not a month, so 9-14 are not checked as a month), digit 15 the
sex (1 male, 2 female), 16-18 a sequence number.
"""

from __future__ import annotations

from datetime import date


class InvalidNip(ValueError):
    pass


def validate_nip(raw: str) -> str:
    """Return the normalised NIP (spaces removed) or raise InvalidNip with the reason."""
    nip = raw.replace(" ", "").strip()
    if not nip.isascii() or not nip.isdigit():
        raise InvalidNip("NIP must contain digits only")
    if len(nip) != 18:
        raise InvalidNip(f"NIP must be 18 digits, got {len(nip)}")
    try:
        born = date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        raise InvalidNip("NIP digits 1-8 must be a real birth date (YYYYMMDD)") from None
    if born.year < 1900:
        raise InvalidNip("NIP digits 1-8 must be a real birth date (YYYYMMDD)")
    year_appointed = int(nip[8:12])
    if not born.year < year_appointed <= 2100:
        raise InvalidNip("NIP digits 9-12 must be the year of appointment, after the birth year")
    if nip[14] not in "12":
        raise InvalidNip("NIP digit 15 must be 1 (male) or 2 (female)")
    return nip
