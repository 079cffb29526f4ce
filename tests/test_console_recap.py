"""The complaint recap in Chromium ("Rekap pengaduan"): a supervisor chooses a period, reads
the figures, and the XLSX and PDF downloads carry the same numbers; a unit head's recap
leaves out the confidential case; a unit outside the scope is unknown; a backwards period is
refused with the reason."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import date

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, select

from core.cases.models import CaseOutcome, CaseStatus, Privacy
from core.masterdata.models import Unit
from tests.factories import local, make_unit
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office
from tests.test_recap import add_case

pytestmark = pytest.mark.browser
__all__ = ["office"]

UNIT = "Dinas Kependudukan dan Pencatatan Sipil"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True, accept_downloads=True)
    yield context.new_page()
    context.close()


def _cases(office: Office) -> None:
    with Session(office.engine, expire_on_commit=False) as s:
        unit = s.exec(select(Unit).where(col(Unit.code) == "dukcapil")).one()
        other = make_unit(s, "dinkes", "Dinas Kesehatan")
        # Friday -> Monday: 1 working day.
        add_case(
            s,
            unit,
            received=local(date(2026, 11, 13)),
            category="pungli",
            status=CaseStatus.resolved,
            resolved=local(date(2026, 11, 16)),
            outcome=CaseOutcome.substantiated,
        )
        # Confidential: Monday -> Monday, 5 working days.
        add_case(
            s,
            unit,
            received=local(date(2026, 11, 2)),
            category="pungli",
            privacy=Privacy.rahasia,
            status=CaseStatus.resolved,
            resolved=local(date(2026, 11, 9)),
            outcome=CaseOutcome.unsubstantiated,
        )
        add_case(
            s,
            unit,
            received=local(date(2026, 11, 3)),
            status=CaseStatus.in_progress,
            due=local(date(2026, 11, 20)),
        )
        add_case(s, other, received=local(date(2026, 11, 10)))
        s.commit()


def _choose_november(page: Page) -> None:
    page.get_by_label("Periode", exact=True).select_option("custom")
    page.get_by_label("Dari tanggal").fill("2026-11-01")
    page.get_by_label("Sampai tanggal").fill("2026-11-30")
    page.get_by_role("button", name="Tampilkan").click()


def _figure(page: Page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').inner_text().strip()


def test_a_supervisor_reads_the_recap_and_downloads_the_same_figures(
    page: Page, office: Office
) -> None:
    _cases(office)
    log_in(page, office, "spv")
    page.get_by_role("link", name="Rekap pengaduan").click()
    expect(page.get_by_role("heading", level=1, name="Rekap pengaduan")).to_be_visible()
    _choose_november(page)
    expect(page.locator('[data-figure="received"]')).to_have_text("3")
    assert _figure(page, "resolved_on_time") == "2"
    assert _figure(page, "open_overdue") == "1"
    assert _figure(page, "median") == "3,0 hari kerja"  # of 1 and 5 working days
    pungli = page.locator('tr[data-category="pungli"] td').inner_text()
    assert pungli == "2"
    assert page.locator('tr[data-outcome="unsubstantiated"] td').inner_text() == "1"
    assert serious_violations(page) == []
    if folder := os.environ.get("RECAP_SCREENSHOTS"):
        page.screenshot(path=f"{folder}/recap.png", full_page=True)
    page.set_viewport_size({"width": 375, "height": 740})  # a phone: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1366, "height": 768})

    with page.expect_download() as info:
        page.get_by_role("link", name="Unduh rekap (XLSX)").click()
    download = info.value
    assert download.suggested_filename == "rekap-dukcapil-2026-11-01-2026-11-30.xlsx"
    sheet = load_workbook(io.BytesIO(download.path().read_bytes())).active
    assert sheet is not None
    rows = {(r[0], r[1]): r[2] for r in sheet.iter_rows(values_only=True) if len(r) > 2}
    labels = {r[0]: r[1] for r in sheet.iter_rows(values_only=True)}
    assert labels["Unit"] == UNIT
    assert rows[("Pengaduan", "Diterima pada periode")] == int(_figure(page, "received"))
    assert rows[("Kategori", "Permintaan imbalan / pungli")] == int(pungli)
    assert rows[("Tenggat", "Masih terbuka, melewati tenggat")] == int(
        _figure(page, "open_overdue")
    )
    assert rows[("Waktu penanganan", "Median (diterima s.d. selesai)")] == _figure(page, "median")

    with page.expect_download() as info:
        page.get_by_role("link", name="Unduh rekap untuk dicetak (PDF)").click()
    pdf = info.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    assert UNIT.encode() in pdf and b"3,0 hari kerja" in pdf


def test_a_unit_head_does_not_count_the_confidential_case(page: Page, office: Office) -> None:
    _cases(office)
    log_in(page, office, "kadis")
    page.get_by_role("link", name="Rekap pengaduan").click()
    _choose_november(page)
    expect(page.locator('[data-figure="received"]')).to_have_text("2")
    assert page.locator('tr[data-category="pungli"] td').inner_text() == "1"
    assert _figure(page, "median") == "1,0 hari kerja"
    with page.expect_download() as info:
        page.get_by_role("link", name="Unduh rekap (XLSX)").click()
    sheet = load_workbook(io.BytesIO(info.value.path().read_bytes())).active
    assert sheet is not None
    rows = {(r[0], r[1]): r[2] for r in sheet.iter_rows(values_only=True) if len(r) > 2}
    assert rows[("Pengaduan", "Diterima pada periode")] == 2


def test_a_unit_outside_the_scope_is_unknown_and_a_backwards_period_is_refused(
    page: Page, office: Office
) -> None:
    _cases(office)
    log_in(page, office, "spv")
    response = page.goto(f"{office.base}/staff/recap?unit=dinkes")
    assert response is not None and response.status == 404
    response = page.goto(f"{office.base}/staff/recap.xlsx?unit=dinkes")
    assert response is not None and response.status == 404
    page.goto(f"{office.base}/staff/recap")
    page.get_by_label("Periode", exact=True).select_option("custom")
    page.get_by_label("Dari tanggal").fill("2026-11-30")
    page.get_by_label("Sampai tanggal").fill("2026-11-01")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.get_by_role("alert")).to_be_visible()
    # The page still shows the default period's figures for the unit.
    expect(page.locator('[data-figure="received"]')).to_be_visible()
