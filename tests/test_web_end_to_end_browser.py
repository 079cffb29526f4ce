"""The whole web path in Chromium, as the issue tells it: on a phone (360 x 740) a citizen
rates a service and files a complaint with a photo; a supervisor handles it in the console;
the citizen follows it through the private link, answers the question and rates the
outcome; the public page shows the new figures after the next refresh; and a `rahasia` case
changes the counts and nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from conversations.i18n import t as bot_t
from core.cases import service as svc
from core.cases.models import Privacy
from core.masterdata.models import Unit
from core.people.models import Role
from core.policies import Policies, build
from core.shared.clock import utcnow
from core.shared.config import Settings
from core.transparency.snapshot import refresh_public_figures
from tests.botkit import jpeg_with_gps
from tests.console_kit import live_server
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, add_response, make_officer, make_service, make_unit, make_user

pytestmark = pytest.mark.browser

UNIT = "Dinas Kependudukan dan Pencatatan Sipil"
STORY = "Petugas loket KTP meminta uang Rp50.000 agar berkas saya cepat selesai."
SECRET = "Rahasia: kepala seksi menerima amplop di ruang arsip setiap Jumat."


@dataclass
class Site:
    base: str
    engine: Engine
    settings: Settings
    policies: Policies


@pytest.fixture
def site(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[Site]:
    web = settings.model_copy(
        update={
            "web_min_fill_seconds": 0,
            "attachments_dir": str(tmp_path / "attachments"),
            "public_cache_seconds": 600,  # pages read the snapshot until the next refresh
        }
    )
    policies = build(web, engine)
    earlier = utcnow() - timedelta(hours=1)
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", UNIT)
        make_service(s, unit, "KTP-el")
        make_officer(s, unit, "Yohanes Ndun", public_code="yoh12345")
        spv = make_user(s, "spv", Role.supervisor, [unit])
        spv.display_name = "Maria Pengawas"
        assert unit.id is not None
        for i in range(12):  # enough for an IKM, and five complaints: published counts
            add_response(s, unit, [4] * 9, at=earlier - timedelta(minutes=i))
        for n in range(5):
            svc.file_complaint(
                s,
                telegram_citizen(s, 7100 + n),
                svc.ComplaintDraft(
                    unit_id=unit.id,
                    category="lainnya",
                    description=f"Antrean panjang sekali di loket nomor {n + 1} pagi ini.",
                ),
                policies.cases,
                now=earlier,
            )
        s.commit()
    refresh_public_figures(engine, web)
    with live_server(create_site(policies)) as base:
        yield Site(base, engine, web, policies)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    yield context.new_page()
    context.close()


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def this_year(settings: Settings) -> str:
    return str(utcnow().astimezone(ZoneInfo(settings.timezone)).year)


def public_row(page: Page, site: Site) -> None:
    page.goto(f"{site.base}/transparansi?periode={this_year(site.settings)}")
    expect(page.get_by_role("row", name=UNIT)).to_be_visible()


def test_a_citizen_with_only_a_browser_does_what_a_telegram_user_does(
    phone: Page, desk: Page, site: Site, tmp_path: Path
) -> None:
    # The public page before: 12 respondents, 5 complaints received.
    public_row(phone, site)
    row = phone.get_by_role("row", name=UNIT)
    expect(row.get_by_role("cell").nth(1)).to_have_text("5 / 0")

    # 1. Rate a service from the counter's QR link.
    phone.goto(f"{site.base}/nilai/dukcapil")
    phone.get_by_label("KTP-el").check()
    phone.get_by_role("button", name="Lanjut").click()
    for n in range(1, 10):
        group = phone.get_by_role("group", name=bot_t("id", f"svy.q{n}"))
        group.get_by_label(bot_t("id", f"svy.q{n}.a4"), exact=True).check()
    phone.get_by_role("button", name="Lanjut").click()
    phone.get_by_role("button", name="Kirim penilaian").click()
    expect(phone.get_by_role("heading", name="Terima kasih")).to_be_visible()

    # 2. Report a problem with a photo; keep the reference and the code.
    picture = tmp_path / "bukti.jpg"
    picture.write_bytes(jpeg_with_gps())
    phone.goto(f"{site.base}/lapor/dukcapil")
    phone.get_by_label("Permintaan imbalan / pungli").check()
    phone.get_by_label("Uraian kejadian").fill(STORY)
    phone.get_by_label("Foto bukti").set_input_files(str(picture))
    phone.get_by_label("Biasa").check()
    phone.get_by_label("Nomor HP", exact=True).fill("0812 3456 7890")
    phone.get_by_label("Saya setuju").check()
    phone.get_by_label("Saya sudah memeriksa").check()
    phone.get_by_role("button", name="Kirim laporan").click()
    expect(phone.get_by_role("heading", name="Laporan terkirim")).to_be_visible()
    reference = phone.locator("#reference").inner_text().strip()
    code = phone.locator("#follow-code").inner_text().strip()
    link = f"{site.base}/lacak/{reference}/{code}"

    # 3. The supervisor verifies it, takes it and asks the citizen something.
    desk.goto(f"{site.base}/staff/login")
    desk.get_by_label("Nama pengguna").fill("spv")
    desk.get_by_label("Kata sandi").fill(PASSWORD)
    desk.get_by_role("button", name="Masuk").click()
    desk.get_by_role("link", name=reference).click()
    expect(desk.get_by_role("heading", name=reference)).to_be_visible()
    expect(desk.locator(".details")).to_contain_text(STORY)
    expect(desk.get_by_role("img", name=f"Foto 1 laporan {reference}")).to_be_visible()
    reporter = desk.locator("dd.reporter")  # a biasa report: its handlers see the call-back
    expect(reporter).to_have_text("Nomor HP untuk dihubungi kembali: +6281234567890")
    # No e-mail: nothing is sent, and the preview says where the citizen reads each step.
    expect(desk.locator("#preview-verify")).to_contain_text("halaman lacak laporannya")
    desk.locator("#act-verify").get_by_role("button", name="Verifikasi laporan").click()
    expect(desk.locator("h1 .status")).to_have_text("Terverifikasi")
    assign = desk.locator("#act-assign")
    assign.get_by_label("Tugaskan kepada").select_option(label="Maria Pengawas")
    assign.get_by_role("button", name="Simpan penugasan").click()
    expect(desk.locator("h1 .status")).to_have_text("Sedang ditangani")
    ask = desk.locator("#act-request_info")
    ask.get_by_label("Pertanyaan untuk warga").fill("Pukul berapa kejadian itu?")
    ask.get_by_role("button", name="Kirim pertanyaan").click()
    expect(desk.locator("h1 .status")).to_have_text("Menunggu warga")

    # 4. The citizen, with no e-mail, sees the question when they next look, and answers.
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Petugas bertanya:")).to_be_visible()
    expect(phone.get_by_role("paragraph").filter(has_text="Pukul berapa kejadian")).to_be_visible()
    phone.get_by_label("Jawaban Anda").fill("Sekitar pukul sepuluh pagi, di loket dua.")
    phone.get_by_role("button", name="Kirim jawaban").click()
    expect(phone.get_by_role("status")).to_contain_text("jawaban Anda untuk laporan")

    # 5. The supervisor reads the answer and resolves the report.
    desk.reload()
    expect(desk.locator(".event", has_text="Warga menjawab")).to_contain_text(
        "Sekitar pukul sepuluh pagi"
    )
    resolve = desk.locator("#act-resolve")
    resolve.get_by_label("Hasil pemeriksaan").select_option(label="Terbukti")
    resolve.get_by_label("Penyelesaian").fill("Petugas sudah ditegur dan uang dikembalikan.")
    resolve.get_by_role("button", name="Selesaikan laporan").click()
    expect(desk.locator("h1 .status")).to_have_text("Selesai")

    # 6. The citizen reads the outcome through the private link and is satisfied.
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Apakah Anda puas")).to_be_visible()
    expect(phone.get_by_text("uang dikembalikan").first).to_be_visible()
    phone.get_by_role("button", name="Puas", exact=False).first.click()
    expect(phone.get_by_role("status")).to_contain_text("penilaian puas")
    desk.reload()
    expect(desk.locator("h1 .status")).to_have_text("Ditutup")

    # 7. A rahasia report by Telegram; the public page is unchanged until the next refresh.
    with Session(site.engine, expire_on_commit=False) as s:
        unit = s.exec(select(Unit).where(Unit.code == "dukcapil")).one()
        assert unit.id is not None
        secret = svc.file_complaint(
            s,
            telegram_citizen(s, 7200),
            svc.ComplaintDraft(
                unit_id=unit.id, category="pungli", description=SECRET, privacy=Privacy.rahasia
            ),
            site.policies.cases,
        )
        s.commit()
    public_row(phone, site)
    expect(phone.get_by_role("row", name=UNIT).get_by_role("cell").nth(1)).to_have_text("5 / 0")
    refresh_public_figures(site.engine, site.settings)
    public_row(phone, site)
    counts = phone.get_by_role("row", name=UNIT).get_by_role("cell").nth(1)
    expect(counts).to_contain_text("7 /")  # the web report and the rahasia one are counted
    phone.get_by_role("row", name=UNIT).get_by_role("link").click()
    expect(phone.get_by_text("13 responden", exact=False)).to_be_visible()

    # ... and nothing else of either report is public: no text, no reference, no officer.
    published = [phone.content()]
    for path in ("/data/pengaduan.json", "/data/pengaduan.csv", "/data/ikm.json"):
        published.append(phone.request.get(f"{site.base}{path}").text())
    published.append(json.dumps(phone.request.get(f"{site.base}/open311/v2/services.json").json()))
    for text in published:
        for private in (SECRET, STORY, secret.reference, reference, "Yohanes", "Maria"):
            assert private not in text
