"""The case page in Chromium: a supervisor handles a report filed through the bot from
arrival to the citizen's rating, previewing each notice and following its delivery; who sees
the reporter and the photos; read-only users; canned responses; accessibility."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.site import create_site
from bot import build_application
from bot.dispatcher import telegram_dispatcher
from conversations.notices import render as render_notice
from core.access import Actor
from core.cases import service as svc
from core.cases.canned import create_canned
from core.cases.models import (
    Attachment,
    AttachmentStatus,
    CannedResponse,
    Case,
    CaseEvent,
    Privacy,
)
from core.outbox.models import OutboundMessage
from core.people.models import AppUser, Role
from core.policies import Policies, build
from core.shared.config import Settings, load_settings
from tests.botkit import STORY, FakeTelegram, ScriptedCitizen, deliver_all, jpeg_with_gps, onboard
from tests.console_kit import live_server
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, make_officer, make_unit, make_user, record_running_bot
from tests.test_console_browser import serious_violations

pytestmark = pytest.mark.browser
T = TypeVar("T")


class BotThread:
    """The real bot on an event loop of its own thread: Playwright's sync API holds the
    test's thread, and the bot shares the live server's database."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.tg = FakeTelegram()
        self.engine = engine

        async def start() -> Any:
            app = build_application(settings, engine, request=self.tg)
            await app.initialize()
            return app

        self.app = self.run(start())
        self.dispatcher = telegram_dispatcher(engine, self.app.bot)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def citizen(self, user_id: int) -> ScriptedCitizen:
        return ScriptedCitizen(self.app, self.tg, user_id)

    def deliver(self) -> int:
        return self.run(deliver_all(self.dispatcher))

    def close(self) -> None:
        self.run(self.app.shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@dataclass
class Office:
    base: str
    policies: Policies
    engine: Engine
    root: Path  # the attachments directory
    ids: dict[str, int]

    def case(self, reference: str) -> Case:
        with Session(self.engine) as s:
            return s.exec(select(Case).where(Case.reference == reference)).one()

    def notices(self, reference: str) -> list[tuple[str, OutboundMessage]]:
        """The case's outbox rows with the kind of the event that queued each."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(CaseEvent.kind, OutboundMessage)
                .join(OutboundMessage, col(OutboundMessage.case_event_id) == CaseEvent.id)
                .join(Case, col(Case.id) == CaseEvent.case_id)
                .where(Case.reference == reference)
                .order_by(col(OutboundMessage.id))
            ).all()
            return [(kind, row) for kind, row in rows]

    def actor(self, name: str, role: Role) -> Actor:
        units = frozenset() if role is Role.admin else frozenset({self.ids["dukcapil"]})
        return Actor(self.ids[name], name, role, units)

    def file(self, user_id: int, text: str, privacy: Privacy = Privacy.biasa) -> str:
        with Session(self.engine, expire_on_commit=False) as s:
            case = svc.file_complaint(
                s,
                telegram_citizen(s, user_id),
                svc.ComplaintDraft(
                    unit_id=self.ids["dukcapil"], category="lainnya", description=text,
                    privacy=privacy,
                ),
                self.policies.cases,
            )  # fmt: skip
            s.commit()
            return case.reference


@pytest.fixture
def office(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[Office]:
    cfg = load_settings(
        database_url=settings.database_url,
        environment="test",
        telegram_bot_token="123456:TEST-TOKEN",
        timezone="Asia/Makassar",
        attachments_dir=str(tmp_path / "att"),
        _env_file=None,
    )
    policies = build(cfg, engine)
    ids: dict[str, int] = {}
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        make_officer(s, unit, "Yohanes Ndun")
        for name, role in (
            ("spv", Role.supervisor),
            ("kadis", Role.unit_head),
            ("baca", Role.viewer),
            ("admin", Role.admin),
        ):
            user = make_user(s, name, role, [] if role is Role.admin else [unit])
            ids[name] = user.id or 0
        spv = s.get_one(AppUser, ids["spv"])
        spv.display_name = "Maria Pengawas"
        s.add(spv)
        ids["dukcapil"] = unit.id or 0
        record_running_bot(s)  # QR cards are printed for the bot that runs
        s.commit()
    with live_server(create_site(policies)) as base:
        yield Office(base, policies, engine, Path(cfg.attachments_dir), ids)


def log_in(page: Page, office: Office, username: str) -> None:
    page.goto(f"{office.base}/staff/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()


def preview_of(page: Page, step: str) -> str:
    return page.locator(f"#preview-{step} .preview-text").inner_text()


def test_a_supervisor_handles_a_report_from_the_bot_to_the_citizens_rating(
    page: Page, office: Office
) -> None:
    bot = BotThread(office.policies.settings, office.engine)
    try:
        _the_whole_story(page, office, bot)
    finally:
        bot.close()


def _the_whole_story(page: Page, office: Office, bot: BotThread) -> None:
    bot.tg.files["AgACphoto1"] = jpeg_with_gps()
    ani = bot.citizen(7001)

    async def report() -> str:
        await onboard(ani)
        await ani.press("Laporkan masalah")
        await ani.press("Kependudukan")
        await ani.press("Yohanes")
        await ani.press("pungli")
        await ani.say(STORY)
        await ani.send_photo("AgACphoto1")
        await ani.press("Lanjut (1 foto)")
        await ani.send_location(-10.1772, 123.6070)
        await ani.press("Biasa")
        await ani.press("Kirim laporan")
        sent = [m.text for m in ani.messages() if "Nomor laporan" in m.text][-1]
        return sent.split("Nomor laporan: ")[1].split()[0]

    ref = bot.run(report())
    log_in(page, office, "spv")
    page.get_by_role("link", name=ref).click()
    expect(page.get_by_role("heading", name=ref)).to_be_visible()
    details = page.locator(".details")
    expect(details).to_contain_text(STORY)
    expect(details).to_contain_text("Telegram: 7001")  # a biasa report: its reporter
    expect(details).to_contain_text("Yohanes Ndun")
    expect(page.get_by_role("link", name="lihat di OpenStreetMap")).to_have_attribute(
        "href",
        "https://www.openstreetmap.org/?mlat=-10.17720&mlon=123.60700#map=17/-10.17720/123.60700",
    )
    photo = page.get_by_role("img", name=f"Foto 1 laporan {ref}")
    expect(photo).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", photo.element_handle()) > 0

    # Verify: the preview is what the citizen is then sent, and the timeline follows it.
    verify = page.locator("#act-verify")
    told = preview_of(page, "verify")
    assert ref in told and "diverifikasi" in told
    verify.get_by_role("button", name="Verifikasi laporan").click()
    expect(page.get_by_role("status")).to_have_text("Tindakan Anda sudah disimpan.")
    expect(page.locator("h1 .status")).to_have_text("Terverifikasi")
    [(kind, row)] = office.notices(ref)
    assert kind == "verified" and render_notice(row).text == told
    verified = page.locator(".event", has_text="Diverifikasi")
    expect(verified).to_contain_text("Maria Pengawas")
    expect(verified.locator(".delivery")).to_contain_text("Menunggu dikirim")
    assert bot.deliver() == 1
    page.reload()
    expect(page.locator(".event", has_text="Diverifikasi").locator(".delivery")).to_contain_text(
        "Terkirim"
    )

    # Assign to herself: the first assignment tells the citizen.
    assign = page.locator("#act-assign")
    told = preview_of(page, "assign")
    assign.get_by_label("Tugaskan kepada").select_option(label="Maria Pengawas")
    assign.get_by_role("button", name="Simpan penugasan").click()
    expect(page.locator("h1 .status")).to_have_text("Sedang ditangani")
    assert office.notices(ref)[-1][0] == "assigned"
    assert render_notice(office.notices(ref)[-1][1]).text == told

    # Ask the citizen: the preview follows the typing (HTMX), and equals the notice.
    ask = page.locator("#act-request_info")
    question = "Di loket nomor berapa petugas itu bertugas?"
    ask.get_by_label("Pertanyaan untuk warga").fill(question)
    expect(ask.locator(".preview-text")).to_contain_text(question)
    told = preview_of(page, "request_info")
    ask.get_by_role("button", name="Kirim pertanyaan").click()
    expect(page.locator("h1 .status")).to_have_text("Menunggu warga")
    kind, row = office.notices(ref)[-1]
    assert kind == "info_requested" and render_notice(row).text == told
    assert bot.deliver() == 2

    # The citizen answers in Telegram; the supervisor sees it arrive.
    async def reply() -> None:
        await ani.press_data(f"case:reply:{ref}")
        await ani.say("Loket nomor 3, sekitar jam sepuluh pagi.")

    bot.run(reply())
    page.reload()
    answer = page.locator(".event", has_text="Warga menjawab")
    expect(answer).to_contain_text("Loket nomor 3, sekitar jam sepuluh pagi.")
    expect(answer.locator(".who")).to_have_text("Warga")
    expect(page.locator(".event", has_text="Meminta keterangan warga")).to_contain_text("Terkirim")

    # Resolve, with an outcome: preview, notice, and the citizen's rating.
    resolve = page.locator("#act-resolve")
    resolve.get_by_label("Hasil pemeriksaan").select_option(label="Terbukti")
    resolve.get_by_label("Penyelesaian").fill("Petugas sudah ditegur dan uang dikembalikan.")
    expect(resolve.locator(".preview-text")).to_contain_text("uang dikembalikan")
    told = preview_of(page, "resolve")
    assert "Hasil pemeriksaan: Terbukti" in told
    resolve.get_by_role("button", name="Selesaikan laporan").click()
    expect(page.locator("h1 .status")).to_have_text("Selesai")
    kind, row = office.notices(ref)[-1]
    assert kind == "resolved" and render_notice(row).text == told
    assert [k for k, _ in office.notices(ref)] == [
        "verified",
        "assigned",
        "info_requested",
        "resolved",
    ]
    assert bot.deliver() == 1
    bot.run(ani.press("Puas"))
    page.reload()
    expect(page.locator("h1 .status")).to_have_text("Ditutup")
    expect(page.locator(".event", has_text="Warga puas")).to_be_visible()
    expect(page.locator(".event", has_text="Diselesaikan").locator(".delivery")).to_contain_text(
        "Terkirim"
    )


def test_a_viewer_reads_without_buttons_and_a_forged_step_is_refused(
    page: Page, office: Office
) -> None:
    ref = office.file(7101, "Petugas parkir di kantor meminta uang tanpa karcis resmi.")
    log_in(page, office, "baca")
    page.goto(f"{office.base}/staff/cases/{ref}")
    expect(page.get_by_role("heading", name=ref)).to_be_visible()
    expect(page.get_by_role("heading", name="Tindakan")).to_have_count(0)
    assert page.locator("main button").count() == 0
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    forged = page.request.post(
        f"{office.base}/staff/cases/{ref}/verify", form={"csrf": csrf}, max_redirects=0
    )
    assert forged.status == 403
    assert office.case(ref).status == "received"
    assert office.notices(ref) == []


def test_the_reporter_and_the_photos_show_only_where_the_rules_allow(
    page: Page, browser: Browser, office: Office
) -> None:
    anonim = office.file(7201, "Petugas membentak warga di loket KTP.", Privacy.anonim)
    secret = office.file(7202, "Ada pungutan liar di loket akta kelahiran.", Privacy.rahasia)
    photo = jpeg_with_gps()
    with Session(office.engine) as s:
        case = s.exec(select(Case).where(Case.reference == secret)).one()
        assert case.id is not None
        (office.root / str(case.id)).mkdir(parents=True)
        (office.root / str(case.id) / "p.jpg").write_bytes(photo)
        att = Attachment(case_id=case.id, source="telegram", reference="x", path=f"{case.id}/p.jpg")
        att.status = AttachmentStatus.stored.value
        s.add(att)
        # A second photo is still on Telegram's side; a third could not be fetched.
        s.add(Attachment(case_id=case.id, source="telegram", reference="y"))
        lost = Attachment(case_id=case.id, source="telegram", reference="z")
        lost.status = AttachmentStatus.failed.value
        s.add(lost)
        s.commit()
        photo_url = f"{office.base}/staff/cases/{secret}/photos/{att.id}"

    log_in(page, office, "spv")  # a supervisor: the rahasia case, but no hidden reporter
    for ref in (anonim, secret):
        page.goto(f"{office.base}/staff/cases/{ref}")
        expect(page.locator(".reporter")).to_have_text(
            "Disembunyikan sesuai tingkat kerahasiaan laporan"
        )
    expect(page.get_by_role("img", name=f"Foto 1 laporan {secret}")).to_be_visible()
    assert page.request.get(photo_url).body() == photo
    expect(page.get_by_text("1 foto dari warga belum selesai diunduh")).to_be_visible()
    expect(page.get_by_text("1 foto dari warga tidak dapat diunduh")).to_be_visible()

    admin = browser.new_context()
    admin_page = admin.new_page()
    log_in(admin_page, office, "admin")
    admin_page.goto(f"{office.base}/staff/cases/{anonim}")
    expect(admin_page.locator(".reporter")).to_have_text("Telegram: 7201")
    admin.close()

    head = browser.new_context()
    head_page = head.new_page()
    log_in(head_page, office, "kadis")  # a unit head never opens a rahasia case, nor its photo
    assert head_page.request.get(photo_url).status == 404
    head_page.goto(f"{office.base}/staff/cases/{anonim}")
    expect(head_page.locator(".reporter")).to_have_text(
        "Disembunyikan sesuai tingkat kerahasiaan laporan"
    )
    head.close()


def test_an_admins_canned_response_fills_a_form_and_a_stale_step_says_why(
    page: Page, browser: Browser, office: Office
) -> None:
    ref = office.file(7301, "Antrean pengambilan KTP tidak tertib dan tidak ada nomor.")
    with Session(office.engine) as s:
        case = s.exec(select(Case).where(Case.reference == ref)).one()
        spv = office.actor("spv", Role.supervisor)
        svc.verify(s, case, office.policies.cases, actor=spv)
        svc.assign(s, case, actor=spv, assignee_id=spv.user_id)
        s.commit()

    log_in(page, office, "admin")
    page.get_by_role("link", name="Teks siap pakai").click()
    expect(page.get_by_role("heading", name="Teks siap pakai", level=1)).to_be_visible()
    new = page.locator("section", has=page.get_by_role("heading", name="Teks baru"))
    new.get_by_label("Tindakan").select_option(label="Minta keterangan warga")
    new.get_by_label("Judul").fill("Minta lokasi")
    new.get_by_label("Teks Bahasa Indonesia").fill(
        "Mohon kirim lokasi kejadian laporan {ref} kepada {unit}."
    )
    new.get_by_role("button", name="Simpan teks baru").click()
    expect(page.get_by_role("status")).to_have_text("Teks sudah disimpan.")
    page.get_by_role("link", name="Ubah Minta lokasi").click()
    edit = page.locator("section", has=page.get_by_role("heading", name="Ubah teks"))
    edit.get_by_label("Judul").fill("Minta lokasi kejadian")
    edit.get_by_role("button", name="Simpan perubahan").click()
    expect(page.locator(".canned-list td", has_text="Mohon kirim lokasi")).to_contain_text(
        "Minta lokasi kejadian"
    )
    with Session(office.engine) as s:
        [canned_id] = [c.id for c in s.exec(select(CannedResponse)).all()]
    unit = "Dinas Kependudukan dan Pencatatan Sipil"
    filled = f"Mohon kirim lokasi kejadian laporan {ref} kepada {unit}."

    spv_context = browser.new_context()
    spv_page = spv_context.new_page()
    log_in(spv_page, office, "spv")
    # Without JavaScript the text comes with a plain GET (?canned=); this tab then waits.
    stale = spv_context.new_page()
    stale.goto(f"{office.base}/staff/cases/{ref}?canned={canned_id}")
    stale_box = stale.locator("#act-request_info").get_by_label("Pertanyaan untuk warga")
    expect(stale_box).to_have_value(filled)

    spv_page.goto(f"{office.base}/staff/cases/{ref}")
    ask = spv_page.locator("#act-request_info")
    ask.get_by_label("Teks siap pakai").select_option(label="Minta lokasi kejadian")
    box = ask.get_by_label("Pertanyaan untuk warga")
    expect(box).to_have_value(filled)  # HTMX swapped the form in, filled
    # htmx wires the new form up when it settles (the class goes): only then type.
    expect(spv_page.locator("#act-request_info.htmx-added")).to_have_count(0)
    box.fill(filled + " Terima kasih.")
    expect(ask.locator(".preview-text")).to_contain_text("Terima kasih.")
    ask.get_by_role("button", name="Kirim pertanyaan").click()
    expect(spv_page.locator("h1 .status")).to_have_text("Menunggu warga")
    [row] = [r for k, r in office.notices(ref) if k == "info_requested"]
    assert json.loads(row.params)["body"] == filled + " Terima kasih."

    # The waiting tab still offers the question: core refuses it, and the page says why.
    stale.locator("#act-request_info").get_by_role("button", name="Kirim pertanyaan").click()
    expect(stale.get_by_role("alert")).to_contain_text("Tindakan ini tidak dapat dilakukan:")
    expect(stale.get_by_role("alert")).to_contain_text("status pengaduan sekarang «Menunggu warga»")
    assert len([k for k, _ in office.notices(ref) if k == "info_requested"]) == 1
    spv_context.close()

    # The admin deactivates it: no form offers it any more.
    page.get_by_role("button", name="Nonaktifkan Minta lokasi kejadian").click()
    expect(page.get_by_role("cell", name="Nonaktif", exact=True)).to_be_visible()


def test_the_case_page_with_its_forms_and_the_canned_page_pass_axe(
    browser: Browser, office: Office
) -> None:
    ref = office.file(7401, "Petugas tidak memakai tanda pengenal saat melayani warga.")
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    log_in(page, office, "admin")
    page.goto(f"{office.base}/staff/canned")
    assert serious_violations(page) == []
    page.goto(f"{office.base}/staff/cases/{ref}")
    expect(page.locator("#act-verify")).to_be_visible()
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    with Session(office.engine) as s:  # in progress: assign, ask, resolve, notes
        case = s.exec(select(Case).where(Case.reference == ref)).one()
        admin = office.actor("admin", Role.admin)
        svc.verify(s, case, office.policies.cases, actor=admin)
        svc.assign(s, case, actor=admin, assignee_id=office.ids["spv"])
        s.commit()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.reload()
    expect(page.locator("#act-resolve")).to_be_visible()
    assert serious_violations(page) == []
    context.close()


def test_without_javascript_the_preview_and_the_canned_texts_still_work(
    browser: Browser, office: Office
) -> None:
    ref = office.file(7501, "Loket tutup lebih awal dari jam layanan yang diumumkan.")
    with Session(office.engine) as s:
        create_canned(
            s,
            action="reject",
            title="Bukan kewenangan",
            body_id="Laporan {ref} bukan kewenangan {unit}.",
            actor=office.actor("admin", Role.admin),
        )
        s.commit()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, office, "spv")
    page.goto(f"{office.base}/staff/cases/{ref}")
    # The SP4N-LAPOR! number: checked by core, shown on the page.
    lapor = page.get_by_label("Nomor SP4N-LAPOR!")
    lapor.fill("LAPOR 2611/42")
    page.get_by_role("button", name="Simpan nomor").click()
    expect(page.get_by_role("alert")).to_contain_text("hanya berisi huruf, angka dan tanda hubung")
    page.get_by_label("Nomor SP4N-LAPOR!").fill("lpr-2611-0042")
    page.get_by_role("button", name="Simpan nomor").click()
    expect(page.locator(".lapor-id")).to_have_text("LPR-2611-0042")
    assert office.case(ref).lapor_id == "LPR-2611-0042"
    reject = page.locator("#act-reject")
    reject.get_by_label("Teks siap pakai").select_option(label="Bukan kewenangan")
    reject.get_by_role("button", name="Pakai teks").click()
    reason = page.locator("#act-reject").get_by_label("Alasan penolakan")
    unit = "Dinas Kependudukan dan Pencatatan Sipil"
    expect(reason).to_have_value(f"Laporan {ref} bukan kewenangan {unit}.")
    reason.fill("Jam layanan memang berubah sejak bulan ini.")
    page.locator("#act-reject").get_by_role("button", name="Pratinjau").click()
    told = page.locator("#preview-reject .preview-text")
    expect(told).to_contain_text("Alasan: Jam layanan memang berubah sejak bulan ini.")
    assert office.case(ref).status == "received"  # a preview changes nothing
    preview = told.inner_text()
    page.locator("#act-reject").get_by_role("button", name="Tolak laporan").click()
    expect(page.locator("h1 .status")).to_have_text("Ditolak")
    [(kind, row)] = office.notices(ref)
    assert kind == "rejected" and render_notice(row).text == preview
    context.close()
