"""The SKM formula, grades and minimum sample of PermenPANRB 14/2017."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.surveys.skm import grade_for, ikm_from_sums, minimum_sample, round2

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
        (11, 14),
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
