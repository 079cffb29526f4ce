"""Recording a complaint received at the counter, by phone or by letter, in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from app.site import create_site
from core.cases.models import Case
from core.people.models import Citizen, Role
from core.policies import build
from core.shared.config import Settings
from tests.console_kit import AXE, live_server
from tests.factories import PASSWORD, make_officer, make_service, make_unit, make_user

pytestmark = pytest.mark.browser

DESCRIPTION = "Warga menelepon: berkas Kartu Keluarga hilang di loket sejak dua minggu lalu."
LAPOR = "2611-LPR-00731"


@dataclass
class Counter:
    base: str
    engine: Engine


@pytest.fixture
def counter(settings: Settings, engine: Engine) -> Iterator[Counter]:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        make_officer(s, unit, "Yohanes Ndun")
        make_service(s, unit, "Kartu Keluarga")
        make_user(s, "spv", Role.supervisor, [unit])
        make_user(s, "tamu", Role.viewer, [unit])
        s.commit()
    with live_server(create_site(build(settings, engine))) as base:
        yield Counter(base, engine)


def cases_stored(counter: Counter) -> int:
    with Session(counter.engine) as s:
        return int(s.exec(select(func.count()).select_from(Case)).one())


def log_in(page: Page, counter: Counter, username: str) -> None:
    page.goto(f"{counter.base}/staff/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()


def serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def fill_phone_complaint(page: Page, email: str = "") -> None:
    page.get_by_role("radio", name="Telepon").check()
    page.get_by_label("Petugas yang dilaporkan").select_option(label="Yohanes Ndun")
    page.get_by_label("Layanan").select_option(label="Kartu Keluarga")
    page.get_by_label("Jenis masalah").select_option(label="Penundaan berlarut")
    page.get_by_label("Uraian pengaduan").fill(DESCRIPTION)
    page.get_by_label("Nomor telepon").fill("0812-3456-7890")
    page.get_by_label("Alamat e-mail").fill(email)
    page.get_by_label("Nomor pelacakan SP4N-LAPOR!").fill(LAPOR)
    page.get_by_role("button", name="Simpan pengaduan").click()


def test_a_phone_complaint_is_recorded_and_waits_for_verification(
    page: Page, counter: Counter
) -> None:
    log_in(page, counter, "spv")
    page.get_by_role("link", name="Catat pengaduan").click()
    expect(page.get_by_role("heading", name="Catat pengaduan")).to_be_visible()
    fill_phone_complaint(page, email="warga@contoh.go.id")
    expect(page.get_by_role("status")).to_contain_text("Pengaduan tersimpan dengan nomor KPG-")
    with Session(counter.engine) as s:
        case = s.exec(select(Case)).one()
        citizen = s.get(Citizen, case.citizen_id)
        assert citizen is not None and citizen.phone == "+6281234567890"
    page.goto(f"{counter.base}/staff/")
    expect(page.get_by_role("link", name="Perlu verifikasi")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("link", name=case.reference)).to_be_visible()
    page.goto(f"{counter.base}/staff/intake?recorded={case.reference}")
    page.get_by_role("link", name=f"Buka laporan {case.reference}").click()
    expect(page.get_by_role("heading", name=case.reference)).to_be_visible()
    expect(page.locator(".details")).to_contain_text("Telepon")
    expect(page.locator("main")).to_contain_text(LAPOR)
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()


def test_a_malformed_email_gets_a_clear_message_and_nothing_is_stored(
    page: Page, counter: Counter
) -> None:
    log_in(page, counter, "spv")
    page.goto(f"{counter.base}/staff/intake")
    fill_phone_complaint(page, email="warga@contoh")
    expect(page.get_by_role("alert")).to_have_text(
        "Alamat e-mail tidak valid. Tulis alamat seperti nama@contoh.go.id. "
        "Belum ada yang disimpan."
    )
    expect(page.get_by_label("Alamat e-mail")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Uraian pengaduan")).to_have_value(DESCRIPTION)  # nothing lost
    assert cases_stored(counter) == 0


def test_a_viewer_cannot_record_a_complaint(page: Page, counter: Counter) -> None:
    log_in(page, counter, "tamu")
    expect(page.get_by_role("link", name="Catat pengaduan")).to_have_count(0)
    response = page.goto(f"{counter.base}/staff/intake")
    assert response is not None and response.status == 403
    page.goto(f"{counter.base}/staff/")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    forged = page.request.post(
        f"{counter.base}/staff/intake",
        form={
            "csrf": token or "",
            "channel": "phone",
            "unit": "1",
            "category": "lainnya",
            "description": DESCRIPTION,
            "privacy": "biasa",
        },
    )
    assert forged.status == 403
    assert cases_stored(counter) == 0


def test_the_intake_form_passes_axe(browser: Browser, counter: Counter) -> None:
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    log_in(page, counter, "spv")
    page.goto(f"{counter.base}/staff/intake")
    assert serious_violations(page) == []
    page.get_by_label("Uraian pengaduan").fill("pendek")
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.get_by_role("alert")).to_contain_text("Uraian terlalu pendek")
    assert serious_violations(page) == []
    for width, height in ((1366, 768), (375, 740)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()
