"""Units and services from CSV: all or nothing, every row's result shown before anything is
written (the same way as the officer roster, core.masterdata.officer_import).

Units (admins): columns code, name; optional parent_code, service_population, active. A known
code is updated, a new one created; a parent may be any existing unit or one in the same file
(an empty parent_code keeps a known unit's parent; no chain of parents may come back).
Services (anyone who keeps master data, for their own units): columns unit_code, name; optional
active. A service is known by its unit and name: a known one gets its `active`, a new one is
created. The Indonesian column names are read as well (kode, nama, kode_induk,
populasi_layanan, aktif; kode_unit, nama, aktif: core.masterdata.csv_columns). Each refusal
is a `Reason` key (core.masterdata.dry_run) a catalog can say.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from core.access import Actor, Permission
from core.masterdata.csv_columns import SERVICE_COLUMNS as SERVICE_NAMES
from core.masterdata.csv_columns import UNIT_COLUMNS as UNIT_NAMES
from core.masterdata.csv_columns import read_columns
from core.masterdata.dry_run import Reason, explain
from core.masterdata.models import Service, Unit
from core.masterdata.officer_import import FALSE_WORDS, MAX_ROWS, NOT_YOURS, TRUE_WORDS
from core.masterdata.service import (
    MAX_SERVICE_POPULATION,
    MIN_SERVICE_POPULATION,
    UNIT_CODE_RE,
    clean_text,
)

UNIT_COLUMNS = ("code", "name")
SERVICE_COLUMNS = ("unit_code", "name")
MAX_NAME = 200


@dataclass
class CsvRow:
    line: int
    values: dict[str, str]
    action: str = ""  # "create", "update" or "error"
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class CsvImport:
    kind: str  # "units" or "services"
    rows: list[CsvRow] = field(default_factory=list)
    file_errors: list[Reason] = field(default_factory=list)
    written: bool = False

    @property
    def bad_rows(self) -> int:
        return sum(1 for row in self.rows if row.reasons)

    @property
    def ok(self) -> bool:
        return not self.file_errors and self.bad_rows == 0 and bool(self.rows)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


def _why(column: str, key: str, message: str, **params: str) -> Reason:
    return Reason(column, key, dict(params), message)


def _read(raw: bytes, kind: str, required: tuple[str, ...]) -> tuple[CsvImport, list[CsvRow]]:
    result = CsvImport(kind)
    try:
        header, records = read_columns(raw, UNIT_NAMES if kind == "units" else SERVICE_NAMES)
    except ValueError as exc:
        result.file_errors.append(explain("", str(exc)))
        return result, []
    missing = [c for c in required if c not in header]
    if missing:
        result.file_errors.append(
            _why(",".join(missing), "column_missing", "required column missing",
                 columns=", ".join(missing))
        )  # fmt: skip
        return result, []
    if len(records) > MAX_ROWS:
        result.file_errors.append(
            _why("", "too_many_rows", f"more than {MAX_ROWS} rows", max=str(MAX_ROWS))
        )
        return result, []
    rows = []
    for line, values in records:
        row = CsvRow(line, {k: v[: MAX_NAME * 2] for k, v in values.items()})
        if "" in values:
            row.reasons.append(_why("", "extra_fields", values[""]))
        rows.append(row)
    result.rows = rows
    return result, rows


def _active(row: CsvRow) -> bool:
    word = row.values.get("active", "").strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        row.reasons.append(_why("active", "active_word", "use 1/0, true/false or ya/tidak"))
    return word not in FALSE_WORDS


def _name(row: CsvRow) -> str:
    name = clean_text(row.values.get("name", ""))[:MAX_NAME]
    if not name:
        row.reasons.append(_why("name", "name_empty", "must not be empty"))
    return name


def import_units(session: Session, raw: bytes, *, actor: Actor, dry_run: bool = False) -> CsvImport:
    """Units from CSV (admins only); writes only when every row is right and not `dry_run`."""
    actor.require_admin()
    result, rows = _read(raw, "units", UNIT_COLUMNS)
    if not rows:
        return result
    known = {u.code: u for u in session.exec(select(Unit)).all()}
    seen: dict[str, int] = {}
    parsed: list[tuple[CsvRow, str, str, str, int | None, bool]] = []
    for row in rows:
        code = row.values.get("code", "").strip().lower()
        if not UNIT_CODE_RE.match(code):
            row.reasons.append(_why("code", "field_code", "bad unit code"))
        elif code in seen:
            row.reasons.append(_why("code", "code_repeated", "repeated", row=str(seen[code])))
        else:
            seen[code] = row.line
        name = _name(row)
        population: int | None = None
        text = row.values.get("service_population", "").replace(".", "").replace(" ", "")
        if text:
            if text.isascii() and text.isdigit() and len(text) <= 10:
                population = int(text)
            if population is None or not (
                MIN_SERVICE_POPULATION <= population <= MAX_SERVICE_POPULATION
            ):
                row.reasons.append(
                    _why("service_population", "field_service_population", "out of range")
                )
        parent = row.values.get("parent_code", "").strip().lower()
        active = _active(row)
        parsed.append((row, code, name, parent, population, active))
    parents = {code: parent for _, code, _, parent, _, _ in parsed}
    for row, code, _, parent, _, _ in parsed:
        if not parent:
            continue
        if parent == code:
            row.reasons.append(_why("parent_code", "parent_self", "a unit is not its own parent"))
        elif parent not in known and parent not in seen:
            row.reasons.append(_why("parent_code", "parent_unknown", "unknown parent"))
        elif _cycles(code, parents, known):
            row.reasons.append(_why("parent_code", "parent_cycle", "parents go round"))
    for row, code, *_ in parsed:
        row.action = "error" if row.reasons else ("update" if code in known else "create")
    if not result.ok or dry_run:
        return result
    units: dict[str, Unit] = dict(known)
    for row, code, name, _, population, active in parsed:
        unit = units.get(code) or Unit(code=code, name=name)
        unit.name, unit.active = name, active
        if "service_population" in row.values:
            unit.service_population = population
        session.add(unit)
        units[code] = unit
    session.flush()
    for _, code, _, parent, _, _ in parsed:
        if parent:
            units[code].parent_id = units[parent].id
            session.add(units[code])
    session.flush()
    result.written = True
    return result


def _cycles(code: str, parents: dict[str, str], known: dict[str, Unit]) -> bool:
    """Whether following parents from `code` (the file's where it names one, else the
    database's) comes back to it."""
    by_id = {u.id: c for c, u in known.items()}
    graph = {c: by_id[u.parent_id] for c, u in known.items() if u.parent_id in by_id}
    graph.update({c: p for c, p in parents.items() if p})
    seen: set[str] = set()
    current = code
    while current in graph:
        current = graph[current]
        if current == code:
            return True
        if current in seen:  # a loop elsewhere: said on its own rows
            return False
        seen.add(current)
    return False


def _keeps(actor: Actor, unit_id: int) -> bool:
    return actor.may(Permission.EDIT_MASTER_DATA, unit_id) and actor.can_see_unit(unit_id)


def import_services(
    session: Session, raw: bytes, *, actor: Actor, dry_run: bool = False
) -> CsvImport:
    """Services from CSV, for units the actor keeps; all rows or none."""
    actor.require_write()
    result, rows = _read(raw, "services", SERVICE_COLUMNS)
    if not rows:
        return result
    units = {u.code: u for u in session.exec(select(Unit)).all()}
    seen: dict[tuple[int, str], int] = {}
    parsed: list[tuple[CsvRow, int, str, bool]] = []
    for row in rows:
        unit = units.get(row.values.get("unit_code", "").strip().lower())
        name = _name(row)
        active = _active(row)
        if unit is None or unit.id is None or not _keeps(actor, unit.id):
            row.reasons.append(_why("unit_code", "not_yours", NOT_YOURS))
            continue
        if name and (unit.id, name) in seen:
            row.reasons.append(
                _why("name", "service_repeated", "repeated", row=str(seen[(unit.id, name)]))
            )
        elif name:
            seen[(unit.id, name)] = row.line
        parsed.append((row, unit.id, name, active))
    unit_ids = {unit_id for _, unit_id, _, _ in parsed}
    existing = {
        (s.unit_id, s.name): s
        for s in session.exec(select(Service).where(col(Service.unit_id).in_(unit_ids))).all()
    } if unit_ids else {}  # fmt: skip
    for row in rows:
        row.action = "error" if row.reasons else "create"
    for row, unit_id, name, _ in parsed:
        if not row.reasons and (unit_id, name) in existing:
            row.action = "update"
    if not result.ok or dry_run:
        return result
    for _, unit_id, name, active in parsed:
        service = existing.get((unit_id, name)) or Service(unit_id=unit_id, name=name)
        service.active = active
        session.add(service)
    session.flush()
    result.written = True
    return result
