"""The SKM figures as every surface shows them (API, XLSX report, weekly digest): half-up
rounding from the exact value, the exact 1/9 weighting stated and used, and the Krejcie-Morgan
minimum never above the population (PermenPANRB 14/2017 and its annex; Krejcie & Morgan 1970).

The data sets are built so that the exact figures sit on a half:
- 16 responses, element sums (45, 60, 60, 60, 60, 60, 60, 60, 57) = 522 points:
  NRR_1 = 45/16 = 2.8125 -> 2.813, weighted 45/144 = 0.3125 -> 0.313,
  IKM = 25 x 522 / 144 = 90.625 -> 90.63 (A). Half-even would show 2.812, 0.312 and 90.62.
- 24 responses, element sums (63, 90, ..., 90) = 783 points: NRR_1 = 63/24 = 2.625 -> 2.63 in
  the digest (2 decimals), IKM = 25 x 783 / 216 = 90.625 -> 90.63.
- 20 responses, 636 points: exact IKM 88.33 (A); the annex's rounded weight 0.111 would give
  88.25 (B).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.access import Actor
from core.digests.figures import IsoWeek, build_digest
from core.digests.render import render_digest
from core.masterdata.models import Unit
from core.people.models import Role
from core.shared.config import Settings
from core.surveys.skm import ikm_with_printed_weight
from tests.factories import add_response, bearer, local, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
HALF_SUMS = (45, 60, 60, 60, 60, 60, 60, 60, 57)  # n = 16
DIGEST_SUMS = (63, 90, 90, 90, 90, 90, 90, 90, 90)  # n = 24
BOUNDARY_SUMS = (71, 71, 71, 71, 71, 71, 70, 70, 70)  # n = 20
PERIOD = "start=2026-11-01&end=2026-11-30"


def answers_with_sums(sums: Sequence[int], n: int) -> list[list[int]]:
    """n answer sheets (1-4 each) whose per-element sums are `sums`."""
    columns = []
    for total in sums:
        base, extra = divmod(total, n)
        column = [base + 1 if i < extra else base for i in range(n)]
        assert all(1 <= a <= 4 for a in column) and sum(column) == total
        columns.append(column)
    return [[columns[e][i] for e in range(len(sums))] for i in range(n)]


def add_answers(session: Session, unit: Unit, sums: Sequence[int], n: int, day: date) -> None:
    for sheet in answers_with_sums(sums, n):
        add_response(session, unit, sheet, local(day))


@dataclass
class World:
    client: TestClient
    headers: dict[str, str]


@pytest.fixture
def world(settings: Settings, engine: Engine) -> Iterator[World]:
    with Session(engine) as s:
        half = make_unit(s, "half", "Unit Setengah", service_population=1000)
        add_answers(s, half, HALF_SUMS, 16, date(2026, 11, 10))
        edge = make_unit(s, "edge", "Unit Batas", service_population=1000)
        add_answers(s, edge, BOUNDARY_SUMS, 20, date(2026, 11, 11))
        small = make_unit(s, "small", "Unit Kecil", service_population=12)
        add_answers(s, small, (48,) * 9, 12, date(2026, 11, 12))
        make_user(s, "admin", Role.admin)
        s.commit()
    with TestClient(create_app(settings, engine)) as client:
        yield World(client, bearer(client, "admin"))


def test_api_rounds_nrr_weighted_nrr_and_ikm_half_up(world: World) -> None:
    r = world.client.get(f"/scores/units/half?{PERIOD}", headers=world.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["unit"]["n"] == 16
    assert body["unit"]["ikm"] == 90.63 and body["unit"]["grade"] == "A"
    first = body["elements"][0]
    assert (first["nrr"], first["weighted_nrr"]) == (2.813, 0.313)
    # The JSON text carries exactly the rounded digits (no 2.8125, no binary tail).
    first_text = json.dumps(first)
    assert '"nrr": 2.813' in first_text and '"weighted_nrr": 0.313' in first_text
    assert [e["nrr"] for e in body["elements"]][1:] == [3.75] * 7 + [3.563]  # 57/16 = 3.5625


def test_api_states_the_exact_weighting(world: World) -> None:
    body = world.client.get(f"/scores/units/half?{PERIOD}", headers=world.headers).json()
    weighting = body["weighting"]
    assert weighting["element_weight"] == "1/9" and weighting["exact"] is True
    assert "tepat 1/9" in weighting["statement_id"] and "0,999" in weighting["statement_id"]
    assert "exactly 1/9" in weighting["statement_en"]
    assert "grade boundary" in weighting["statement_en"]


def test_unit_across_the_boundary_gets_the_exact_weight_grade(world: World) -> None:
    """Exact 1/9: 88.33 (A); the annex's rounded 0.111 would give 88.25 (B)."""
    body = world.client.get(f"/scores/units/edge?{PERIOD}", headers=world.headers).json()
    assert body["unit"]["ikm"] == 88.33 and body["unit"]["grade"] == "A"
    assert str(ikm_with_printed_weight(BOUNDARY_SUMS, 20)) == "88.25"
    ws = _sheet(world, "edge")
    values = {row[1]: row[2] for row in ws.iter_rows(values_only=True) if row and row[1]}
    assert values["IKM"] == 88.33
    assert values["Mutu pelayanan"] == "A (Sangat Baik)"


def _workbook(world: World, code: str) -> Any:
    r = world.client.get(f"/scores/units/{code}/report.xlsx?{PERIOD}", headers=world.headers)
    assert r.status_code == 200
    return load_workbook(io.BytesIO(r.content))


def _sheet(world: World, code: str) -> Worksheet:
    ws = _workbook(world, code)["IKM"]
    assert isinstance(ws, Worksheet)
    return ws


def test_xlsx_report_rounds_half_up_and_shows_exactly_those_decimals(world: World) -> None:
    ws = _sheet(world, "half")
    rows = {row[0].value: row for row in ws.iter_rows() if row and row[0].value is not None}
    persyaratan = rows[1]
    assert persyaratan[1].value == "Persyaratan"
    assert (persyaratan[2].value, persyaratan[3].value) == (2.813, 0.313)
    assert persyaratan[2].number_format == "0.000" and persyaratan[3].number_format == "0.000"
    ikm_row = next(row for row in ws.iter_rows() if row[1].value == "IKM")
    assert ikm_row[2].value == 90.63 and ikm_row[2].number_format == "0.00"
    per_service = list(_workbook(world, "half")["Per layanan"].iter_rows(values_only=True))
    assert per_service[1] == ("(tanpa layanan)", 16, 90.63, "A")


def test_xlsx_report_states_the_weighting(world: World) -> None:
    ws = _sheet(world, "half")
    texts = [row[1] for row in ws.iter_rows(values_only=True) if row and row[1]]
    statement = next(t for t in texts if isinstance(t, str) and t.startswith("Bobot setiap"))
    assert "tepat 1/9" in statement
    assert any(isinstance(t, str) and "0,111 × 9 = 0,999" in t for t in texts)
    header = next(row for row in ws.iter_rows(values_only=True) if row and row[0] == "No")
    assert header[3] == "NRR tertimbang (x 1/9)"


def test_minimum_never_exceeds_the_population_on_every_surface(
    world: World, engine: Engine
) -> None:
    """12 people served, all 12 answered: the table's next row (15 -> 14) would ask for 14."""
    body = world.client.get(f"/scores/units/small?{PERIOD}", headers=world.headers).json()
    assert body["unit"]["population"] == 12
    assert body["unit"]["minimum_sample"] == 12 and body["unit"]["sample_sufficient"] is True
    listed = world.client.get(f"/scores/units?{PERIOD}", headers=world.headers).json()
    small = next(u for u in listed["units"] if u["unit_code"] == "small")
    assert small["minimum_sample"] == 12 and small["sample_sufficient"] is True
    rows = {row[0]: row[1:] for row in _sheet(world, "small").iter_rows(values_only=True) if row[0]}
    assert rows["Sampel minimum (Krejcie-Morgan)"][0] == 12
    assert rows["Sampel memenuhi"][0] == "Ya"
    with Session(engine) as s:
        unit = s.exec(select(Unit).where(Unit.code == "small")).one()
        data = build_digest(
            s, unit, IsoWeek(2026, 46), WITA, 1000, actor=Actor(1, "admin", Role.admin)
        )
    assert data.this_week is not None and data.this_week.minimum == 12
    assert "12 responden dari minimal 12" in render_digest(data, "id")


def test_digest_rounds_nrr_and_ikm_half_up(engine: Engine) -> None:
    """24 responses: the lowest element, Persyaratan, 63/24 = 2.625 -> 2,63; IKM 90.625 -> 90,63."""
    with Session(engine) as s:
        unit = make_unit(s, "digest", "Unit Ringkasan", service_population=100)
        add_answers(s, unit, DIGEST_SUMS, 24, date(2026, 11, 10))
        s.commit()
        data = build_digest(
            s, unit, IsoWeek(2026, 46), WITA, 1000, actor=Actor(1, "admin", Role.admin)
        )
    assert data.this_week is not None and str(data.this_week.ikm) == "90.63"
    assert str(data.lowest_elements[0][1]) == "2.63"
    text_id = render_digest(data, "id")
    assert "IKM minggu ini: 90,63 (A), 24 responden dari minimal 80" in text_id
    assert "Persyaratan (2,63)" in text_id
    text_en = render_digest(data, "en")
    assert "Persyaratan (2.63)" in text_en and "90.63 (A)" in text_en


def test_too_few_responses_show_belum_cukup_data_on_every_surface(
    world: World, engine: Engine
) -> None:
    """One rule (IKM_MIN_RESPONSES, default 10): below it the IKM and grade are not shown but
    "belum cukup data (n = ...)", with the Krejcie-Morgan minimum beside it as the target."""
    with Session(engine) as s:
        few = make_unit(s, "few", "Unit Sepi", service_population=100)
        add_response(s, few, [4] * 9, local(date(2026, 11, 10)))
        s.commit()
        data = build_digest(
            s, few, IsoWeek(2026, 46), WITA, 1000, actor=Actor(1, "admin", Role.admin)
        )
    assert data.this_week is not None and not data.this_week.enough
    assert data.trend[-1] == ("2026-W46", None)  # not drawn on the chart either
    assert (
        "IKM minggu ini: belum cukup data (n = 1; IKM ditampilkan mulai 10 responden,"
        " target Krejcie-Morgan 80)"
    ) in render_digest(data, "id")
    assert "IKM this week: not enough data (n = 1;" in render_digest(data, "en")

    body = world.client.get(f"/scores/units/few?{PERIOD}", headers=world.headers).json()
    assert body["unit"]["n"] == 1 and body["unit"]["enough_data"] is False
    assert body["unit"]["min_responses"] == 10 and body["unit"]["minimum_sample"] == 80
    assert body["services"][0]["enough_data"] is False
    half = world.client.get(f"/scores/units/half?{PERIOD}", headers=world.headers).json()
    assert half["unit"]["enough_data"] is True

    ws = _sheet(world, "few")
    values = {row[1]: row[2] for row in ws.iter_rows(values_only=True) if row and row[1]}
    assert values["IKM"] == "belum cukup data (n = 1)"
    assert values["Mutu pelayanan"] == "belum cukup data (n = 1)"
    rows = {row[0]: row[1:] for row in ws.iter_rows(values_only=True) if row and row[0]}
    assert rows["IKM ditampilkan mulai (responden)"][0] == 10
    assert rows["Sampel minimum (Krejcie-Morgan)"][0] == 80
    per_service = list(_workbook(world, "few")["Per layanan"].iter_rows(values_only=True))
    assert per_service[1] == (
        "(tanpa layanan)",
        1,
        "belum cukup data (n = 1)",
        "belum cukup data (n = 1)",
    )


def test_threshold_is_configurable(settings: Settings, engine: Engine) -> None:
    with Session(engine) as s:
        unit = make_unit(s, "pair", "Unit Dua", service_population=100)
        for _ in range(2):
            add_response(s, unit, [3] * 9, local(date(2026, 11, 10)))
        make_user(s, "admin", Role.admin)
        s.commit()
        data = build_digest(
            s,
            unit,
            IsoWeek(2026, 46),
            WITA,
            1000,
            actor=Actor(1, "admin", Role.admin),
            min_responses=2,
        )
    assert "IKM minggu ini: 75,00 (C), 2 responden dari minimal 80" in render_digest(data, "id")
    lenient = settings.model_copy(update={"ikm_min_responses": 2})
    with TestClient(create_app(lenient, engine)) as client:
        body = client.get(f"/scores/units/pair?{PERIOD}", headers=bearer(client, "admin")).json()
        assert body["unit"]["enough_data"] is True and body["unit"]["min_responses"] == 2
        r = client.get(f"/scores/units/pair/report.xlsx?{PERIOD}", headers=bearer(client, "admin"))
        ws = load_workbook(io.BytesIO(r.content))["IKM"]
        values = {row[1]: row[2] for row in ws.iter_rows(values_only=True) if row and row[1]}
        assert values["IKM"] == 75.0 and values["Mutu pelayanan"] == "C (Kurang Baik)"
        preview = client.get("/digests/pair/2026-W46?lang=id", headers=bearer(client, "admin"))
        assert "IKM minggu ini: 75,00 (C), 2 responden dari minimal 80" in preview.json()["text"]
    with TestClient(create_app(settings, engine)) as client:
        preview = client.get("/digests/pair/2026-W46?lang=id", headers=bearer(client, "admin"))
        assert "IKM minggu ini: belum cukup data (n = 2;" in preview.json()["text"]
