"""Small-cell suppression of the public figures: nothing published, in one snapshot or in
several taken at different times, lets anyone work out a count between 1 and 4, by
subtraction from a total, from other categories or from other periods.

The rule (docs/open-data.md), decided bottom-up: the finest cells (a quarter's complaints;
a month's survey responses) are published when their own count is 0 or at least the floor
(`MIN_CELL`, or the survey's minimum responses); a failing count of complaints is shown as
"<5". A coarser period (a quarter's survey, a semester, a year) is published only when
every begun part of it is published; otherwise it is withheld (None). So no published
total ever has a withheld part, in any snapshot, and no difference of published numbers
isolates a withheld cell. Complaints by category: a period's row is published only when
every category cell passes, the period's own total is published and every part's row is
published. Rates (share within the deadline, median) are published only where their base
(the resolved count) is published and at least `MIN_CELL`.

Since every published part is 0 or at least the floor, a published total passes too."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

MIN_CELL = 5
SMALL = "<5"
Cell = int | str | None  # a count, "<5", or None: withheld with its breakdown


def passes(n: int, floor: int = MIN_CELL) -> bool:
    return n == 0 or n >= floor


def publish_leaf(value: int, floor: int = MIN_CELL) -> Cell:
    """A finest cell: its count when it passes, else "<5"."""
    return value if passes(value, floor) else SMALL


def publish_parent(value: int, parts: Iterable[Cell]) -> Cell:
    """A coarser period: its count only when every begun part of it is published."""
    return value if all(isinstance(part, int) for part in parts) else None


def publish_row(values: Sequence[int], total: Cell, parts: Iterable[bool] = ()) -> bool:
    """Whether a period's breakdown (by category) may be published: every cell passes, the
    period's total is published and every part's breakdown is published."""
    return isinstance(total, int) and all(passes(v) for v in values) and all(parts)


def rate_base(cell: Cell) -> bool:
    """Whether rates over this count (its base) may be published."""
    return isinstance(cell, int) and cell >= MIN_CELL
