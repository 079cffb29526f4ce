"""The periods the public page offers: years, semesters and quarters of the current and the
previous year, in the office's local days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.surveys.trend import month_end

KINDS = ("year", "semester", "quarter")
ROMAN = ("I", "II", "III", "IV")
PUBLIC_YEARS = 2  # the current year and the one before
_KEY = re.compile(r"^(\d{4})(?:-([SQ])([1-4]))?$")


@dataclass(frozen=True, order=True)
class PublicPeriod:
    year: int
    kind: str  # year | semester | quarter
    number: int  # 0 for a year; 1-2 for a semester; 1-4 for a quarter

    @property
    def key(self) -> str:
        """`2026`, `2026-S2` or `2026-Q3`: the `periode` of the URLs and the open data."""
        if self.kind == "year":
            return str(self.year)
        return f"{self.year}-{'S' if self.kind == 'semester' else 'Q'}{self.number}"

    @property
    def first_month(self) -> int:
        return {"year": 1, "semester": 6 * (self.number - 1) + 1}.get(
            self.kind, 3 * (self.number - 1) + 1
        )

    @property
    def month_count(self) -> int:
        return {"year": 12, "semester": 6, "quarter": 3}[self.kind]

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        return month_end(date(self.year, self.first_month + self.month_count - 1, 1))

    def months(self) -> list[date]:
        return [date(self.year, self.first_month + i, 1) for i in range(self.month_count)]

    def quarters(self) -> list[int]:
        """The quarters (1-4) the period is made of."""
        first = (self.first_month - 1) // 3 + 1
        return list(range(first, first + self.month_count // 3))

    def started(self, today: date) -> bool:
        return self.start <= today

    def complete(self, today: date) -> bool:
        return self.end < today

    @property
    def roman(self) -> str:
        return ROMAN[self.number - 1] if self.number else ""


def periods_of_year(year: int) -> list[PublicPeriod]:
    """The year, its semesters and its quarters."""
    return [
        PublicPeriod(year, "year", 0),
        *(PublicPeriod(year, "semester", n) for n in (1, 2)),
        *(PublicPeriod(year, "quarter", n) for n in (1, 2, 3, 4)),
    ]


def public_years(today: date) -> list[int]:
    return [today.year - back for back in range(PUBLIC_YEARS - 1, -1, -1)]


def public_periods(today: date) -> list[PublicPeriod]:
    """Every period offered on `today`: those of the public years that have begun, the
    newest year first, each year before its semesters and quarters."""
    found = []
    for year in reversed(public_years(today)):
        found += [p for p in periods_of_year(year) if p.started(today)]
    return found


def default_period(today: date) -> PublicPeriod:
    """What the page shows first: the last complete quarter (the SKM's usual report)."""
    index = today.year * 4 + (today.month - 1) // 3 - 1
    return PublicPeriod(index // 4, "quarter", index % 4 + 1)


def parse_period(text: str) -> PublicPeriod | None:
    """`2026`, `2026-S1`..`2026-S2`, `2026-Q1`..`2026-Q4` (case-insensitive), else None."""
    match = _KEY.match(text.strip().upper()) if len(text) <= 12 else None
    if match is None:
        return None
    year, letter, number = int(match[1]), match[2], match[3]
    if not 2000 <= year <= 2099:
        return None
    if letter is None:
        return PublicPeriod(year, "year", 0)
    if letter == "S" and int(number) > 2:
        return None
    return PublicPeriod(year, "semester" if letter == "S" else "quarter", int(number))
