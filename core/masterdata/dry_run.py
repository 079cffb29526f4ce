"""The officer import's dry run as a person reads it: every row of the file with its result
(new officer, updated officer, or why it is refused), before anything is written.

The verdict is `core.masterdata.officer_import.import_officers(dry_run=True)`'s own (one
rule, all or nothing); this module adds what a page needs beside it: each row's values and
whether its NIP is new, and each refusal as a stable key with its values (`explain`), so
that an adapter can say it in the reader's language instead of core's English message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from core.access import Actor
from core.masterdata.csv_columns import OFFICER_COLUMNS, read_columns
from core.masterdata.models import Officer
from core.masterdata.officer_import import MAX_ROWS, NOT_YOURS, import_officers

SHOWN_FIELD = 200  # a cell of the preview shows at most this many characters


@dataclass(frozen=True)
class Reason:
    """Why a row (or the file) is refused: `key` names the rule, `params` its values;
    `message` is core's English text (shown when no key fits)."""

    column: str
    key: str
    params: dict[str, str]
    message: str


@dataclass
class RowResult:
    line: int  # the file's line number, the header is line 1
    nip: str
    name: str
    unit_code: str
    position: str
    action: str = "ok"  # "create", "update" or "error"
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class ImportPreview:
    rows: list[RowResult] = field(default_factory=list)
    file_errors: list[Reason] = field(default_factory=list)  # the file as a whole
    created: int = 0
    updated: int = 0

    @property
    def bad_rows(self) -> int:
        return sum(1 for row in self.rows if row.action == "error")

    @property
    def ok(self) -> bool:
        return not self.file_errors and self.bad_rows == 0 and bool(self.rows)


# core's English reasons, each with the key a catalog names it by and the values it carries.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        ("nip_digits", r"^NIP must contain digits only$"),
        ("nip_length", r"^NIP must be 18 digits, got (?P<n>\d+)$"),
        ("nip_birth_date", r"^NIP digits 1-8 must be a real birth date \(YYYYMMDD\), got (?P<digits>\d+)"),  # noqa: E501
        ("nip_birth_future", r"^NIP digits 1-8: the birth date (?P<born>[\d-]+) lies in the future$"),  # noqa: E501
        ("nip_sex", r"^NIP digit 15 must be 1 \(male\) or 2 \(female\), got (?P<digit>\d)$"),
        ("nip_sequence", r"^NIP digits 16-18 must be a sequence number"),
        ("nip_code_zero", r"^NIP digits 13-14 must be the month of first appointment"),
        ("nip_tmt_future", r"^NIP digits 9-14: the first appointment \(TMT CPNS (?P<tmt>[\d-]+)\) lies in the future$"),  # noqa: E501
        ("nip_tmt_invalid", r"^NIP digits 9-14 must be the year and month of first appointment$"),
        ("nip_tmt_before_birth", r"^NIP digits 9-14: the first appointment \(TMT CPNS (?P<tmt>[\d-]+)\) is not after the birth date \((?P<born>[\d-]+)\)$"),  # noqa: E501
        ("nip_pns_too_young", r"^NIP digits 9-14: first appointment (?P<tmt>[\d-]+) at age (?P<age>\d+); a CPNS is at least (?P<limit>\d+)"),  # noqa: E501
        ("nip_pns_too_old", r"^NIP digits 9-14: first appointment (?P<tmt>[\d-]+) at age (?P<age>\d+); no CPNS is appointed older than (?P<limit>\d+)$"),  # noqa: E501
        ("nip_pppk_before", r"^NIP digits 9-12: PPPK appointment year (?P<year>\d+) is before (?P<first>\d+)"),  # noqa: E501
        ("nip_pppk_future", r"^NIP digits 9-12: the PPPK appointment year (?P<year>\d+) lies in the future$"),  # noqa: E501
        ("nip_pppk_too_young", r"^NIP digits 9-12: born (?P<born>[\d-]+), a PPPK appointed in (?P<year>\d+) would be younger than (?P<limit>\d+)"),  # noqa: E501
        ("nip_pppk_too_old", r"^NIP digits 9-12: born (?P<born>[\d-]+), a PPPK appointed in (?P<year>\d+) would be older than (?P<limit>\d+)"),  # noqa: E501
        ("name_empty", r"^must not be empty$"),
        ("not_yours", "^" + re.escape(NOT_YOURS) + "$"),
        ("active_word", r"^use 1/0, true/false or ya/tidak$"),
        ("nip_repeated", r"^the same NIP is already on row (?P<row>\d+)$"),
        ("extra_fields", r"^more fields than the header has$"),
        ("column_missing", r"^required column missing$"),
        ("too_many_rows", r"^more than (?P<max>\d+) rows; split the file$"),
        ("not_utf8", r"^the file is not UTF-8 text"),
        ("not_text", r"^the file is not a text CSV file$"),
        ("not_csv", r"^the file is not valid CSV"),
    )
)  # fmt: skip


def explain(column: str, message: str) -> Reason:
    """The rule behind one of core's import reasons; key "other" when none matches."""
    for key, pattern in _PATTERNS:
        found = pattern.match(message)
        if found:
            params = {name: value for name, value in found.groupdict().items() if value}
            if key == "column_missing":
                params["columns"] = column.replace(",", ", ")
            return Reason(column, key, params, message)
    return Reason(column, "other", {"detail": message}, message)


def preview_officer_import(session: Session, raw: bytes, *, actor: Actor) -> ImportPreview:
    """Every row of the roster with what importing it would do; writes nothing."""
    report = import_officers(session, raw, actor=actor, dry_run=True)
    session.rollback()
    preview = ImportPreview(created=report.created, updated=report.updated)
    by_line: dict[int, list[Reason]] = {}
    for error in report.errors:
        reason = explain(error.column, error.reason)
        if error.row <= 1:
            preview.file_errors.append(reason)
        else:
            by_line.setdefault(error.row, []).append(reason)
    if preview.file_errors:
        return preview
    try:
        _, records = read_columns(raw, OFFICER_COLUMNS)
    except ValueError:  # import_officers has said so already
        return preview
    for line, values in records[: MAX_ROWS + 1]:
        preview.rows.append(
            RowResult(
                line=line,
                nip=values.get("nip", "")[:SHOWN_FIELD],
                name=values.get("name", "")[:SHOWN_FIELD],
                unit_code=values.get("unit_code", "")[:SHOWN_FIELD],
                position=values.get("position", "")[:SHOWN_FIELD],
            )
        )
    nips = [row.nip.replace(" ", "") for row in preview.rows if row.line not in by_line]
    known = set(
        session.exec(select(Officer.nip).where(col(Officer.nip).in_(nips))).all() if nips else ()
    )
    for row in preview.rows:
        if row.line in by_line:
            row.action, row.reasons = "error", by_line.pop(row.line)
        else:
            row.action = "update" if row.nip.replace(" ", "") in known else "create"
    for line, reasons in sorted(by_line.items()):  # a line past the rows shown
        preview.rows.append(RowResult(line, "", "", "", "", "error", reasons))
    return preview
