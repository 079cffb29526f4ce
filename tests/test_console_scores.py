"""The console's satisfaction pages (Kepuasan (IKM)) in Chromium: a supervisor reads a unit's
IKM, its nine elements, trend and comments, and downloads the SKM report whose figures are the
page's; a unit head never sees another unit's scores, report or comments.

Figures from PermenPANRB 14/2017, annex (IKM = 25 x sum of NRR x 1/9; grade B from 76.61,
C from 65.00): six questionnaires answering 4 and six answering 3 on every element except
"Waktu Penyelesaian" (2 for all twelve) give NRR 3.500 for eight elements and 2.000 for one:
IKM = 25 x (8 x 3.5 + 2) / 9 = 83.33, grade B (Baik). The quarter before, ten questionnaires
answering 3 everywhere: 75.00 (C), so the change is +8.33."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from core.masterdata.models import Unit
from core.people.models import Role
from core.surveys.trend import month_start
from tests.factories import add_response, local, make_service, make_unit, make_user
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]

UNIT = "Dinas Kependudukan dan Pencatatan Sipil"
HIGH = [4, 4, 2, 4, 4, 4, 4, 4, 4]
LOW = [3, 3, 2, 3, 3, 3, 3, 3, 3]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True, accept_downloads=True)
    yield context.new_page()
    context.close()


def _today(office: Office) -> date:
    return office.policies.now().astimezone(office.policies.settings.tz).date()


def _answers(office: Office) -> None:
    """This quarter: twelve questionnaires for Dukcapil (83.33), fifteen for the tax office;
    the quarter before: ten for Dukcapil (75.00)."""
    today = _today(office)
    quarter = month_start(today, (today.month - 1) % 3)
    before = quarter - timedelta(days=20)
    with Session(office.engine) as s:
        dukcapil = s.get_one(Unit, office.ids["dukcapil"])
        pajak = make_unit(s, "pajak", "Badan Pendapatan Daerah")
        ktp = make_service(s, dukcapil, "KTP-el")
        akta = make_service(s, dukcapil, "Akta Kelahiran")
        for i in range(12):
            r = add_response(
                s,
                dukcapil,
                HIGH if i % 2 else LOW,
                at=local(quarter, hour=1) + timedelta(minutes=i),
                service=ktp if i < 8 else akta,
            )
            r.sex = "perempuan" if i < 7 else "laki-laki"
            r.comment = {0: "Antrean panjang di loket KTP", 11: "Petugas akta ramah"}.get(i)
            s.add(r)
        for i in range(10):
            add_response(s, dukcapil, [3] * 9, at=local(before) + timedelta(minutes=i))
        for i in range(15):
            r = add_response(s, pajak, [1] * 9, at=local(quarter, hour=2) + timedelta(minutes=i))
            r.comment = "Komentar khusus Bapenda" if i == 0 else None
            s.add(r)
        make_user(s, "kabid_pajak", Role.unit_head, [pajak])
        s.commit()


def _shot(page: Page, name: str) -> None:
    """With SCORES_SCREENSHOTS=<dir>, a full-page screenshot (for the README and review)."""
    folder = os.environ.get("SCORES_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def _no_horizontal_scroll(page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1366, "height": 768})


def test_a_supervisor_reads_a_units_ikm_and_downloads_the_report(
    page: Page, office: Office
) -> None:
    _answers(office)
    log_in(page, office, "spv")
    page.get_by_role("link", name="Kepuasan (IKM)").click()
    expect(page.get_by_role("heading", name="Kepuasan masyarakat (IKM)")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Triwulan")).to_be_visible()
    row = page.locator("tr[data-unit='dukcapil']")
    expect(row.locator("td.ikm")).to_have_text("83,33")
    expect(row).to_contain_text("Baik")
    expect(row).to_contain_text("12 dari minimal 278")
    expect(row).to_contain_text("+8,33")
    expect(page.locator("tr[data-unit='pajak']")).to_have_count(0)  # not the supervisor's unit
    assert serious_violations(page) == []
    _shot(page, "scores-overview")
    _no_horizontal_scroll(page)

    row.get_by_role("link", name=UNIT).click()
    expect(page.get_by_role("heading", level=1, name=UNIT)).to_be_visible()
    summary = page.locator(".scores-summary")
    ikm_text = summary.locator("dd.ikm").inner_text()
    n_text = summary.locator("dd.respondents").get_attribute("data-n")
    assert ikm_text == "83,33" and n_text == "12"
    lowest = page.locator("table.scores-elements tr.lowest")
    expect(lowest).to_have_count(2)
    expect(lowest.first).to_contain_text("Persyaratan")
    expect(lowest.nth(1)).to_contain_text("Waktu Penyelesaian")
    expect(lowest.nth(1)).to_contain_text("2,000")
    expect(page.locator("table.scores-services tr", has_text="KTP-el")).to_contain_text(
        "belum cukup data (n = 8)"
    )
    chart = page.locator(".scores-chart svg")
    expect(chart.locator("text.month")).to_have_count(12)
    # The quarter's first month (12 responses) and the month 20 days before it (10): two
    # points; the other ten months have none and are marked as gaps.
    expect(chart.locator("circle.trend-point")).to_have_count(2)
    expect(chart.locator("text.gap-mark")).to_have_count(10)
    expect(chart.locator("text.count", has_text="n=12")).to_have_count(1)
    expect(chart.locator("text.count", has_text="n=10")).to_have_count(1)
    expect(page.locator(".chart-legend")).to_contain_text("Sangat Baik")
    expect(page.locator(".chart-legend")).to_contain_text("belum cukup data")
    sex = page.locator("table.profile-table", has_text="Jenis kelamin")
    expect(sex.locator("tr", has_text="Perempuan").locator("td").last).to_have_text("7")
    expect(sex.locator("tr", has_text="Laki-laki").locator("td").last).to_have_text("5")
    comments = page.locator("ol.comments li")
    expect(comments).to_have_count(2)
    expect(comments.first).to_contain_text("Petugas akta ramah")  # newest first
    expect(comments.first).to_contain_text("Akta Kelahiran")
    assert serious_violations(page) == []
    _shot(page, "scores-unit")
    page.set_viewport_size({"width": 375, "height": 740})
    _shot(page, "scores-unit-phone")
    _no_horizontal_scroll(page)

    with page.expect_download() as info:
        page.get_by_role("link", name="Unduh laporan SKM (XLSX)").click()
    download = info.value
    assert download.suggested_filename.startswith("skm-dukcapil-")
    path = download.path()
    workbook = load_workbook(io.BytesIO(path.read_bytes()))
    sheet = workbook["IKM"]
    cells = {row[1].value: row[2].value for row in sheet.iter_rows() if len(row) > 2}
    labels = {row[0].value: row[1].value for row in sheet.iter_rows()}
    assert labels["Jumlah responden (n)"] == int(n_text)
    assert cells["IKM"] == pytest.approx(float(ikm_text.replace(",", ".")))
    assert cells["Mutu pelayanan"] == "B (Baik)"

    page.get_by_label("Cari dalam komentar").fill("antrean")
    page.get_by_role("button", name="Cari", exact=True).click()
    expect(page.locator("ol.comments li")).to_have_count(1)
    expect(page.locator("ol.comments li")).to_contain_text("Antrean panjang di loket KTP")


def test_a_unit_head_never_sees_another_units_scores(page: Page, office: Office) -> None:
    _answers(office)
    log_in(page, office, "kadis")
    page.get_by_role("link", name="Kepuasan (IKM)").click()
    expect(page.locator("tr[data-unit='dukcapil']")).to_have_count(1)
    expect(page.locator("tr[data-unit='pajak']")).to_have_count(0)
    for path in ("/staff/scores/pajak", "/staff/scores/pajak/report.xlsx"):
        response = page.goto(f"{office.base}{path}")
        assert response is not None and response.status == 404
    expect(page.get_by_text("Komentar khusus Bapenda")).to_have_count(0)
    expect(page.get_by_text("Badan Pendapatan Daerah")).to_have_count(0)


def test_a_period_that_cannot_be_read_is_explained(page: Page, office: Office) -> None:
    log_in(page, office, "spv")
    response = page.goto(f"{office.base}/staff/scores?kind=custom&start=2026-12-01&end=2026-01-01")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("tanggal akhir tidak sebelum tanggal awal")
    page.get_by_label("Periode", exact=True).select_option("month")
    page.get_by_label("Tanggal dalam periode").fill("2026-02-10")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.get_by_role("heading", level=2, name="Februari 2026")).to_be_visible()
    assert serious_violations(page) == []
    for query in ("kind=month&on=0001-01-01", "kind=year&on=9999-12-31", "kind=x", "on=kemarin"):
        response = page.goto(f"{office.base}/staff/scores?{query}")
        assert response is not None and response.status == 400, query
        expect(page.get_by_role("alert")).to_be_visible()
    # The first months the service knows: the chart shows the empty months before them.
    response = page.goto(f"{office.base}/staff/scores/dukcapil?kind=month&on=2000-01-15")
    assert response is not None and response.status == 200
    expect(page.locator(".scores-chart text.gap-mark")).to_have_count(12)
    response = page.goto(f"{office.base}/staff/scores/dukcapil?after=garbage")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("Halaman komentar tidak dikenali")


def test_a_viewer_reads_in_english_and_pages_through_the_comments(
    page: Page, office: Office
) -> None:
    _answers(office)
    today = _today(office)
    with Session(office.engine) as s:
        dukcapil = s.get_one(Unit, office.ids["dukcapil"])
        for i in range(26):
            r = add_response(s, dukcapil, HIGH, at=local(today, hour=3) + timedelta(minutes=i))
            r.comment = f"Saran nomor {i:02d}"
            s.add(r)
        s.commit()
    log_in(page, office, "baca")
    page.get_by_role("button", name="English").click()
    page.get_by_role("link", name="Satisfaction (IKM)").click()
    expect(page.get_by_role("heading", name="Public satisfaction (IKM)")).to_be_visible()
    row = page.locator("tr[data-unit='dukcapil']")
    # 38 responses: NRR 146 / 38 on eight elements, 2 on one: 25 x (8 x 3.842 + 2) / 9
    expect(row.locator("td.ikm")).to_have_text("90.94")
    expect(row).to_contain_text("Very good (Sangat Baik)")
    page.get_by_role("link", name=UNIT).click()
    expect(page.locator("ol.comments li")).to_have_count(25)
    expect(page.locator("ol.comments li").first).to_contain_text("Saran nomor 25")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Next comments (older)").click()
    # Saran 00, then the quarter's first two comments (its first day, earlier)
    expect(page.locator("ol.comments li")).to_have_count(3)
    expect(page.locator("ol.comments li").first).to_contain_text("Saran nomor 00")
    expect(page.get_by_role("link", name="Next comments (older)")).to_have_count(0)
