"""Small-cell suppression of the public figures: nothing published lets anyone work out a
count between 1 and 4, by subtraction from a total, from other categories or from other
periods.

The rule (docs/open-data.md): a set of numbers that add up to a published total is
published only when every number in it is 0 or at least `MIN_CELL`; otherwise the whole
set is withheld. A year's numbers form levels: the year itself, its semesters, its quarters
(and its months, for the survey trend); each level of the year "so far" is one set. A level
made of a single cell (the year; January's only semester) is shown as "<5" when it fails.
Complaints by category form a grid per level (periods x categories): the grid is published
only when every cell in it passes. Rates (share within the deadline, median) are published
only where their base (the resolved count) is published and at least `MIN_CELL`.

Since every number of a passing level is 0 or at least `MIN_CELL`, their sums pass too: the
levels that are published are always the year and the coarser ones, never a finer level
beside a withheld coarser one."""

from __future__ import annotations

from collections.abc import Sequence

MIN_CELL = 5
SMALL = "<5"
Cell = int | str | None  # a count, "<5", or None: withheld with its breakdown


def passes(n: int, floor: int = MIN_CELL) -> bool:
    return n == 0 or n >= floor


def publish_level(values: Sequence[int], floor: int = MIN_CELL) -> list[Cell]:
    """The cells of one set that adds up to a published total (or stands alone)."""
    if all(passes(v, floor) for v in values):
        return list(values)
    if len(values) == 1:
        return [SMALL]
    return [None] * len(values)


def publish_grid(rows: Sequence[Sequence[int]], floor: int = MIN_CELL) -> bool:
    """Whether a grid (periods x categories) may be published: every cell passes."""
    return all(passes(v, floor) for row in rows for v in row)


def level_passes(values: Sequence[int], floor: int) -> bool:
    return all(passes(v, floor) for v in values)


def rate_base(cell: Cell) -> bool:
    """Whether rates over this count (its base) may be published."""
    return isinstance(cell, int) and cell >= MIN_CELL
