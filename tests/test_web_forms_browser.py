"""The citizens' forms in Chromium at phone size (360 x 740), without any script of ours: a
citizen rates a service from a unit's QR link, and files a complaint with a photo and reads
their reference and follow-up code. Every page is axe-clean, fits the screen and stays
under 50 KB compressed."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from conversations.i18n import t as bot_t
from core.cases.models import Attachment, Case
from core.cases.web_reports import parse_code
from core.policies import build
from core.shared.config import Settings
from core.surveys.models import SurveyResponse
from tests.botkit import jpeg_with_gps
from tests.console_kit import AXE, live_server
from tests.factories import make_officer, make_service, make_unit

pytestmark = pytest.mark.browser


@dataclass
class Site:
    base: str
    engine: Engine


@pytest.fixture
def site(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[Site]:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        make_unit(s, "dinkes", "Dinas Kesehatan")
        make_service(s, unit, "KTP-el")
        make_service(s, unit, "Akta Kelahiran")
        make_officer(s, unit, "Yohanes Ndun", public_code="yoh12345")
        s.commit()
    web = settings.model_copy(
        update={"web_min_fill_seconds": 0, "attachments_dir": str(tmp_path / "attachments")}
    )
    with live_server(create_site(build(web, engine))) as base:
        yield Site(base, engine)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page; CSP bypassed only so that axe can be injected."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    yield context.new_page()
    context.close()


def checked(page: Page) -> None:
    """The page as a citizen gets it: axe-clean, no sideways scrolling, under 50 KB gzip."""
    html = page.content()
    assert len(gzip.compress(html.encode())) < 50_000
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    violations = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert violations == [], page.url


@pytest.mark.pg_smoke
def test_a_citizen_rates_a_service_from_a_units_qr_link(phone: Page, site: Site) -> None:
    seen: list[str] = []
    phone.on("request", lambda request: seen.append(request.url))
    phone.goto(f"{site.base}/nilai/dukcapil")  # where the counter's card leads
    expect(phone.get_by_role("heading", name="Layanan yang Anda terima")).to_be_visible()
    checked(phone)
    phone.get_by_label("KTP-el").check()
    phone.get_by_label(bot_t("id", "svy.officer.prompt")).select_option(label="Yohanes Ndun")
    phone.get_by_role("button", name="Lanjut").click()
    expect(phone.get_by_role("heading", name="Sembilan pertanyaan")).to_be_visible()
    expect(phone.get_by_text("Petugas: Yohanes Ndun")).to_be_visible()
    checked(phone)
    for n in range(1, 10):
        group = phone.get_by_role("group", name=bot_t("id", f"svy.q{n}"))
        group.get_by_label(bot_t("id", f"svy.q{n}.a3"), exact=True).check()
    phone.get_by_role("button", name="Lanjut").click()
    expect(phone.get_by_role("heading", name="Komentar dan data responden")).to_be_visible()
    checked(phone)
    phone.get_by_label("Saran atau komentar").fill("Petugasnya ramah, antrean tertib.")
    phone.get_by_label(bot_t("id", "svy.profile.age_band")).select_option(value="30-39")
    phone.get_by_role("button", name="Kirim penilaian").click()
    expect(phone.get_by_role("heading", name="Terima kasih")).to_be_visible()
    expect(phone.get_by_role("status")).to_contain_text("Dinas Kependudukan")
    checked(phone)
    with Session(site.engine) as s:
        [stored] = s.exec(select(SurveyResponse)).all()
    assert stored.channel == "web" and stored.officer_id is not None
    assert [getattr(stored, f"q{n}") for n in range(1, 10)] == [3] * 9
    assert stored.age_band == "30-39" and stored.comment == "Petugasnya ramah, antrean tertib."
    assert seen and all(url.startswith(site.base) for url in seen)  # nothing from outside


def test_a_citizen_files_a_complaint_with_a_photo_and_sees_the_code(
    phone: Page, site: Site, tmp_path: Path
) -> None:
    picture = tmp_path / "bukti.jpg"
    picture.write_bytes(jpeg_with_gps())
    phone.goto(f"{site.base}/")
    phone.get_by_role("link", name="Laporkan masalah").click()
    checked(phone)
    phone.get_by_label("Cari unit layanan menurut nama").fill("kependudukan")
    phone.get_by_role("button", name="Cari").click()
    expect(phone.get_by_role("link", name="Dinas Kesehatan")).to_have_count(0)
    phone.get_by_role("link", name="Dinas Kependudukan dan Pencatatan Sipil").click()
    expect(phone.get_by_role("heading", name="Laporan pengaduan")).to_be_visible()
    checked(phone)
    phone.get_by_label("Permintaan imbalan / pungli").check()
    phone.get_by_label("Uraian kejadian").fill("Diminta uang Rp50.000 di loket KTP agar cepat.")
    phone.get_by_label("Foto bukti").set_input_files(str(picture))
    phone.get_by_label("Anonim").check()
    phone.get_by_label("Nomor HP", exact=True).fill("0812 3456 7890")
    phone.get_by_label("Saya setuju").check()
    phone.get_by_label("Saya sudah memeriksa").check()
    phone.get_by_role("button", name="Kirim laporan").click()
    expect(phone.get_by_role("heading", name="Laporan terkirim")).to_be_visible()
    checked(phone)
    with Session(site.engine) as s:
        [case] = s.exec(select(Case)).all()
        [photo] = s.exec(select(Attachment)).all()
    expect(phone.locator("#reference")).to_have_text(case.reference)
    code = phone.locator("#follow-code").inner_text()
    assert parse_code(code) is not None
    expect(phone.get_by_role("link", name=f"/lacak/{case.reference}/")).to_be_visible()
    assert case.channel == "web" and case.privacy == "anonim" and photo.status == "stored"
    assert code.replace("-", "") not in phone.url  # no address keeps the code (history)
    phone.reload()  # a reload re-posts: nothing filed twice, the reference said, not the code
    expect(phone.get_by_role("heading", name="Laporan ini sudah terkirim")).to_be_visible()
    expect(phone.get_by_role("status")).to_contain_text(case.reference)
    expect(phone.locator("#follow-code")).to_have_count(0)
    assert code not in phone.content()
    with Session(site.engine) as s:
        assert len(s.exec(select(Case)).all()) == 1


def test_a_mistake_keeps_what_was_typed_and_says_where(phone: Page, site: Site) -> None:
    phone.goto(f"{site.base}/lapor/dukcapil?lang=en")
    phone.get_by_label("Undue delay").check()
    phone.get_by_label("What happened").fill("Too short")  # the form's own checks pass
    phone.get_by_label("Ordinary").check()
    phone.get_by_label("I agree", exact=True).check()
    phone.get_by_label("I have checked").check()
    phone.get_by_role("button", name="Send report").click()
    expect(phone.get_by_role("alert")).to_contain_text("at least 20 characters")
    expect(phone.get_by_label("What happened")).to_have_value("Too short")
    expect(phone.get_by_label("Undue delay")).to_be_checked()
    checked(phone)
