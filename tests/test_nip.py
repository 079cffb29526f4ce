"""NIP validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.masterdata.nip import InvalidNip, validate_nip


def test_valid_pns() -> None:
    assert validate_nip("198504122010031002") == "198504122010031002"


def test_spaces_are_removed() -> None:
    assert validate_nip("19850412 201003 1 002") == "198504122010031002"


def test_valid_pppk_whose_digits_9_to_14_are_not_a_month() -> None:
    # PPPK: year 2021 plus code 21 (not a month), female.
    assert validate_nip("199001012021212001") == "199001012021212001"


@pytest.mark.parametrize(
    ("nip", "reason"),
    [
        ("198502302010031002", "birth date"),  # 30 February
        ("198513012010031002", "birth date"),  # month 13
        ("198504122010033002", "digit 15"),
        ("198504122010030002", "digit 15"),
        ("19850412201003100", "18 digits"),
        ("1985041220100310021", "18 digits"),
        ("19850412201003100A", "digits only"),
        ("１９８５０４１２２０１００３１００２", "digits only"),  # full-width digits
        ("", "digits only"),
        ("198504121980031002", "appointment"),  # appointed before birth
    ],
)
def test_invalid(nip: str, reason: str) -> None:
    with pytest.raises(InvalidNip, match=reason):
        validate_nip(nip)


@given(st.text(max_size=30))
def test_never_crashes_on_any_text(raw: str) -> None:
    try:
        nip = validate_nip(raw)
    except InvalidNip:
        return
    assert len(nip) == 18 and nip.isdigit()
