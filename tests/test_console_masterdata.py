"""Master data in Chromium: an admin imports an officer roster with a dry run (a bad NIP is
refused with the rule it breaks, nothing is written until every row is right), downloads a
unit's QR codes and its printable sheet; a supervisor keeps the services of their unit but
creates no unit; a unit head previews their unit's weekly digest.

The NIP rules are those of core.masterdata.nip (Peraturan Kepala BKN 22/2007: digit 15 is the
sex, 1 or 2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func
from sqlmodel import Session, select

from core.digests.figures import IsoWeek
from core.masterdata.models import Officer, Service, Unit
from core.people.models import AppUser
from tests.contacts import link_telegram
from tests.factories import make_service
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]

UNIT = "Dinas Kependudukan dan Pencatatan Sipil"
HEADER = "nip,name,unit_code,position\n"
GOOD = (
    "198504122010031001,Agustina Bria,dukcapil,Pengadministrasi\n"
    "199001012015032002,Fransiska Lake,dukcapil,Operator\n"
)
BAD_ROW = "199203152019033005,Yosef Manek,dukcapil,Verifikator\n"  # digit 15 is 3
FIXED_ROW = "199203152019032005,Yosef Manek,dukcapil,Verifikator\n"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page whose context lets axe be injected as an inline script."""
    context = browser.new_context(bypass_csp=True, accept_downloads=True)
    yield context.new_page()
    context.close()


def _officers(office: Office) -> int:
    with Session(office.engine) as s:
        return int(s.exec(select(func.count()).select_from(Officer)).one())


def _upload(page: Page, text: str) -> None:
    page.get_by_label("Berkas CSV").set_input_files(
        {"name": "petugas.csv", "mimeType": "text/csv", "buffer": text.encode()}
    )
    page.get_by_role("button", name="Periksa berkas").click()
    expect(page.get_by_role("heading", name="Hasil pemeriksaan")).to_be_visible()


def _fits_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1366, "height": 768})


def test_an_admin_imports_officers_after_a_dry_run_and_prints_the_qr_sheet(
    page: Page, office: Office
) -> None:
    before = _officers(office)
    log_in(page, office, "admin")
    page.get_by_role("navigation").get_by_role("link", name="Unit & petugas").click()
    expect(page.get_by_role("heading", name="Unit & petugas", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=UNIT)).to_be_visible()
    assert serious_violations(page) == []
    _fits_a_phone(page)

    # A new unit: a code the rules refuse is said so and what was typed stays.
    form = page.locator("form.unit-form")
    form.get_by_label("Kode unit", exact=True).fill("RS Umum!")
    form.get_by_label("Nama unit", exact=True).fill("Rumah Sakit Umum Daerah")
    form.get_by_label("Populasi layanan").fill("25.000")
    form.get_by_role("button", name="Buat unit").click()
    expect(page.get_by_role("alert")).to_contain_text("Kode unit: 1-40 huruf kecil")
    form = page.locator("form.unit-form")
    expect(form.get_by_label("Nama unit", exact=True)).to_have_value("Rumah Sakit Umum Daerah")
    form.get_by_label("Kode unit", exact=True).fill("rsud")
    form.get_by_role("button", name="Buat unit").click()
    expect(page.get_by_role("heading", name="Rumah Sakit Umum Daerah")).to_be_visible()
    expect(page.locator(".md-facts")).to_contain_text("25.000")
    page.get_by_role("button", name="Nonaktifkan unit").click()
    expect(page.locator(".md-facts")).to_contain_text("Nonaktif")
    with Session(office.engine) as s:
        rsud = s.exec(select(Unit).where(Unit.code == "rsud")).one()
        assert (rsud.service_population, rsud.active) == (25_000, False)

    page.get_by_role("navigation").get_by_role("link", name="Unit & petugas").click()
    page.get_by_role("link", name="Impor petugas dari CSV").click()
    _upload(page, HEADER + GOOD + BAD_ROW)
    expect(page.get_by_role("alert")).to_contain_text("1 dari 3 baris bermasalah")
    bad = page.locator("table.md-import tr", has_text="Yosef Manek")
    expect(bad).to_contain_text("Ditolak")
    expect(bad).to_contain_text("Angka ke-15 NIP harus 1 (laki-laki) atau 2 (perempuan)")
    expect(page.locator("table.md-import tr", has_text="Agustina Bria")).to_contain_text(
        "Benar: petugas baru"
    )
    expect(page.get_by_role("button", name="Impor", exact=True)).to_have_count(0)
    assert _officers(office) == before
    assert serious_violations(page) == []
    _fits_a_phone(page)

    _upload(page, HEADER + GOOD + FIXED_ROW)
    expect(page.get_by_role("status")).to_contain_text("Semua 3 baris benar")
    assert _officers(office) == before  # a dry run writes nothing
    page.get_by_role("button", name="Impor", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Impor selesai: 3 petugas baru")
    assert _officers(office) == before + 3

    page.goto(f"{office.base}/staff/units/dukcapil")
    expect(page.get_by_role("heading", name=UNIT)).to_be_visible()
    expect(page.locator("table.md-officers")).to_contain_text("199203152019032005")
    assert serious_violations(page) == []
    _fits_a_phone(page)

    with page.expect_download() as sheet:
        page.get_by_role("link", name="Lembar QR untuk dicetak (PDF, A4)").click()
    assert sheet.value.suggested_filename == "qr-dukcapil.pdf"
    response = page.request.get(f"{office.base}/staff/units/dukcapil/qr-sheet.pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
    png = page.request.get(f"{office.base}/staff/units/dukcapil/qr.png")
    assert png.headers["content-type"] == "image/png"
    assert png.body().startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["x-deep-link"].endswith("?start=u_dukcapil")
    every = page.request.get(f"{office.base}/staff/units/qr-sheet.pdf")
    assert every.headers["content-type"] == "application/pdf"
    assert every.body().startswith(b"%PDF-")
    svg = page.request.get(f"{office.base}/staff/units/dukcapil/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.body()


def test_a_supervisor_edits_a_service_of_their_unit_but_creates_no_unit(
    page: Page, office: Office
) -> None:
    with Session(office.engine, expire_on_commit=False) as s:
        unit = s.get_one(Unit, office.ids["dukcapil"])
        service = make_service(s, unit, "Perekaman KTP-el")
        s.commit()
    log_in(page, office, "spv")
    page.get_by_role("navigation").get_by_role("link", name="Unit & petugas").click()
    expect(page.get_by_role("heading", name="Unit baru")).to_have_count(0)
    page.get_by_role("link", name=UNIT).click()
    field = page.get_by_label("Nama layanan Perekaman KTP-el")
    field.fill("Perekaman dan Pencetakan KTP-el")
    page.get_by_role("button", name="Simpan Perekaman KTP-el").click()
    expect(page.get_by_role("status")).to_contain_text("Perubahan disimpan")
    with Session(office.engine) as s:
        assert s.get_one(Service, service.id).name == "Perekaman dan Pencetakan KTP-el"
    assert serious_violations(page) == []

    # Services from CSV: the rows are checked first; a unit not theirs is refused.
    page.get_by_role("navigation").get_by_role("link", name="Unit & petugas").click()
    page.get_by_role("link", name="Impor unit dan layanan dari CSV").click()
    expect(page.get_by_label("Berkas CSV unit")).to_have_count(0)
    page.get_by_label("Berkas CSV layanan").set_input_files(
        {
            "name": "layanan.csv",
            "mimeType": "text/csv",
            "buffer": b"unit_code,name\ndukcapil,Akta Kelahiran\nrsud,Rawat Jalan\n",
        }
    )
    page.get_by_role("button", name="Periksa berkas Berkas CSV layanan").click()
    expect(page.get_by_role("alert")).to_contain_text("1 dari 2 baris bermasalah")
    expect(page.locator("table.md-import tr", has_text="Rawat Jalan")).to_contain_text(
        "bukan dalam wewenang Anda"
    )
    expect(page.get_by_role("button", name="Impor", exact=True)).to_have_count(0)
    assert serious_violations(page) == []
    _fits_a_phone(page)

    csrf = page.locator("meta[name=csrf-token]").get_attribute("content") or ""
    forged = page.request.post(
        f"{office.base}/staff/units",
        form={"csrf": csrf, "code": "rumah-sakit", "name": "RSUD", "population": ""},
    )
    assert forged.status == 403
    with Session(office.engine) as s:
        assert s.exec(select(Unit).where(Unit.code == "rumah-sakit")).first() is None


def test_a_unit_head_previews_the_digest_of_their_unit(page: Page, office: Office) -> None:
    office.file(7301, "Antrean di loket KTP-el sangat panjang dan tidak tertib.")
    log_in(page, office, "kadis")
    expect(page.get_by_role("link", name="Unit & petugas")).to_have_count(0)
    page.get_by_role("link", name="Ringkasan mingguan").click()
    tz = office.policies.settings.tz
    week = IsoWeek.of(office.policies.now().astimezone(tz).date())  # this week: the default
    expect(page.get_by_role("heading", name=f"Ringkasan {UNIT}, minggu {week}")).to_be_visible()
    expect(page.locator(".digest-text")).to_contain_text(UNIT)
    expect(page.locator(".digest-text")).to_contain_text("1 baru")
    earlier = week.previous()
    page.get_by_label("Minggu", exact=True).fill(str(earlier))
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.get_by_role("heading", name=f"Ringkasan {UNIT}, minggu {earlier}")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("button", name="Kirim sekarang")).to_have_count(0)
    chart = page.locator("img.digest-chart").get_attribute("src") or ""
    drawn = page.request.get(f"{office.base}{chart}")
    assert drawn.headers["content-type"] == "image/png"
    assert drawn.body().startswith(b"\x89PNG")
    assert serious_violations(page) == []
    _fits_a_phone(page)
    response = page.goto(f"{office.base}/staff/units")
    assert response is not None and response.status == 403


def test_an_admin_sends_a_units_digest_now_once(page: Page, office: Office) -> None:
    with Session(office.engine) as s:  # a digest goes to a unit head linked to Telegram
        link_telegram(s, s.get_one(AppUser, office.ids["kadis"]), 8803)
        s.commit()
    tz = office.policies.settings.tz
    week = IsoWeek.of(office.policies.now().astimezone(tz).date()).previous()
    log_in(page, office, "admin")
    page.get_by_role("link", name="Ringkasan mingguan").click()
    page.get_by_label("Minggu", exact=True).fill(str(week))
    page.get_by_role("button", name="Tampilkan").click()
    page.get_by_role("button", name="Kirim sekarang").click()
    expect(page.get_by_role("status")).to_contain_text("Ringkasan dimasukkan ke antrean kirim")
    page.get_by_role("button", name="Kirim sekarang").click()
    expect(page.get_by_role("alert")).to_contain_text("tidak dikirim dua kali")
    assert serious_violations(page) == []
