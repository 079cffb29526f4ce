"""Spreadsheet cells that cannot attack the reader (OWASP "CSV injection").

Names of units, services and officers, reasons and comments are typed by people. A text
that begins with `=`, `+`, `-`, `@`, a tab or a carriage return (or their full-width
forms) is run as a formula by Excel and LibreOffice when the file is opened. Every CSV and
XLSX the project writes goes through this module:

- CSV (`safe_text`, `csv_writer`): such a text gets one single quote `'` in front, so the
  program shows it as text. A text that already begins with `'` gets one too, which makes
  the rule reversible: **to recover what the user typed, remove one leading `'` from any
  cell that begins with `'`.** Numbers are written as numbers (`-2.5` stays a number).
- XLSX (`write_row`, `safe_cell`): every str is written as an explicit string cell (never
  a formula cell) with its exact text; risky texts also carry Excel's "quote prefix"
  style, so editing the cell in Excel keeps it text. Characters a worksheet cannot hold
  (control characters) are dropped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol, cast

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

# What spreadsheet programs read as the start of a formula (OWASP), with the full-width
# forms some locales of Excel accept too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
QUOTE = "'"


def is_risky(text: str) -> bool:
    """Would a spreadsheet program run this text as a formula?"""
    return text.startswith(FORMULA_STARTS)


def safe_text(value: object) -> object:
    """A CSV cell value: risky text (and text starting with `'`) gets one leading `'`.

    Anything that is not a str (numbers, None, dates) is returned unchanged.
    """
    if isinstance(value, str) and (is_risky(value) or value.startswith(QUOTE)):
        return QUOTE + value
    return value


def unquote(cell: str) -> str:
    """The text the user typed, from a CSV cell written through `safe_text`."""
    return cell.removeprefix(QUOTE)


class _RowWriter(Protocol):
    def writerow(self, row: Iterable[Any], /) -> Any: ...


class SafeCsvWriter:
    """`csv.writer` whose every text cell goes through `safe_text`."""

    def __init__(self, writer: _RowWriter) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([safe_text(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: Any, **kwargs: Any) -> SafeCsvWriter:
    """Like `csv.writer(stream, **kwargs)`, neutralizing formulas in text cells."""
    return SafeCsvWriter(csv.writer(stream, **kwargs))


def cell_text(value: object) -> object:
    """A value a worksheet can hold: control characters removed from text."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def safe_cell(ws: Worksheet, value: object) -> Cell:
    """A cell of `ws` holding `value`; a str is always a string cell, never a formula."""
    value = cell_text(value)
    cell = Cell(ws, row=1, column=1)  # placed by `ws.append`
    cell.value = cast(Any, value)  # openpyxl refuses types it cannot store
    if isinstance(value, str):
        # Assigning a str starting with "=" makes openpyxl store a formula: set the
        # string type explicitly after the assignment.
        cell.data_type = "s"
        if is_risky(value):
            cell.quotePrefix = True
    return cell


def write_row(ws: Worksheet, values: Iterable[object]) -> None:
    """Append one row to `ws`, as `ws.append` does, with every text a string cell."""
    ws.append([safe_cell(ws, value) for value in values])
