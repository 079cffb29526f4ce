"""Reading uploaded CSV files (officer rosters, work-results levels) safely."""

from __future__ import annotations

import csv
import io

MAX_FIELD = 10_000


class CsvUnreadable(ValueError):
    """The file cannot be read as CSV; `why` names the rule ("csv.not_utf8", "csv.binary",
    "csv.invalid") for adapters that speak the user's language."""

    def __init__(self, message: str, *, why: str) -> None:
        super().__init__(message)
        self.why = why


# The marker read_csv puts in a row that has more fields than the header.
EXTRA_FIELDS = "more fields than the header has"


def read_csv(raw: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(lower-cased header, [(line number, row)]); ValueError says what is wrong with the file.

    Accepts UTF-8 with or without BOM, comma or semicolon separators (Excel in Indonesia
    writes semicolons), any line endings. Blank rows are skipped; line numbers count the
    header as line 1.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvUnreadable(
            "the file is not UTF-8 text; save it as CSV UTF-8", why="csv.not_utf8"
        ) from None
    if "\x00" in text:
        raise CsvUnreadable("the file is not a text CSV file", why="csv.binary")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        rows = []
        for line, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                rows.append((line, {"": EXTRA_FIELDS}))
                continue
            padded = values + [""] * (len(header) - len(values))
            rows.append(
                (line, {k: v.strip()[:MAX_FIELD] for k, v in zip(header, padded, strict=True) if k})
            )
    except csv.Error as exc:
        raise CsvUnreadable(f"the file is not valid CSV ({exc})", why="csv.invalid") from None
    return header, rows
