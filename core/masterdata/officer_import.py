"""Officer roster import from CSV: all-or-nothing, every bad row reported.

Columns (header required, any order): nip, name, unit_code, and optionally position, active;
or their Indonesian names nip, nama, kode_unit, jabatan, aktif (core.masterdata.csv_columns).
An existing NIP is updated; a new one is created.

A row the importer may not write (a unit code that is not one of their units, whether it
exists or not; a NIP of an officer outside their units) gets one and the same reason, which
names no other unit: the file must not tell what exists outside the importer's scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlmodel import Session, col, select

from core.access import Actor
from core.masterdata.csv_columns import OFFICER_COLUMNS, read_columns
from core.masterdata.models import Officer, Unit
from core.masterdata.service import OfficerCreate, new_public_code

REQUIRED_COLUMNS = ("nip", "name", "unit_code")
OPTIONAL_COLUMNS = ("position", "active")
MAX_ROWS = 20_000
TRUE_WORDS = {"1", "true", "yes", "ya", "aktif", ""}
FALSE_WORDS = {"0", "false", "no", "tidak", "nonaktif"}
NOT_YOURS = "you may not write this row: unknown unit or officer, or not one of yours"


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line number in the file, header is row 1
    column: str
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    data: OfficerCreate
    unit_id: int
    active: bool


def import_officers(
    session: Session, raw: bytes, *, actor: Actor, dry_run: bool = False
) -> ImportReport:
    actor.require_write()
    report = ImportReport(dry_run=dry_run)
    try:
        header, records = read_columns(raw, OFFICER_COLUMNS)
    except ValueError as exc:
        report.errors.append(RowError(0, "", str(exc)))
        return report
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        report.errors.append(RowError(1, ",".join(missing), "required column missing"))
        return report

    units = {u.code: u for u in session.exec(select(Unit)).all()}
    rows: list[_Row] = []
    seen_nips: dict[str, int] = {}
    for index, values in records:
        if index - 1 > MAX_ROWS:
            report.errors.append(RowError(index, "", f"more than {MAX_ROWS} rows; split the file"))
            break
        if "" in values:
            report.errors.append(RowError(index, "", values[""]))
            continue
        row = _validate_row(index, values, units, actor, seen_nips, report)
        if row is not None:
            rows.append(row)

    if report.errors:
        return report
    existing = {
        o.nip: o
        for o in session.exec(
            select(Officer).where(col(Officer.nip).in_([r.data.nip for r in rows]))
        ).all()
    }
    for row in rows:
        officer = existing.get(row.data.nip)
        if officer is not None and not actor.can_see_unit(officer.unit_id):
            report.errors.append(RowError(row.line, "nip", NOT_YOURS))
    if report.errors:
        return report
    for row in rows:
        officer = existing.get(row.data.nip)
        if officer is None:
            report.created += 1
            officer = Officer(nip=row.data.nip, name="", unit_id=row.unit_id,
                              public_code=new_public_code())  # fmt: skip
        else:
            report.updated += 1
        officer.name = row.data.name
        officer.position = row.data.position
        officer.unit_id = row.unit_id
        officer.active = row.active
        if not dry_run:
            session.add(officer)
    if dry_run:
        session.rollback()
    else:
        session.flush()
    return report


def _validate_row(
    line: int,
    values: dict[str, str],
    units: dict[str, Unit],
    actor: Actor,
    seen_nips: dict[str, int],
    report: ImportReport,
) -> _Row | None:
    errors_before = len(report.errors)
    try:
        data = OfficerCreate(
            nip=values.get("nip", ""),
            name=values.get("name", ""),
            position=values.get("position", ""),
            unit_code=values.get("unit_code", ""),
        )
    except ValidationError as exc:
        for err in exc.errors():
            column = str(err["loc"][0]) if err["loc"] else ""
            report.errors.append(RowError(line, column, err["msg"].removeprefix("Value error, ")))
        return None
    unit = units.get(data.unit_code.lower())
    if unit is None or unit.id is None or not actor.can_see_unit(unit.id):
        unit = None
        report.errors.append(RowError(line, "unit_code", NOT_YOURS))
    active_raw = values.get("active", "").lower()
    if active_raw not in TRUE_WORDS | FALSE_WORDS:
        report.errors.append(RowError(line, "active", "use 1/0, true/false or ya/tidak"))
    if data.nip in seen_nips:
        report.errors.append(
            RowError(line, "nip", f"the same NIP is already on row {seen_nips[data.nip]}")
        )
    else:
        seen_nips[data.nip] = line
    if len(report.errors) > errors_before or unit is None or unit.id is None:
        return None
    return _Row(line=line, data=data, unit_id=unit.id, active=active_raw not in FALSE_WORDS)
