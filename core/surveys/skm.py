"""SKM rules of PermenPANRB 14/2017: elements, the IKM formula, grades, minimum sample."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
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


def round2(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


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
    return Fraction(element_sum, n)


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
    """Minimum respondents for a population; between listed values take the next larger N."""
    if population < 1:
        raise ValueError("population must be at least 1")
    if population <= _KM_TABLE[0][0]:
        return population
    idx = bisect.bisect_left(_KM_KEYS, population)
    if idx >= len(_KM_TABLE):
        return 384
    return _KM_TABLE[idx][1]
