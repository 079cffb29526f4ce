"""The SKM formula, grades and minimum sample of PermenPANRB 14/2017."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.surveys.skm import (
    _KM_TABLE,
    ELEMENT_COUNT,
    PRINTED_WEIGHT,
    grade_for,
    ikm_from_sums,
    ikm_with_printed_weight,
    minimum_sample,
    nrr,
    round2,
    round3,
    round_half_up,
    sample_sufficient,
    weighted_nrr,
)

answers = st.lists(st.integers(1, 4), min_size=9, max_size=9)


def _sums(responses: list[list[int]]) -> tuple[int, ...]:
    return tuple(sum(r[i] for r in responses) for i in range(9))


def test_worked_example_by_hand() -> None:
    # Three respondents. Element sums: 9,8,7,6,10,11,9,8,12 -> NRR 3, 2.667, 2.333, 2,
    # 3.333, 3.667, 3, 2.667, 4. Their sum is 80/3, the mean 80/27 = 2.96296...;
    # IKM = 25 x 80/27 = 74.074..., rounded 74.07: grade C (65.00-76.60).
    responses = [
        [3, 3, 2, 2, 4, 4, 3, 3, 4],
        [3, 2, 2, 2, 3, 4, 3, 2, 4],
        [3, 3, 3, 2, 3, 3, 3, 3, 4],
    ]
    assert _sums(responses) == (9, 8, 7, 6, 10, 11, 9, 8, 12)
    ikm = ikm_from_sums(_sums(responses), 3)
    assert ikm == Decimal("74.07")
    assert grade_for(ikm).letter == "C"
    assert grade_for(ikm).label == "Kurang Baik"


def test_weight_is_exactly_one_ninth_not_0_11() -> None:
    # All answers 4: 0.11 weights would give 25 x 4 x 0.99 = 99.00; exact weights give 100.
    assert ikm_from_sums((40,) * 9, 10) == Decimal("100.00")
    assert ikm_from_sums((10,) * 9, 10) == Decimal("25.00")


def test_rounding_happens_once_at_the_end() -> None:
    # 25 * 3.5327/... : choose sums whose exact IKM is x.xx5 to check half-up rounding.
    assert round2(Fraction(88305, 1000)) == Decimal("88.31")
    assert round2(Fraction(88304999, 1000000)) == Decimal("88.30")
    # 16 respondents, 522 points: IKM = 25 x 522 / 144 = 90.625 exactly -> 90.63 (half-up).
    assert ikm_from_sums((45, 60, 60, 60, 60, 60, 60, 60, 57), 16) == Decimal("90.63")


@pytest.mark.parametrize(
    ("ikm", "letter"),
    [
        ("88.31", "A"),
        ("88.30", "B"),
        ("76.61", "B"),
        ("76.60", "C"),
        ("65.00", "C"),
        ("64.99", "D"),
        ("100.00", "A"),
        ("25.00", "D"),
    ],
)
def test_grade_boundaries(ikm: str, letter: str) -> None:
    assert grade_for(Decimal(ikm)).letter == letter


@given(st.lists(answers, min_size=1, max_size=40))
def test_ikm_in_range_and_order_irrelevant(responses: list[list[int]]) -> None:
    ikm = ikm_from_sums(_sums(responses), len(responses))
    assert Decimal(25) <= ikm <= Decimal(100)
    shuffled = responses[:]
    random.Random(1).shuffle(shuffled)
    assert ikm_from_sums(_sums(shuffled), len(shuffled)) == ikm


@given(st.decimals(25, 100, places=2), st.decimals(25, 100, places=2))
def test_grade_is_monotone(a: Decimal, b: Decimal) -> None:
    lo, hi = sorted((a, b))
    assert grade_for(lo).letter >= grade_for(hi).letter  # "A" < "B" < ... as strings


@given(st.lists(answers, min_size=1, max_size=20), st.integers(0, 8))
def test_a_better_answer_never_lowers_the_ikm(responses: list[list[int]], element: int) -> None:
    before = ikm_from_sums(_sums(responses), len(responses))
    improved = [r[:] for r in responses]
    improved[0][element] = min(4, improved[0][element] + 1)
    assert ikm_from_sums(_sums(improved), len(improved)) >= before


def test_ikm_needs_responses() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ikm_from_sums((0,) * 9, 0)


@pytest.mark.parametrize(
    ("population", "sample"),
    [
        (1, 1),
        (10, 10),
        (11, 11),  # the next listed row says 14: more than the 11 people served
        (14, 14),
        (15, 14),
        (16, 16),  # next row 20 -> 19, capped at 16
        (20, 19),
        (100, 80),
        (101, 86),
        (1000, 278),
        (1001, 285),
        (100_000, 384),
        (1_000_000, 384),
        (5_000_000, 384),
    ],
)
def test_krejcie_morgan_uses_next_larger_population(population: int, sample: int) -> None:
    assert minimum_sample(population) == sample


# Krejcie & Morgan (1970), Table 1, as reproduced in the annex of PermenPANRB 14/2017: N -> S.
PUBLISHED = {
    10: 10, 15: 14, 20: 19, 25: 24, 30: 28, 35: 32, 40: 36, 45: 40, 50: 44, 55: 48, 60: 52,
    65: 56, 70: 59, 75: 63, 80: 66, 85: 70, 90: 73, 95: 76, 100: 80, 110: 86, 120: 92,
    130: 97, 140: 103, 150: 108, 160: 113, 170: 118, 180: 123, 190: 127, 200: 132, 210: 136,
    220: 140, 230: 144, 240: 148, 250: 152, 260: 155, 270: 159, 280: 162, 290: 165, 300: 169,
    320: 175, 340: 181, 360: 186, 380: 191, 400: 196, 420: 201, 440: 205, 460: 210, 480: 214,
    500: 217, 550: 226, 600: 234, 650: 242, 700: 248, 750: 254, 800: 260, 850: 265, 900: 269,
    950: 274, 1000: 278, 1100: 285, 1200: 291, 1300: 297, 1400: 302, 1500: 306, 1600: 310,
    1700: 313, 1800: 317, 1900: 320, 2000: 322, 2200: 327, 2400: 331, 2600: 335, 2800: 338,
    3000: 341, 3500: 346, 4000: 351, 4500: 354, 5000: 357, 6000: 361, 7000: 364, 8000: 367,
    9000: 368, 10000: 370, 15000: 375, 20000: 377, 30000: 379, 40000: 380, 50000: 381,
    75000: 382, 1000000: 384,
}  # fmt: skip


def _krejcie_morgan_formula(population: int) -> Fraction:
    """S = X^2 N P(1-P) / (d^2 (N-1) + X^2 P(1-P)), X^2 = 3.841, P = 0.5, d = 0.05."""
    chi2, p, d = Fraction(3841, 1000), Fraction(1, 2), Fraction(5, 100)
    return chi2 * population * p * (1 - p) / (d * d * (population - 1) + chi2 * p * (1 - p))


def test_every_published_row_is_in_the_table_and_returned() -> None:
    assert dict(_KM_TABLE) == PUBLISHED
    for population, sample in PUBLISHED.items():
        assert minimum_sample(population) == sample


def test_published_table_is_the_formula_rounded_to_the_nearest_integer() -> None:
    """The table rounds the formula to the nearest integer, not up: 15 -> 14.47 -> 14 (rounding
    up would give 15); so the table, not a rounded-up formula, is what the regulation asks."""
    for population, sample in PUBLISHED.items():
        exact = _krejcie_morgan_formula(population)
        assert abs(exact - sample) <= Fraction(1, 2), population
    assert _krejcie_morgan_formula(15) > 14  # rounding up would have asked 15


@given(st.integers(1, 2_000_000))
def test_minimum_is_never_more_than_the_population(population: int) -> None:
    minimum = minimum_sample(population)
    assert 1 <= minimum <= population and minimum <= 384
    # Never below what the formula asks (the table's next larger row is the safe side).
    assert minimum >= min(population, round(_krejcie_morgan_formula(population)) - 1)


@given(st.integers(1, 100_000), st.integers(0, 500))
def test_sample_sufficient_is_n_against_the_minimum(population: int, n: int) -> None:
    assert sample_sufficient(n, population) is (n >= minimum_sample(population))


def test_small_service_served_everyone_is_sufficient() -> None:
    """12 people served, all 12 answered: the table's 14 cannot be reached, the rule can."""
    assert minimum_sample(12) == 12 and sample_sufficient(12, 12)
    assert not sample_sufficient(11, 12)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Fraction(2345, 1000), 2, "2.35"),  # half-even would give 2.34
        (Fraction(2335, 1000), 2, "2.34"),
        (Fraction(28125, 10000), 3, "2.813"),  # 45/16; half-even: 2.812
        (Fraction(3125, 10000), 3, "0.313"),  # 45/144 = 0.3125; half-even: 0.312
        (Fraction(90625, 1000), 2, "90.63"),  # half-even: 90.62
        (Fraction(1, 3), 3, "0.333"),
        (Fraction(2, 3), 3, "0.667"),
        (Fraction(-2345, 1000), 2, "-2.35"),
        (Fraction(5, 2), 0, "3"),
        (Fraction(4), 3, "4.000"),
    ],
)
def test_round_half_up_is_exact(value: Fraction, places: int, expected: str) -> None:
    assert str(round_half_up(value, places)) == expected


@given(st.integers(0, 10**9), st.integers(1, 10**6), st.integers(0, 4))
def test_round_half_up_matches_decimal_half_up_on_exact_values(
    num: int, den: int, places: int
) -> None:
    """Against a reference: the exact quotient to 60 digits, then Decimal ROUND_HALF_UP."""
    from decimal import ROUND_HALF_UP, Context

    value = Fraction(num, den)
    ctx = Context(prec=80)
    exact = ctx.divide(Decimal(num), Decimal(den))
    # 80 digits decide every tie of a denominator up to 10^6 (a non-tie is at least 1/(2*10^6*10^4)
    # away from a tie).
    expected = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=ctx)
    assert round_half_up(value, places) == expected


def test_nrr_and_weighted_nrr_round_half_up_from_the_exact_mean() -> None:
    """16 responses whose answers to one element sum to 45: NRR 45/16 = 2.8125 exactly,
    weighted 45/144 = 0.3125 exactly; both sit on a half and go up."""
    assert nrr(45, 16) == Fraction(28125, 10000)
    assert round3(nrr(45, 16)) == Decimal("2.813")
    assert round3(weighted_nrr(45, 16)) == Decimal("0.313")
    assert weighted_nrr(45, 16) * ELEMENT_COUNT == nrr(45, 16)


def test_printed_weight_can_move_a_unit_across_a_grade_boundary() -> None:
    """20 respondents, 636 points over 180 answers: exact IKM 25 x 636 / 180 = 88.33 (A); with
    the rounded weight 0.111 it is 88.25 (B). The project grades the exact figure."""
    sums = (71, 71, 71, 71, 71, 71, 70, 70, 70)
    assert sum(sums) == 636
    assert ikm_from_sums(sums, 20) == Decimal("88.33")
    assert grade_for(ikm_from_sums(sums, 20)).letter == "A"
    assert Decimal("0.999") == PRINTED_WEIGHT * 9
    assert ikm_with_printed_weight(sums, 20) == Decimal("88.25")
    assert grade_for(ikm_with_printed_weight(sums, 20)).letter == "B"
