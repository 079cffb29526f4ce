"""The follow-up plan and the printable SKM report in the console (issue 16, "The SKM
report"): a unit head writes the plan under the unit's IKM, finds it in the PDF and the XLSX
they download, and removes a row; a viewer reads the plan but cannot change it."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]

ACTION = "Menambah satu loket KTP-el pada hari Senin"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    yield context.new_page()
    context.close()


def test_a_unit_head_writes_the_plan_and_finds_it_in_the_report(page: Page, office: Office) -> None:
    log_in(page, office, "kadis")
    page.goto(f"{office.base}/staff/scores/dukcapil?kind=month")
    section = page.locator("section#followup")
    expect(section).to_contain_text("Unit belum mengisi rencana tindak lanjut")
    section.get_by_label("Prioritas unsur").select_option("3")
    section.get_by_label("Program / kegiatan").fill(ACTION)
    section.get_by_label("Waktu").fill("Januari 2027")
    section.get_by_label("Penanggung jawab").fill("Kepala Bidang Pelayanan")
    section.get_by_role("button", name="Tambah ke rencana").click()
    expect(page.get_by_role("status")).to_contain_text("Baris ditambahkan")
    row = page.locator("table.followup-plan tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("U3")
    expect(row).to_contain_text(ACTION)
    assert serious_violations(page) == []
    query = page.url.split("?", 1)[1].split("#", 1)[0]
    pdf = page.request.get(f"{office.base}/staff/scores/dukcapil/report.pdf?{query}")
    assert pdf.headers["content-type"] == "application/pdf"
    assert ACTION.encode() in pdf.body()
    xlsx = page.request.get(f"{office.base}/staff/scores/dukcapil/report.xlsx?{query}")
    sheet = load_workbook(io.BytesIO(xlsx.body()))["Rencana tindak lanjut"]
    assert [r[2] for r in sheet.iter_rows(values_only=True)][1] == ACTION

    viewer = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    log_in(viewer, office, "baca")
    viewer.goto(f"{office.base}/staff/scores/dukcapil?{query}")
    expect(viewer.locator("table.followup-plan")).to_contain_text(ACTION)
    expect(viewer.get_by_role("button", name="Tambah ke rencana")).to_have_count(0)
    viewer.context.close()

    row.get_by_role("button", name="Hapus").click()
    expect(page.get_by_role("status")).to_contain_text("Baris dihapus")
    expect(page.locator("table.followup-plan")).to_have_count(0)
