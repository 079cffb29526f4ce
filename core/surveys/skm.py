"""SKM rules of PermenPANRB 14/2017: elements, the IKM formula, grades, minimum sample.

Every figure is computed exactly (Fraction) and rounded once, half-up, to the decimals it is
shown with (`round_half_up`): the IKM to 2 decimals, NRR and weighted NRR to 3. No float and no
Decimal context (whose default rounding is half-even) takes part in a shown figure.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

ELEMENTS: tuple[str, ...] = (
    "Persyaratan",
    "Sistem, Mekanisme, dan Prosedur",
    "Waktu Penyelesaian",
    "Biaya/Tarif",
    "Produk Spesifikasi Jenis Pelayanan",
    "Kompetensi Pelaksana",
    "Perilaku Pelaksana",
    "Penanganan Pengaduan, Saran dan Masukan",
    "Sarana dan Prasarana",
)
ELEMENT_COUNT = len(ELEMENTS)


@dataclass(frozen=True)
class Grade:
    letter: str
    label: str


GRADES: tuple[tuple[Decimal, Grade], ...] = (
    (Decimal("88.31"), Grade("A", "Sangat Baik")),
    (Decimal("76.61"), Grade("B", "Baik")),
    (Decimal("65.00"), Grade("C", "Kurang Baik")),
    (Decimal("25.00"), Grade("D", "Tidak Baik")),
)


def grade_for(ikm: Decimal) -> Grade:
    """Grade on the 2-decimal IKM value."""
    for floor, grade in GRADES:
        if ikm >= floor:
            return grade
    return GRADES[-1][1]


IKM_PLACES = 2
NRR_PLACES = 3

# The weight of each element. The regulation's annex writes it as a rounded decimal (0,11;
# local reports mostly apply 0,111); the project uses 1/9 exactly, because 0.111 x 9 = 0.999
# lowers every IKM by 0.1 % and can move a unit across a grade boundary (exact 88.33, A,
# becomes 88.25, B).
WEIGHT = Fraction(1, ELEMENT_COUNT)
PRINTED_WEIGHT = Decimal("0.111")


def round_half_up(value: Fraction, places: int) -> Decimal:
    """`value` rounded half-up (away from zero on a tie) to `places` decimals, exactly.

    Integer arithmetic on the fraction: no binary float, no 28-digit Decimal division."""
    if places < 0:
        raise ValueError("places must be >= 0")
    scaled = value * 10**places
    sign = -1 if scaled < 0 else 1
    magnitude = abs(scaled)
    whole, rest = divmod(magnitude.numerator, magnitude.denominator)
    if 2 * rest >= magnitude.denominator:
        whole += 1
    return Decimal(sign * whole).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def round2(value: Fraction) -> Decimal:
    return round_half_up(value, IKM_PLACES)


def round3(value: Fraction) -> Decimal:
    return round_half_up(value, NRR_PLACES)


def ikm_from_sums(element_sums: tuple[int, ...], n: int) -> Decimal:
    """IKM = 25 x mean of the nine NRR, exact 1/9 weights, rounded once at the end.

    Every response answers all nine elements, so NRR_i = sum_i / n.
    """
    if n <= 0:
        raise ValueError("IKM needs at least one response")
    if len(element_sums) != ELEMENT_COUNT:
        raise ValueError("IKM needs the sums of all nine elements")
    return round2(Fraction(25 * sum(element_sums), ELEMENT_COUNT * n))


def nrr(element_sum: int, n: int) -> Fraction:
    """NRR of one element: the mean answer (1-4), exact."""
    return Fraction(element_sum, n)


def weighted_nrr(element_sum: int, n: int) -> Fraction:
    """NRR x 1/9, exact (the annex's "NRR tertimbang")."""
    return nrr(element_sum, n) * WEIGHT


def ikm_with_printed_weight(element_sums: tuple[int, ...], n: int) -> Decimal:
    """The IKM as the annex's printed weight 0.111 would give it: for comparison only (reports
    say why the project does not use it)."""
    if n <= 0:
        raise ValueError("IKM needs at least one response")
    total = sum(Fraction(s, n) for s in element_sums)
    return round2(25 * total * Fraction(PRINTED_WEIGHT))


# Krejcie & Morgan (1970): population N -> minimum sample n.
_KM_TABLE: tuple[tuple[int, int], ...] = (
    (10, 10), (15, 14), (20, 19), (25, 24), (30, 28), (35, 32), (40, 36), (45, 40), (50, 44),
    (55, 48), (60, 52), (65, 56), (70, 59), (75, 63), (80, 66), (85, 70), (90, 73), (95, 76),
    (100, 80), (110, 86), (120, 92), (130, 97), (140, 103), (150, 108), (160, 113), (170, 118),
    (180, 123), (190, 127), (200, 132), (210, 136), (220, 140), (230, 144), (240, 148),
    (250, 152), (260, 155), (270, 159), (280, 162), (290, 165), (300, 169), (320, 175),
    (340, 181), (360, 186), (380, 191), (400, 196), (420, 201), (440, 205), (460, 210),
    (480, 214), (500, 217), (550, 226), (600, 234), (650, 242), (700, 248), (750, 254),
    (800, 260), (850, 265), (900, 269), (950, 274), (1000, 278), (1100, 285), (1200, 291),
    (1300, 297), (1400, 302), (1500, 306), (1600, 310), (1700, 313), (1800, 317), (1900, 320),
    (2000, 322), (2200, 327), (2400, 331), (2600, 335), (2800, 338), (3000, 341), (3500, 346),
    (4000, 351), (4500, 354), (5000, 357), (6000, 361), (7000, 364), (8000, 367), (9000, 368),
    (10000, 370), (15000, 375), (20000, 377), (30000, 379), (40000, 380), (50000, 381),
    (75000, 382), (1000000, 384),
)  # fmt: skip
_KM_KEYS = [population for population, _ in _KM_TABLE]


def minimum_sample(population: int) -> int:
    """Minimum respondents for a population of service users (the one function every surface
    uses: API, XLSX report, digest).

    The Krejcie & Morgan (1970) table, which the annex of PermenPANRB 14/2017 reproduces;
    between listed values the next larger N (the safe side); above 1,000,000 the table's last
    value, 384. Never more than the population itself: for N = 11..14 the next listed row
    (15 -> 14) would ask for more people than were served, so the minimum is N.
    The table equals the formula S = X^2 N P(1-P) / (d^2 (N-1) + X^2 P(1-P)) with X^2 = 3.841,
    P = 0.5, d = 0.05 rounded to the nearest integer (tests check every row)."""
    if population < 1:
        raise ValueError("population must be at least 1")
    idx = bisect.bisect_left(_KM_KEYS, population)
    table = _KM_TABLE[idx][1] if idx < len(_KM_TABLE) else _KM_TABLE[-1][1]
    return min(population, table)


def sample_sufficient(n: int, population: int) -> bool:
    """The regulation's target: n reaches the Krejcie-Morgan minimum for the population."""
    return n >= minimum_sample(population)


# Below this many responses an IKM (and its grade) is not shown: "belum cukup data (n = 2)",
# with the Krejcie-Morgan minimum beside it as the regulation's target. Configurable
# (IKM_MIN_RESPONSES). Why 10: the IKM of single respondents (25 x the mean of their nine
# answers) spreads by s = 6 (the demo data) to 10 points; the 95 % margin of a mean of n
# responses is 1.96 s / sqrt(n): with 10 responses +-4 to +-6 points, at most half the width of
# grade B (76.61-88.30); with 2 responses +-8 to +-14, wider than a grade; one response has none.
MIN_RESPONSES_DEFAULT = 10


def enough_responses(n: int, min_responses: int) -> bool:
    """The one rule for showing an IKM and its grade (API flag, XLSX report, digest, console,
    public page): at least `min_responses` responses."""
    return n >= min_responses
