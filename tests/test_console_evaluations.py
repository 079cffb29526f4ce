"""Evaluation periods in Chromium (issue 15, "Evaluations (PermenPANRB 6/2022)"): a supervisor
creates a monthly period for their unit, computes the evidence, confirms one suggestion and
overrides another with a reason, sets the work results (one by one and from a CSV, where a bad
row writes nothing), is shown who still lacks what before finalizing; a unit head reads the
period without any suggestion (docs/privacy.md "Evaluations"); an administrator finalizes
before the period ends with a reason; the exports match the page.

The predikat of each officer follows the matrix of PermenPANRB 6/2022, Lampiran (hasil kerja x
perilaku kerja): above x above = "Sangat Baik", meets x meets = "Baik"."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Locator, Page, expect
from sqlmodel import Session, select

from core.access import Actor
from core.cases import service as svc
from core.cases.models import CaseOutcome
from core.evaluations import service as ev
from core.masterdata.models import Officer, Unit
from core.people.models import Role
from tests.contacts import telegram_citizen
from tests.factories import add_response, make_officer
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]


@dataclass
class Staffed:
    office: Office
    month: date  # the first day of the current month (WITA): the period under test
    nips: dict[str, str]


def _answers(q6: int, q7: int) -> list[int]:
    return [3, 3, 3, 3, 3, q6, q7, 3, 3]


@pytest.fixture
def staffed(office: Office) -> Staffed:
    """Demo-like evidence this month: Yohanes is praised by twelve citizens (suggested above
    expectation); Maria has two substantiated complaints (suggested below); Petrus has no
    answers at all (insufficient data: meets expectation)."""
    policies = office.policies
    now = policies.now()
    today = now.astimezone(policies.settings.tz).date()
    moment = now - timedelta(minutes=5)
    admin = Actor(office.ids["admin"], "admin", Role.admin)
    with Session(office.engine, expire_on_commit=False) as s:
        unit = s.get_one(Unit, office.ids["dukcapil"])
        yohanes = s.exec(select(Officer).where(Officer.name == "Yohanes Ndun")).one()
        maria = make_officer(s, unit, "Maria Bria", nip="199001012015012002")
        petrus = make_officer(s, unit, "Petrus Seran", nip="198803032012011003")
        for i in range(12):
            citizen = telegram_citizen(s, 70_000 + i).id
            add_response(s, unit, _answers(4, 4), moment, officer=yohanes, citizen_id=citizen)
        for i in range(12, 20):
            citizen = telegram_citizen(s, 70_000 + i).id
            add_response(s, unit, _answers(2, 3), moment, citizen_id=citizen)
        for k in range(2):
            case = svc.file_complaint(
                s,
                telegram_citizen(s, 71_000 + k),
                svc.ComplaintDraft(
                    unit_id=unit.id or 0,
                    officer_id=maria.id,
                    category="tidak_patut",
                    description="Petugas membentak warga di loket pelayanan kemarin pagi.",
                ),
                policies.cases,
            )
            svc.verify(s, case, policies.cases, actor=admin)
            svc.assign(s, case, actor=admin, assignee_id=office.ids["spv"])
            svc.resolve(s, case, CaseOutcome.substantiated, "Diperiksa.", actor=admin)
        s.commit()
        nips = {"Yohanes Ndun": yohanes.nip, "Maria Bria": maria.nip, "Petrus Seran": petrus.nip}
    return Staffed(office, today.replace(day=1), nips)


def _shot(page: Page, name: str) -> None:
    """With EVALUATIONS_SCREENSHOTS=<dir>, a full-page screenshot (for the README)."""
    folder = os.environ.get("EVALUATIONS_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def _fits_375(page: Page) -> None:
    """No horizontal scrolling at 375 px; the viewport is restored afterwards."""
    size = page.viewport_size
    page.set_viewport_size({"width": 375, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} scrolls sideways at 375 px ({width} px)"
    if size:
        page.set_viewport_size(size)


def _page_of(browser: Browser, width: int = 1366, height: int = 900) -> Page:
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": height})
    return context.new_page()


@pytest.fixture
def pages(browser: Browser) -> Iterator[list[Page]]:
    opened: list[Page] = []
    yield opened
    for p in opened:
        p.context.close()


def _row(page: Page, name: str) -> Locator:
    return page.locator("tr.eval-officer", has_text=name)


def _decide(
    page: Page, name: str, behaviour: str = "", results: str = "", reason: str = ""
) -> None:
    row = _row(page, name)
    if behaviour:
        row.get_by_label("Perilaku kerja").select_option(label=behaviour)
    if reason:
        row.get_by_label("Alasan (wajib bila berbeda dari saran)").fill(reason)
    if results:
        row.get_by_label("Hasil kerja").select_option(label=results)
    row.get_by_role("button", name=f"Simpan keputusan {name}").click()


def _upload(page: Page, tmp: Path, text: str) -> None:
    path = tmp / "hasil.csv"
    path.write_text(text, encoding="utf-8")
    page.get_by_label("Berkas CSV").set_input_files(str(path))
    page.get_by_role("button", name="Unggah hasil kerja").click()


def test_a_supervisor_decides_a_period_and_an_admin_finalizes_it_early(
    browser: Browser, pages: list[Page], staffed: Staffed, tmp_path: Path
) -> None:
    office = staffed.office
    name = f"{staffed.month:%Y-%m}"
    spv = _page_of(browser)
    pages.append(spv)
    log_in(spv, office, "spv")
    spv.get_by_role("link", name="Penilaian kinerja").click()
    expect(spv.get_by_role("heading", name="Penilaian kinerja", exact=True)).to_be_visible()
    assert serious_violations(spv) == []

    # A start that is not the 1st is refused with the rule, and nothing is created.
    form = spv.locator("form.eval-create")
    form.get_by_label("Jenis periode").select_option(label="Bulanan")
    form.get_by_label("Tanggal mulai").fill((staffed.month + timedelta(days=1)).isoformat())
    form.get_by_role("button", name="Buat periode").click()
    expect(spv.get_by_role("alert")).to_contain_text("tanggal 1 suatu bulan")
    form = spv.locator("form.eval-create")
    form.get_by_label("Tanggal mulai").fill(staffed.month.isoformat())
    form.get_by_role("button", name="Buat periode").click()
    expect(spv.get_by_role("heading", name=f"Periode penilaian {name}")).to_be_visible()

    spv.get_by_role("button", name="Hitung bukti").click()
    expect(spv.get_by_role("status")).to_contain_text("Bukti dihitung ulang")
    yohanes, maria = _row(spv, "Yohanes Ndun"), _row(spv, "Maria Bria")
    expect(yohanes.locator(".eval-suggestion")).to_contain_text("Di atas ekspektasi")
    expect(yohanes.locator(".eval-suggestion")).to_contain_text("12 tanggapan")
    expect(yohanes).to_contain_text("0 diterima, 0 terbukti")
    expect(maria.locator(".eval-suggestion")).to_contain_text("Di bawah ekspektasi")
    expect(maria).to_contain_text("2 diterima, 2 terbukti")
    expect(_row(spv, "Petrus Seran")).to_contain_text("Data belum cukup")
    assert serious_violations(spv) == []
    _fits_375(spv)  # the decision forms included

    # Confirm Yohanes's suggestion and give his work results.
    _decide(spv, "Yohanes Ndun", "Setujui saran: Di atas ekspektasi", "Di atas ekspektasi")
    expect(spv.get_by_role("status")).to_contain_text("Keputusan tersimpan")
    expect(_row(spv, "Yohanes Ndun").locator(".eval-rating")).to_have_text("Predikat: Sangat Baik")
    # An override needs a reason: refused without one, then saved with it.
    _decide(spv, "Maria Bria", "Sesuai ekspektasi")
    expect(spv.get_by_role("alert")).to_contain_text("tuliskan alasannya")
    expect(_row(spv, "Maria Bria").locator(".eval-behaviour")).to_have_text("Perilaku kerja: -")
    reason = "Pengaduan terjadi saat menggantikan rekan yang sakit."
    _decide(spv, "Maria Bria", "Sesuai ekspektasi", reason=reason)
    expect(_row(spv, "Maria Bria")).to_contain_text(f"Alasan perubahan: {reason}")

    # Work results from a CSV: one bad row, nothing written; then the corrected file.
    maria_nip = staffed.nips["Maria Bria"]
    _upload(spv, tmp_path, f"nip,hasil_kerja\n{maria_nip},Sesuai Ekspektasi\n123,Luar biasa\n")
    alert = spv.get_by_role("alert")
    expect(alert).to_contain_text("1 baris salah")
    expect(alert).to_contain_text("Baris 3, kolom nip: tidak ada pegawai dengan NIP ini")
    expect(alert).to_contain_text("'Luar biasa' bukan tingkat hasil kerja")
    expect(_row(spv, "Maria Bria").locator(".eval-results")).to_have_text("Hasil kerja: -")
    _upload(spv, tmp_path, f"nip,hasil_kerja\n{maria_nip},Sesuai Ekspektasi\n")
    expect(spv.get_by_role("status")).to_contain_text("Hasil kerja dari berkas CSV tersimpan")
    expect(_row(spv, "Maria Bria").locator(".eval-rating")).to_have_text("Predikat: Baik")
    _shot(spv, "console-evaluation")

    # Before finalizing: Petrus is named with both fields; the period has not ended, so the
    # supervisor is told only an administrator may finalize now, and has no button.
    spv.get_by_role("link", name="Finalisasi periode").click()
    missing = spv.locator(".eval-missing")
    expect(missing).to_contain_text("Masih ada 1 pegawai tanpa keputusan")
    expect(missing.get_by_role("listitem")).to_have_text(
        f"Petrus Seran (NIP {staffed.nips['Petrus Seran']}): perilaku kerja, hasil kerja"
    )
    expect(spv.get_by_text("Hanya administrator yang dapat")).to_be_visible()
    expect(spv.get_by_role("button", name="Ya, finalisasi periode")).to_have_count(0)
    assert serious_violations(spv) == []
    _fits_375(spv)
    missing.get_by_role("link", name="Petrus Seran").click()
    _decide(spv, "Petrus Seran", "Setujui saran: Sesuai ekspektasi", "Sesuai ekspektasi")
    expect(_row(spv, "Petrus Seran").locator(".eval-rating")).to_have_text("Predikat: Baik")

    # A unit head reads the period: figures, but no suggestion and no decision yet.
    kadis = _page_of(browser)
    pages.append(kadis)
    log_in(kadis, office, "kadis")
    kadis.get_by_role("link", name="Penilaian kinerja").click()
    kadis.get_by_role("link", name=name).click()
    expect(kadis.get_by_role("heading", name=f"Periode penilaian {name}")).to_be_visible()
    expect(_row(kadis, "Yohanes Ndun")).to_contain_text("12")
    expect(kadis.get_by_role("columnheader", name="Saran sistem")).to_have_count(0)
    expect(kadis.locator(".eval-suggestion")).to_have_count(0)
    expect(kadis.locator("main")).not_to_contain_text("ekspektasi")
    expect(kadis.locator("body")).not_to_contain_text(reason)
    expect(kadis.get_by_role("button", name="Hitung ulang bukti")).to_have_count(0)
    expect(kadis.locator("form.eval-decide")).to_have_count(0)
    assert serious_violations(kadis) == []

    # An administrator finalizes before the period ends, with a reason.
    admin = _page_of(browser)
    pages.append(admin)
    log_in(admin, office, "admin")
    admin.goto(spv.url.split("#")[0].split("?")[0] + "/finalize")
    expect(admin.get_by_text("Semua pegawai sudah mendapat keputusan.")).to_be_visible()
    admin.get_by_label("Alasan finalisasi sebelum periode berakhir").fill(
        "Pegawai dimutasi awal bulan depan; penilaian diselesaikan lebih awal."
    )
    assert serious_violations(admin) == []
    admin.get_by_role("button", name="Ya, finalisasi periode").click()
    expect(admin.get_by_role("status")).to_contain_text("Periode sudah final")
    expect(admin.locator("form.eval-decide")).to_have_count(0)
    expect(admin.locator(".eval-audit")).to_contain_text(
        "admin: memfinalisasi periode sebelum berakhir"
    )
    expect(admin.locator(".eval-audit")).to_contain_text(
        "Maria Pengawas: mengubah saran perilaku kerja · Maria Bria "
        f"(dari Di bawah ekspektasi menjadi Sesuai ekspektasi: {reason})"
    )
    expect(admin.locator(".eval-audit")).to_contain_text(
        "mencatat hasil kerja · Maria Bria (Sesuai ekspektasi, dari berkas CSV)"
    )

    # The supervisor's export matches the page.
    spv.reload()
    score = _row(spv, "Yohanes Ndun").locator(".eval-score").inner_text().split(" ")[0]
    with spv.expect_download() as xlsx_download:
        spv.get_by_role("link", name="Unduh XLSX").click()
    sheet = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
    assert sheet is not None
    table = ev.xlsx_table(sheet)
    rows = {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    yoh = rows[staffed.nips["Yohanes Ndun"]]
    assert f"{yoh['skor']:.2f}".replace(".", ",") == score
    assert (yoh["jumlah_responden"], yoh["predikat"]) == (12, "Sangat Baik")
    with spv.expect_download() as csv_download:
        spv.get_by_role("link", name="Unduh CSV").click()
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    by_nip = {r["nip"]: r for r in csv.DictReader(io.StringIO(text))}
    assert by_nip[maria_nip]["alasan_perubahan"] == reason
    assert by_nip[maria_nip]["pengaduan_terbukti"] == "2"
    assert by_nip[maria_nip]["predikat"] == "Baik"

    # Once final the unit head sees the decisions, still without a suggestion.
    kadis.reload()
    expect(_row(kadis, "Yohanes Ndun").locator(".eval-rating")).to_have_text(
        "Predikat: Sangat Baik"
    )
    expect(kadis.locator(".eval-suggestion")).to_have_count(0)
    expect(kadis.locator("body")).not_to_contain_text(reason)

    # At 375 px the period page and the list fit without horizontal scrolling.
    narrow = _page_of(browser, 375, 800)
    pages.append(narrow)
    log_in(narrow, office, "spv")
    for path in (spv.url.split("#")[0].split("?")[0], f"{office.base}/staff/evaluations"):
        narrow.goto(path)
        width = narrow.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} scrolls sideways at 375 px ({width} px)"
    assert serious_violations(narrow) == []


def test_a_viewer_cannot_create_or_decide_and_a_forged_post_is_refused(
    browser: Browser, pages: list[Page], staffed: Staffed
) -> None:
    office = staffed.office
    spv = Actor(office.ids["spv"], "spv", Role.supervisor, frozenset({office.ids["dukcapil"]}))
    with Session(office.engine) as s:
        period = ev.create_period(s, "monthly", staffed.month, ["dukcapil"], actor=spv)
        ev.compute_period(s, period, office.policies.evaluations, office.policies.settings.tz,
                          actor=spv)  # fmt: skip
        s.commit()
        period_id = period.id
    baca = _page_of(browser)
    pages.append(baca)
    log_in(baca, office, "baca")
    baca.get_by_role("link", name="Penilaian kinerja").click()
    expect(baca.locator("form.eval-create")).to_have_count(0)
    baca.get_by_role("link", name=f"{staffed.month:%Y-%m}").click()
    expect(baca.locator("form.eval-decide")).to_have_count(0)
    baca.get_by_role("button", name="English").click()
    expect(
        baca.get_by_role("heading", name=f"Evaluation period {staffed.month:%Y-%m}")
    ).to_be_visible()
    # The two complaints about Maria are not confidential: a viewer counts them too.
    expect(_row(baca, "Maria Bria")).to_contain_text("2 received, 2 substantiated")
    assert serious_violations(baca) == []
    csrf = baca.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    answer = baca.request.post(
        f"{office.base}/staff/evaluations/{period_id}/compute", form={"csrf": csrf}
    )
    assert answer.status == 403
    for bad in ("abc", "0", "99999999999"):
        assert baca.request.get(f"{office.base}/staff/evaluations/{bad}").status == 404
    # An export of an open period is refused, not a 500.
    assert baca.request.get(f"{office.base}/staff/evaluations/{period_id}/export.csv").status == 409
