"""The supervisor's inbox in Chromium: views with counts that refresh themselves, filters,
the reference box, pages, SLA badges, what is new, undelivered notices, bulk actions, and a
unit head who never learns of a rahasia report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.site import create_site
from core.access import actor_for
from core.cases import service as svc
from core.cases.models import Case, CaseEvent, Privacy
from core.cases.sla import add_working_days, end_of_local_day
from core.outbox.models import OutboundMessage, OutboxStatus
from core.people.models import Role
from core.policies import Clock, Policies, build
from core.shared.clock import utcnow
from core.shared.config import Settings, load_settings
from tests.console_kit import live_server
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, make_unit, make_user
from tests.test_console_browser import no_horizontal_scroll, serious_violations

pytestmark = pytest.mark.browser


@dataclass
class Inbox:
    base: str
    policies: Policies
    engine: Engine
    refs: dict[str, str]  # by role in the story: late, today, soon, fresh, ...
    unit_id: int

    def file(self, chat: int, text: str, **kw: object) -> str:
        """A complaint arriving now through the bot."""
        with Session(self.engine, expire_on_commit=False) as s:
            draft = svc.ComplaintDraft(
                unit_id=int(kw.pop("unit_id", self.unit_id)),  # type: ignore[call-overload]
                category=str(kw.pop("category", "lainnya")),
                description=text,
                **kw,  # type: ignore[arg-type]
            )
            case = svc.file_complaint(s, telegram_citizen(s, chat), draft, self.policies.cases)
            s.commit()
            return case.reference


def _build(
    settings: Settings, engine: Engine, clock: Clock = utcnow
) -> tuple[Policies, dict[str, str], int]:
    policies = build(settings, engine, clock=clock)
    tz = settings.tz
    now = utcnow()
    today = now.astimezone(tz).date()
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        other = make_unit(s, "dinkes", "Dinas Kesehatan")
        spv = make_user(s, "spv", Role.supervisor, [unit, other])
        make_user(s, "kadis", Role.unit_head, [unit])
        make_user(s, "petugas", Role.supervisor, [unit])
        make_user(s, "admin", Role.admin)
        assert unit.id is not None and other.id is not None and spv.id is not None
        chats = iter(range(9001, 9100))

        def file(text: str, *, at: timedelta = timedelta(0), **kw: object) -> Case:
            draft = svc.ComplaintDraft(
                unit_id=int(kw.pop("unit_id", unit.id)),  # type: ignore[call-overload]
                category=str(kw.pop("category", "lainnya")),
                description=text,
                **kw,  # type: ignore[arg-type]
            )
            citizen = telegram_citizen(s, next(chats))
            return svc.file_complaint(s, citizen, draft, policies.cases, now=now - at)

        def due(case: Case, day_end: object) -> None:
            case.due_at = case.verify_due_at = day_end  # type: ignore[assignment]
            s.add(case)

        late = file("Antrean KTP tidak bergerak.", at=timedelta(days=10), category="pungli")
        today_case = file("Berkas akta hilang di loket.")
        due(today_case, end_of_local_day(today, tz))
        soon = file("Petugas tidak ramah.")
        due(soon, end_of_local_day(add_working_days(today, 1), tz))
        fresh = file("Situs pendaftaran sering mati.", category="tidak_kompeten")
        fresh.lapor_id = "LAPOR-4471"
        s.add(fresh)
        verified = file("Surat pindah belum jadi.")
        actor = actor_for(s, spv.id)
        assert actor is not None
        svc.verify(s, verified, policies.cases, actor=actor, now=now)
        notice = s.exec(
            select(OutboundMessage)
            .join(CaseEvent, col(CaseEvent.id) == col(OutboundMessage.case_event_id))
            .where(CaseEvent.case_id == verified.id)
        ).one()
        notice.status = OutboxStatus.failed.value
        notice.last_error = "Forbidden: bot was blocked by the user"
        s.add(notice)
        secret = file("Pungutan liar rahasia di loket.", privacy=Privacy.rahasia)
        elsewhere = file("Obat puskesmas habis.", unit_id=other.id)
        elsewhere.misdirected_at = now  # "salah alamat": waits for an admin to forward it
        s.add(elsewhere)
        s.commit()
        refs = {
            "late": late.reference,
            "today": today_case.reference,
            "soon": soon.reference,
            "fresh": fresh.reference,
            "verified": verified.reference,
            "secret": secret.reference,
            "elsewhere": elsewhere.reference,
        }
        return policies, refs, unit.id


@contextmanager
def _serve(settings: Settings, engine: Engine, clock: Clock = utcnow) -> Iterator[Inbox]:
    policies, refs, unit_id = _build(settings, engine, clock)
    with live_server(create_site(policies)) as base:
        yield Inbox(base, policies, engine, refs, unit_id)


@pytest.fixture
def inbox(settings: Settings, engine: Engine) -> Iterator[Inbox]:
    with _serve(settings, engine) as served:
        yield served


def log_in(page: Page, inbox: Inbox, username: str = "spv") -> None:
    page.goto(f"{inbox.base}/staff/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()


def count(page: Page, view: str) -> Locator:
    return page.locator("#inbox-views a", has_text=view).locator(".count")


def row(page: Page, ref: str) -> Locator:
    return page.locator("table.cases tbody tr", has=page.get_by_role("link", name=ref))


def test_views_count_their_cases_and_list_the_most_urgent_first(page: Page, inbox: Inbox) -> None:
    log_in(page, inbox)
    expect(count(page, "Perlu verifikasi")).to_have_text("6")
    expect(count(page, "Lewat tenggat")).to_have_text("1")
    expect(count(page, "Sedang ditangani")).to_have_text("1")
    expect(count(page, "Menunggu warga")).to_have_text("0")
    expect(count(page, "Ditugaskan ke saya")).to_have_text("0")
    expect(count(page, "Semua")).to_have_text("7")
    expect(page.locator("#inbox-views a", has_text="Perlu dialihkan")).to_have_count(0)
    refs = inbox.refs
    first = page.locator("table.cases tbody tr td:nth-child(2) a")
    expect(first.nth(0)).to_have_text(refs["late"])
    expect(first.nth(1)).to_have_text(refs["today"])
    expect(first.nth(2)).to_have_text(refs["soon"])
    # SLA badges: overdue, due today, within a working day, and the working days left.
    expect(row(page, refs["late"]).locator(".badge")).to_have_text("Lewat tenggat")
    expect(row(page, refs["today"]).locator(".badge")).to_have_text("Hari ini")
    expect(row(page, refs["soon"]).locator(".badge")).to_have_text("≤ 1 hari kerja")
    expect(row(page, refs["fresh"])).to_contain_text("3 hari kerja lagi")
    expect(row(page, refs["fresh"])).to_contain_text("WITA")
    page.locator("#inbox-views a", has_text="Sedang ditangani").click()
    expect(page.locator("#inbox-views a[aria-current=page]")).to_contain_text("Sedang ditangani")
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    # The notice of its verification could not be delivered to the citizen.
    expect(row(page, refs["verified"])).to_contain_text("Pemberitahuan gagal terkirim")
    # Admins have one view more: the cases sent to the wrong unit.
    page.context.clear_cookies()
    log_in(page, inbox, "admin")
    expect(count(page, "Perlu dialihkan")).to_have_text("1")
    page.locator("#inbox-views a", has_text="Perlu dialihkan").click()
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    expect(row(page, refs["elsewhere"])).to_be_visible()


def test_filters_narrow_the_list_and_stay_in_the_url(page: Page, inbox: Inbox) -> None:
    refs = inbox.refs
    log_in(page, inbox)
    page.get_by_text("Saring daftar").click()
    page.get_by_label("Kategori").select_option(label="Permintaan imbalan / pungli")
    page.get_by_role("button", name="Terapkan saringan").click()
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    expect(row(page, refs["late"])).to_be_visible()
    assert "category=pungli" in page.url
    expect(count(page, "Perlu verifikasi")).to_have_text("1")  # counts follow the filters
    page.locator("#inbox-views a", has_text="Semua").click()  # the filter stays
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Hapus saringan").click()
    page.get_by_text("Saring daftar").click()
    page.get_by_label("Unit", exact=True).select_option(label="Dinas Kesehatan")
    page.get_by_role("button", name="Terapkan saringan").click()
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    expect(row(page, refs["elsewhere"])).to_be_visible()
    page.goto(f"{inbox.base}/staff/?view=all")
    # Free text also finds the SP4N-LAPOR! number.
    page.get_by_label("Cari nomor laporan atau kata").fill("lapor-4471")
    page.get_by_role("button", name="Cari", exact=True).click()
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    expect(row(page, refs["fresh"])).to_be_visible()
    # A reference, typed in lower case without dashes, opens the case page at once.
    page.get_by_label("Cari nomor laporan atau kata").fill(refs["soon"].lower().replace("-", ""))
    page.get_by_role("button", name="Cari", exact=True).click()
    expect(page.get_by_role("heading", name=refs["soon"])).to_be_visible()


def test_the_next_page_appends_in_place_and_works_without_javascript(
    browser: Browser, page: Page, inbox: Inbox
) -> None:
    for i in range(50):
        inbox.file(9500 + i, f"Keluhan antrean nomor {i}.")
    log_in(page, inbox)
    rows = page.locator("table.cases tbody tr:not(.more-row)")
    expect(rows).to_have_count(50)
    page.evaluate("window.stayed = true")
    more = page.get_by_role("link", name="Berikutnya")
    href = more.get_attribute("href")
    more.click()
    expect(rows).to_have_count(56)
    expect(page.get_by_role("link", name="Berikutnya")).to_have_count(0)
    assert page.evaluate("window.stayed === true")  # no reload: appended in place
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    log_in(plain, inbox)
    assert href is not None
    plain.goto(f"{inbox.base}{href}")
    expect(plain.locator("table.cases tbody tr")).to_have_count(6)
    context.close()


@pytest.fixture
def quick_settings(settings: Settings) -> Settings:
    return load_settings(
        database_url=settings.database_url,
        environment="test",
        telegram_bot_token="123456:TEST-TOKEN",
        timezone="Asia/Makassar",
        console_refresh_seconds=5,
        _env_file=None,
    )


def test_counts_refresh_without_a_reload_and_new_cases_are_marked(
    page: Page, quick_settings: Settings, engine: Engine
) -> None:
    with _serve(quick_settings, engine) as inbox:
        log_in(page, inbox)
        expect(count(page, "Perlu verifikasi")).to_have_text("6")
        expect(page.locator(".badge.new")).to_have_count(0)  # the first visit: nothing new
        page.evaluate("window.stayed = true")
        arrived = inbox.file(9400, "Laporan baru tentang antrean.")
        expect(count(page, "Perlu verifikasi")).to_have_text("7", timeout=12_000)
        assert page.evaluate("window.stayed === true")
        page.reload()
        expect(row(page, arrived).locator(".badge.new")).to_have_text("Baru")
        expect(page.locator(".badge.new")).to_have_count(1)
        page.reload()  # seen now: no longer new
        expect(row(page, arrived)).to_be_visible()
        expect(page.locator(".badge.new")).to_have_count(0)


def test_bulk_verify_then_assign_reports_each_case(page: Page, inbox: Inbox) -> None:
    refs = inbox.refs
    log_in(page, inbox)
    page.get_by_label(f"Pilih {refs['today']}").check()
    page.get_by_label(f"Pilih {refs['soon']}").check()
    page.get_by_role("button", name="Verifikasi", exact=True).click()
    results = page.locator(".results")
    expect(results.get_by_role("heading", name="Hasil verifikasi")).to_be_visible()
    expect(results.locator("li.done")).to_have_count(2)
    expect(results).to_contain_text(f"{refs['today']}: selesai")
    expect(count(page, "Perlu verifikasi")).to_have_text("4")
    expect(count(page, "Sedang ditangani")).to_have_text("3")
    page.locator("#inbox-views a", has_text="Semua").click()
    page.get_by_label(f"Pilih {refs['today']}").check()
    page.get_by_label(f"Pilih {refs['fresh']}").check()  # not verified yet: refused
    page.get_by_role("button", name="Tugaskan").click()  # nobody chosen yet
    expect(page.get_by_role("alert")).to_have_text("Pilih petugas yang akan ditugaskan.")
    page.get_by_label(f"Pilih {refs['today']}").check()
    page.get_by_label(f"Pilih {refs['fresh']}").check()
    page.get_by_label("Petugas", exact=True).select_option(label="petugas")
    page.get_by_role("button", name="Tugaskan").click()
    expect(results.locator("li.done")).to_have_text(f"{refs['today']}: selesai")
    refused = results.locator("li.refused")
    expect(refused).to_contain_text(f"{refs['fresh']}: ditolak")
    expect(refused).to_contain_text("status pengaduan sekarang «Diterima»")  # core's rule
    page.get_by_role("link", name=refs["today"]).click()
    expect(page.get_by_text("Ditugaskan kepada petugas.")).to_be_visible()


def test_a_unit_head_never_learns_of_a_confidential_report(page: Page, inbox: Inbox) -> None:
    secret = inbox.refs["secret"]
    log_in(page, inbox, "kadis")
    expected = {
        "Perlu verifikasi": "4",
        "Lewat tenggat": "1",
        "Sedang ditangani": "1",
        "Menunggu warga": "0",
        "Selesai, menunggu penilaian": "0",
        "Semua": "5",
    }
    for view, number in expected.items():
        expect(count(page, view)).to_have_text(number)
        page.locator("#inbox-views a", has_text=view).click()
        expect(page.locator("#inbox-views a[aria-current=page]")).to_contain_text(view)
        expect(page.get_by_role("link", name=secret)).to_have_count(0)
    page.goto(f"{inbox.base}/staff/?view=all&privacy=rahasia")
    expect(page.get_by_text("Tidak ada laporan di sini.")).to_be_visible()
    expect(count(page, "Semua")).to_have_text("0")
    page.goto(f"{inbox.base}/staff/inbox/views?view=all&privacy=rahasia")
    expect(page.locator(".count").first).to_have_text("0")
    # A unit head handles cases too: the bulk form is there, without the confidential case.
    page.goto(f"{inbox.base}/staff/?view=all")
    expect(page.get_by_label(f"Pilih {secret}")).to_have_count(0)


def test_the_inbox_is_accessible(browser: Browser, inbox: Inbox) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    log_in(page, inbox)
    page.goto(f"{inbox.base}/staff/?view=verify&category=lainnya")
    expect(page.locator("details.filter-box")).to_have_attribute("open", "")
    assert serious_violations(page) == []
    for width, height in ((375, 740), (1366, 768)):
        page.set_viewport_size({"width": width, "height": height})
        expect(page.get_by_label("Diterima sejak")).to_be_visible()
        assert no_horizontal_scroll(page), f"the inbox scrolls sideways at {width} px"
    page.get_by_label(f"Pilih {inbox.refs['today']}").check()
    page.get_by_role("button", name="Verifikasi", exact=True).click()
    expect(page.locator(".results li.done")).to_have_count(1)
    assert serious_violations(page) == []
    context.close()


def test_the_refresh_does_not_keep_an_idle_session_alive(
    page: Page, settings: Settings, engine: Engine
) -> None:
    moment = [utcnow()]
    with _serve(settings, engine, clock=lambda: moment[0]) as inbox:
        log_in(page, inbox)
        for _ in range(2):  # 24 minutes of nothing but the inbox refreshing its counts
            moment[0] += timedelta(minutes=12)
            polled = page.request.get(f"{inbox.base}/staff/inbox/views?view=verify")
            assert polled.ok and "Perlu verifikasi" in polled.text()
        moment[0] += timedelta(minutes=7)  # 31 minutes since the user last did anything
        page.goto(f"{inbox.base}/staff/")
        expect(page.get_by_role("heading", name="Masuk ke konsol")).to_be_visible()
