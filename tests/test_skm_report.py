"""The full SKM report (issue 16, "The SKM report"; PermenPANRB 14/2017, Lampiran): the
respondent profile with counts and shares, the respondents against the minimum sample, the IKM
with its grade, the lowest elements, the citizens' comments and the unit's follow-up plan, as
XLSX and as a printable PDF signed by the unit head; the plan kept per unit and period and
written only by those who plan for the unit."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from admin_api import create_app
from core.access import Actor
from core.masterdata.models import Unit
from core.people.models import AppUser, Role
from core.shared.config import Settings
from core.shared.errors import Forbidden, InvalidInput, NotFound
from core.surveys.followup import FollowUpDraft, add_follow_up, follow_up_plan, update_follow_up
from core.surveys.report import skm_report_data, skm_report_pdf, skm_report_xlsx
from core.surveys.unit_scores import Period
from tests.factories import PASSWORD, add_response, local, make_service, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
NOW = datetime(2026, 12, 1, 2, tzinfo=UTC)
PLAN = FollowUpDraft(
    6, "Pelatihan keramahan bagi petugas loket", "Januari–Maret 2027", "Sekretaris Dinas"
)


@dataclass
class World:
    engine: Engine
    unit: Unit
    head: Actor
    viewer: Actor
    other_spv: Actor


@pytest.fixture
def world(engine: Engine) -> World:
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        other = make_unit(s, "dinkes", "Dinas Kesehatan")
        ktp = make_service(s, unit, "KTP-el")
        for i in range(12):
            answers = [4, 4, 3, 3, 4, 2 if i % 2 else 3, 4, 4, 3]
            r = add_response(s, unit, answers, local(date(2026, 11, 3 + i)), ktp)
            r.sex = "perempuan" if i < 9 else "laki-laki"
            r.occupation = "nelayan" if i < 3 else None
            r.comment = "Antrean panjang, loket hanya satu." if i == 4 else None
        head = make_user(s, "kadis", Role.unit_head, [unit])
        head.display_name = "Petrus Seran"
        viewer = make_user(s, "baca", Role.viewer, [unit])
        spv_b = make_user(s, "spv-b", Role.supervisor, [other])
        s.commit()
        return World(
            engine,
            unit,
            _actor(head, unit),
            _actor(viewer, unit),
            _actor(spv_b, other),
        )


def _actor(user: AppUser, unit: Unit) -> Actor:
    return Actor(user.id or 0, user.username, Role(user.role), frozenset({unit.id or 0}))


def test_the_plan_is_written_by_the_units_planners_only(world: World) -> None:
    unit_id = world.unit.id or 0
    with Session(world.engine) as s:
        item = add_follow_up(s, unit_id, NOVEMBER, PLAN, actor=world.head, now=NOW)
        with pytest.raises(Forbidden):
            add_follow_up(s, unit_id, NOVEMBER, PLAN, actor=world.viewer)
        with pytest.raises(NotFound):  # another unit's supervisor: as an unknown unit
            add_follow_up(s, unit_id, NOVEMBER, PLAN, actor=world.other_spv)
        for bad, why in (
            (FollowUpDraft(10, "x", "x", "x"), "followup.element"),
            (FollowUpDraft(None, "   ", "x", "x"), "followup.action_empty"),
            (FollowUpDraft(None, "x" * 1001, "x", "x"), "text.too_long"),
        ):
            with pytest.raises(InvalidInput) as refused:
                add_follow_up(s, unit_id, NOVEMBER, bad, actor=world.head)
            assert refused.value.why == why
        changed = FollowUpDraft(None, "Menambah satu loket", "Februari 2027", "Kepala Bidang")
        update_follow_up(s, item.id or 0, changed, actor=world.head)
        add_follow_up(s, unit_id, NOVEMBER, PLAN, actor=world.head)
        # Per period: December's plan is another one; the element rows come first.
        december = Period(date(2026, 12, 1), date(2026, 12, 31))
        assert follow_up_plan(s, unit_id, december, actor=world.viewer) == []
        rows = follow_up_plan(s, unit_id, NOVEMBER, actor=world.viewer)
        assert [(r.element, r.action) for r in rows] == [
            (6, PLAN.action),
            (None, "Menambah satu loket"),
        ]


def test_the_workbook_and_the_pdf_hold_the_whole_report(world: World) -> None:
    with Session(world.engine) as s:
        add_follow_up(s, world.unit.id or 0, NOVEMBER, PLAN, actor=world.head, now=NOW)
        s.commit()
        data = skm_report_data(
            s,
            world.unit,
            NOVEMBER,
            WITA,
            actor=world.viewer,
            default_population=1000,
            min_responses=10,
            place="Kupang",
            now=NOW,
        )
    wb = load_workbook(io.BytesIO(skm_report_xlsx(data)))
    assert wb.sheetnames == [
        "IKM",
        "Profil responden",
        "Per layanan",
        "Saran dan komentar",
        "Rencana tindak lanjut",
    ]
    summary = {r[0]: r[1:] for r in wb["IKM"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Jumlah responden (n)"][0] == 12
    assert summary["Sampel minimum (Krejcie-Morgan)"][0] == 278  # 1000 served
    assert summary["Sampel memenuhi"][0] == "Tidak"
    # The lowest elements are named: U6 (half the answers 2) first.
    assert summary["U6"][0] == "Kompetensi Pelaksana"
    profile = list(wb["Profil responden"].iter_rows(values_only=True))[1:]
    assert ("Jenis kelamin", "Perempuan", 9, 0.75) in profile
    assert ("Pekerjaan utama", "Nelayan", 3, 0.25) in profile
    assert ("Pekerjaan utama", "Tidak diisi", 9, 0.75) in profile
    comments = list(wb["Saran dan komentar"].iter_rows(values_only=True))[1:]
    assert comments == [("2026-11-07", "KTP-el", "Antrean panjang, loket hanya satu.")]
    plan = list(wb["Rencana tindak lanjut"].iter_rows(values_only=True))[1:]
    assert plan[0][2:] == (PLAN.action, "Januari–Maret 2027", "Sekretaris Dinas")
    assert str(plan[0][1]).startswith("U6 ")
    pdf = skm_report_pdf(data)
    assert pdf.startswith(b"%PDF-")
    for text in (
        b"Dinas Kependudukan dan Pencatatan Sipil",
        b"1 November 2026 s.d. 30 November 2026",
        b"Pelatihan keramahan bagi petugas loket",
        b"Januari-Maret",  # the typed dash, printable (the cell wraps before the year)
        b"Kupang, 1 Desember 2026",
        b"Petrus Seran",  # the unit head signs
    ):
        assert text in pdf, text


@pytest.fixture
def client(world: World, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, world.engine)) as c:
        yield c


def _as(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/auth/token", data={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_the_api_keeps_the_plan_and_serves_both_reports(world: World, client: TestClient) -> None:
    head, viewer = _as(client, "kadis"), _as(client, "baca")
    url = "/scores/units/dukcapil/follow-up?start=2026-11-01&end=2026-11-30"
    body = {"element": 6, "action": PLAN.action, "timeframe": "Januari 2027", "responsible": "X"}
    assert client.post(url, json=body, headers=viewer).status_code == 403
    made = client.post(url, json=body, headers=head)
    assert made.status_code == 201, made.text
    item = made.json()["id"]
    assert client.post(url, json={**body, "element": 12}, headers=head).status_code == 422
    changed = client.put(f"/follow-up/{item}", json={**body, "responsible": "Y"}, headers=head)
    assert changed.status_code == 200 and changed.json()["responsible"] == "Y"
    assert [r["responsible"] for r in client.get(url, headers=viewer).json()] == ["Y"]
    pdf = client.get(
        "/scores/units/dukcapil/report.pdf?start=2026-11-01&end=2026-11-30", headers=viewer
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert b"Januari 2027" in pdf.content
    assert client.get("/scores/units/dinkes/report.pdf", headers=viewer).status_code == 404
    assert client.delete(f"/follow-up/{item}", headers=viewer).status_code == 403
    assert client.delete(f"/follow-up/{item}", headers=head).status_code == 204
    assert client.get(url, headers=viewer).json() == []
