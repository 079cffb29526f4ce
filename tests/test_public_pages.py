"""The transparency pages and the open data over HTTP: what a citizen reads (Indonesian
first, English on request, small pages), the period they pick, the open data parsed as a
spreadsheet or a program would (csv, json) with its licence, the Open311 services list and
the refusal to publish individual requests; the snapshot refreshed by the scheduler's
function."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from core.cases.models import Case, CaseStatus
from core.masterdata.models import Unit
from core.policies import build
from core.shared.config import Settings
from core.transparency.opendata import COMPLAINT_COLUMNS, IKM_COLUMNS
from core.transparency.snapshot import refresh_public_figures
from tests.factories import add_response, local, make_officer, make_service, make_unit

pytestmark = pytest.mark.db

NOW = local(date(2026, 11, 30), 10)
_refs = iter(range(1, 10**6))


def add_cases(session: Session, unit: Unit, n: int, day: date, category: str = "pungli") -> None:
    assert unit.id is not None
    for _ in range(n):
        received = local(day)
        session.add(
            Case(
                reference=f"KPG-PUB-{next(_refs):06d}",
                unit_id=unit.id,
                category=category,
                description="Loket tutup lebih awal",
                status=CaseStatus.in_progress.value,
                received_at=received,
                verify_due_at=received,
                resolve_due_at=received,
            )
        )


@pytest.fixture
def site(session: Session, engine: Engine, settings: Settings) -> Iterator[TestClient]:
    unit = make_unit(session, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
    make_service(session, unit, "=KTP elektronik")  # a name a spreadsheet would run
    make_officer(session, unit, "Yohanes Ndun")
    other = make_unit(session, "pajak", "Badan Pendapatan Daerah")
    for day in range(12):
        add_response(session, unit, [4, 3, 4, 3, 4, 3, 4, 3, 4], at=local(date(2026, 8, 3 + day)))
    add_cases(session, unit, 6, date(2026, 8, 4))
    add_cases(session, other, 2, date(2026, 8, 4))
    session.commit()
    policies = build(settings.model_copy(update={"public_cache_seconds": 600}), engine)
    refresh_public_figures(engine, policies.settings, now=NOW)
    with TestClient(create_site(policies)) as client:
        yield client


def test_the_page_lists_every_unit_for_the_period_picked(site: TestClient) -> None:
    page = site.get("/transparansi?periode=2026-Q3")
    assert page.status_code == 200
    html = page.text
    assert "Transparansi layanan publik" in html and "Triwulan III 2026" in html
    assert "Dinas Kependudukan dan Pencatatan Sipil" in html and "Badan Pendapatan Daerah" in html
    assert "88,89" in html and "A (Sangat Baik)" in html  # 25 x 32/9: 88.89
    assert "12 responden, sementara" in html  # below the minimum sample of 278
    # The other unit's two complaints: its quarter is "<5", its year is withheld ("–").
    other = html.split("Badan Pendapatan Daerah")[1].split("</tr>")[0]
    assert '<td class="num">&lt;5 / 0</td>' in other
    year = site.get("/transparansi?periode=2026").text
    assert '<td class="num">– / 0</td>' in year.split("Badan Pendapatan Daerah")[1]
    assert "Diperbarui 30-11-2026 pukul 10.00 WITA" in html
    assert "Yohanes" not in html and "Loket tutup" not in html
    # The form offers the periods; the default is the last complete quarter.
    assert '<option value="2026-Q3" selected>' in html
    assert '<option value="2025-Q1"' in html
    assert '<option value="2026-Q3" selected>' in site.get("/transparansi").text


def test_an_unknown_period_says_so_and_shows_the_default(site: TestClient) -> None:
    page = site.get("/transparansi?periode=2031-Q9")
    assert page.status_code == 200
    assert "Periode yang Anda minta tidak tersedia" in page.text


def test_a_units_page_shows_elements_trend_and_complaints(site: TestClient) -> None:
    page = site.get("/transparansi/dukcapil?periode=2026-Q3")
    assert page.status_code == 200
    html = page.text
    assert "U1. Persyaratan" in html and "4,000" in html and "3,000" in html
    assert "<svg" in html and "Agu" in html  # the trend, drawn on the server
    assert "<script" not in html
    assert "Pungli" in html or "Permintaan imbalan / pungli" in html
    english = site.get("/transparansi/dukcapil?periode=2026-Q3&lang=en").text
    assert "Requirements" in english and "Very good" in english and "88.89" in english
    assert "Complaints by category" in english
    assert site.get("/transparansi/nope").status_code == 404


def test_pages_are_small_when_compressed(site: TestClient) -> None:
    for path in ("/transparansi", "/transparansi/dukcapil?periode=2026"):
        page = site.get(path, headers={"Accept-Encoding": "gzip"})
        assert page.headers.get("content-encoding") == "gzip"
        assert len(gzip.compress(page.content)) < 50_000, path


def test_the_open_data_parses_with_its_licence(site: TestClient) -> None:
    response = site.get("/data/ikm.csv?periode=2026-Q3")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'rel="license"' in response.headers["link"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0].keys()) == IKM_COLUMNS
    by_unit = {r["kode_unit"]: r for r in rows}
    assert by_unit["dukcapil"]["ikm"] == "88.89" and by_unit["dukcapil"]["responden"] == "12"
    assert by_unit["pajak"]["ikm"] == "" and by_unit["dukcapil"]["lisensi"] == "CC BY 4.0"
    complaints = site.get("/data/pengaduan.json?periode=2026-Q3").json()
    assert complaints["licence"] == "CC BY 4.0" and complaints["columns"] == list(COMPLAINT_COLUMNS)
    rows_json = {r["kode_unit"]: r for r in complaints["rows"]}
    assert rows_json["dukcapil"]["diterima"] == 6 and rows_json["dukcapil"]["kategori_pungli"] == 6
    assert rows_json["pajak"]["diterima"] == "<5"
    year = site.get("/data/pengaduan.json?periode=2026").json()["rows"]
    assert {r["kode_unit"]: r["diterima"] for r in year}["pajak"] is None  # a small part
    everything = site.get("/data/pengaduan.csv").content.decode("utf-8-sig")
    periods = {r["periode"] for r in csv.DictReader(io.StringIO(everything))}
    assert {"2026", "2026-S2", "2026-Q4", "2025", "2025-Q1"} <= periods
    assert site.get("/data/ikm.json?periode=2026-Q7").status_code == 400
    assert "Unknown period" in site.get("/data/ikm.csv?periode=abc").text
    licence = site.get("/data/LISENSI.txt")
    assert licence.status_code == 200 and "CC BY 4.0" in licence.text


def test_open311_lists_services_and_publishes_no_request(site: TestClient) -> None:
    services = site.get("/open311/v2/services.json").json()
    fields = {"service_code", "service_name", "description", "metadata", "type", "keywords"}
    assert all(fields | {"group"} <= set(s) for s in services)
    assert all(s["metadata"] is False and s["type"] == "realtime" for s in services)
    names = {s["service_name"] for s in services}
    assert "=KTP elektronik" in names and "Permintaan imbalan / pungli" in names
    refused = site.get("/open311/v2/requests.json")
    assert refused.status_code == 404
    assert "named civil servants" in refused.json()[0]["description"]
    assert site.get("/open311/v2/requests/1.json").status_code == 404
    discovery = site.get("/open311/v2/discovery.json").json()
    assert discovery["endpoints"][0]["url"].endswith("/open311/v2")


def test_the_page_shows_the_new_figures_after_the_next_refresh(
    site: TestClient, session: Session, engine: Engine, settings: Settings
) -> None:
    before = site.get("/data/pengaduan.json?periode=2026-Q4").json()["rows"]
    assert {r["kode_unit"]: r["diterima"] for r in before}["dukcapil"] == 0
    unit = session.exec(select(Unit).where(Unit.code == "dukcapil")).one()
    add_cases(session, unit, 5, date(2026, 11, 2), category="lainnya")
    session.commit()
    # Cached: the same figures until the refresh.
    kept = site.get("/data/pengaduan.json?periode=2026-Q4").json()["rows"]
    assert {r["kode_unit"]: r["diterima"] for r in kept}["dukcapil"] == 0
    refresh_public_figures(engine, settings, now=NOW)
    page = site.get("/transparansi?periode=2026-Q4").text
    row = page.split("Dinas Kependudukan dan Pencatatan Sipil")[1].split("</tr>")[0]
    assert '<td class="num">5 / 0</td>' in row


def test_with_no_snapshot_the_first_request_computes_it(
    session: Session, engine: Engine, settings: Settings
) -> None:
    make_unit(session, "dinsos", "Dinas Sosial")
    session.commit()
    with TestClient(create_site(build(settings, engine))) as client:
        page = client.get("/transparansi")
        assert page.status_code == 200 and "Dinas Sosial" in page.text


def test_a_forged_host_never_reaches_the_licence_or_the_source(
    site: TestClient, settings: Settings, engine: Engine
) -> None:
    forged = {"Host": "evil.example"}
    licence = site.get("/data/LISENSI.txt", headers=forged)
    assert licence.status_code == 200 and "evil.example" not in licence.text
    assert f'"{settings.area_name}"' in licence.text
    document = site.get("/data/ikm.json", headers=forged).json()
    assert document["source"] == settings.area_name
    # With PUBLIC_BASE_URL set, the configured address is credited, still not the Host.
    configured = settings.model_copy(update={"public_base_url": "https://skm.example.go.id"})
    with TestClient(create_site(build(configured, engine))) as client:
        credited = client.get("/data/LISENSI.txt", headers=forged).text
        assert f'"{settings.area_name}, https://skm.example.go.id"' in credited
        assert "evil.example" not in credited


def test_a_running_period_shows_its_totals_only(site: TestClient) -> None:
    html = site.get("/transparansi/dukcapil?periode=2026").text
    assert "Periode ini belum berakhir" in html
    assert "88,89" in html and "A (Sangat Baik)" in html  # the IKM and grade: totals
    assert "U1. Persyaratan" not in html  # no elements until the year has ended
    assert "Rincian menurut kategori ditampilkan setelah periode ini berakhir" in html
    ended = site.get("/transparansi/dukcapil?periode=2026-Q3").text
    assert "Periode ini belum berakhir" not in ended and "U1. Persyaratan" in ended
    english = site.get("/transparansi/dukcapil?periode=2026&lang=en").text
    assert "This period has not ended yet" in english


def test_open311_discovery_ignores_a_forged_host(site: TestClient) -> None:
    discovery = site.get("/open311/v2/discovery.json", headers={"Host": "evil.example"})
    assert discovery.status_code == 200 and "evil.example" not in discovery.text
    assert discovery.json()["endpoints"][0]["url"] == "/open311/v2"
