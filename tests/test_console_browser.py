"""The staff console in Chromium, as a supervisor uses it: log in, find a report, open it;
sessions that end; text shown as text; nothing loaded from outside; accessible pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.site import create_site
from core.cases import service as svc
from core.cases.models import Privacy
from core.people.models import Role
from core.policies import build
from core.shared.config import Settings
from tests.console_kit import AXE, live_server
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, make_officer, make_unit, make_user

pytestmark = pytest.mark.browser

LONG_WORD = "Antrean" + "a" * 300
HOSTILE = f'<script>alert("x")</script><b>tebal</b> {LONG_WORD}'


@dataclass
class Office:
    base: str
    unit_code: str
    ordinary: str  # references
    hostile: str
    secret: str


@pytest.fixture
def office(settings: Settings, engine: Engine) -> Iterator[Office]:
    policies = build(settings, engine)
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        make_officer(s, unit, "Yohanes Ndun")
        make_user(s, "spv", Role.supervisor, [unit])
        make_user(s, "kadis", Role.unit_head, [unit])
        assert unit.id is not None
        ordinary = svc.file_complaint(
            s,
            telegram_citizen(s, 9001),
            svc.ComplaintDraft(
                unit_id=unit.id,
                category="lainnya",
                description="Antrean KTP sangat panjang dan petugas datang terlambat.",
            ),
            policies.cases,
        )
        hostile = svc.file_complaint(
            s,
            telegram_citizen(s, 9002),
            svc.ComplaintDraft(unit_id=unit.id, category="lainnya", description=HOSTILE),
            policies.cases,
        )
        secret = svc.file_complaint(
            s,
            telegram_citizen(s, 9003),
            svc.ComplaintDraft(
                unit_id=unit.id,
                category="lainnya",
                description="Laporan rahasia tentang pungutan liar di loket.",
                privacy=Privacy.rahasia,
            ),
            policies.cases,
        )
        s.commit()
        refs = (ordinary.reference, hostile.reference, secret.reference)
    with live_server(create_site(policies)) as base:
        yield Office(base, "dukcapil", *refs)


def log_in(page: Page, office: Office, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{office.base}/staff/")
    expect(page.get_by_role("heading", name="Masuk ke konsol")).to_be_visible()
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()


def outside_requests(page: Page, office: Office) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.pg_smoke
def test_a_supervisor_logs_in_finds_a_report_and_opens_it(page: Page, office: Office) -> None:
    requests = outside_requests(page, office)
    log_in(page, office, "spv")
    expect(page.get_by_role("link", name="Perlu verifikasi")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("link", name=office.ordinary)).to_be_visible()
    typed = office.ordinary.lower().replace("-", "")  # kpg26110001
    page.get_by_label("Cari nomor laporan atau kata").fill(typed)
    page.get_by_role("button", name="Cari").click()
    expect(page.get_by_role("heading", name=office.ordinary)).to_be_visible()
    expect(page.get_by_text("Antrean KTP sangat panjang")).to_be_visible()
    expect(page.locator(".details")).to_contain_text("WITA")
    expect(page.locator(".details")).to_contain_text("Dinas Kependudukan dan Pencatatan Sipil")
    expect(page.get_by_text("Laporan diterima")).to_be_visible()  # the timeline
    assert requests and all(url.startswith(office.base) for url in requests), requests


def test_the_console_speaks_english_when_asked(page: Page, office: Office) -> None:
    log_in(page, office, "spv")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    page.get_by_role("link", name=office.ordinary).click()
    expect(page.locator(".details")).to_contain_text("WITA")
    expect(page.get_by_text("Report received")).to_be_visible()
    page.get_by_role("button", name="Bahasa Indonesia").click()
    expect(page.get_by_text("Laporan diterima")).to_be_visible()


def test_complaint_text_is_shown_as_text_and_the_layout_holds(page: Page, office: Office) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, office, "spv")
    for width, height in ((1366, 768), (375, 740)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{office.base}/staff/?view=all")
        expect(page.get_by_role("link", name=office.hostile)).to_be_visible()
        assert no_horizontal_scroll(page), f"the inbox scrolls sideways at {width} px"
        page.goto(f"{office.base}/staff/cases/{office.hostile}")
        expect(page.locator(".details .text")).to_have_text(HOSTILE)
        assert page.locator(".details b").count() == 0  # the tag is text, not bold
        assert no_horizontal_scroll(page), f"the case page scrolls sideways at {width} px"
    assert dialogs == []


def test_a_unit_head_never_sees_a_confidential_report(page: Page, office: Office) -> None:
    log_in(page, office, "kadis")
    page.goto(f"{office.base}/staff/?view=all")
    expect(page.get_by_role("link", name=office.ordinary)).to_be_visible()
    expect(page.get_by_role("link", name=office.secret)).to_have_count(0)
    page.goto(f"{office.base}/staff/?view=all&q=pungutan")
    expect(page.get_by_text("Tidak ada laporan di sini.")).to_be_visible()
    response = page.goto(f"{office.base}/staff/cases/{office.secret}")
    assert response is not None and response.status == 404
    expect(page.get_by_text("pungutan liar")).to_have_count(0)


def test_logging_out_ends_the_session(
    browser: Browser, page: Page, office: Office, context: BrowserContext
) -> None:
    log_in(page, office, "spv")
    cookies = context.cookies()
    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("heading", name="Masuk ke konsol")).to_be_visible()
    thief = browser.new_context()
    thief.add_cookies(cookies)  # type: ignore[arg-type]
    stolen = thief.new_page()
    stolen.goto(f"{office.base}/staff/")
    expect(stolen.get_by_role("heading", name="Masuk ke konsol")).to_be_visible()
    thief.close()


def test_a_stolen_cookie_stops_working_after_a_password_change(
    browser: Browser, page: Page, office: Office, context: BrowserContext
) -> None:
    log_in(page, office, "spv")
    thief = browser.new_context()
    thief.add_cookies(context.cookies())  # type: ignore[arg-type]
    stolen = thief.new_page()
    stolen.goto(f"{office.base}/staff/")
    expect(stolen.get_by_role("heading", name="Kotak masuk")).to_be_visible()  # it works, yet
    page.get_by_role("link", name="Ganti kata sandi").click()
    page.get_by_label("Kata sandi saat ini").fill(PASSWORD)
    page.get_by_label("Kata sandi baru", exact=True).fill("kupang ombak senja 2026")
    page.get_by_label("Ulangi kata sandi baru").fill("kupang ombak senja 2026")
    page.get_by_role("button", name="Simpan kata sandi").click()
    expect(page.get_by_text("Kata sandi Anda sudah diganti.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()  # still in
    stolen.reload()
    expect(stolen.get_by_role("heading", name="Masuk ke konsol")).to_be_visible()
    thief.close()


def test_wrong_passwords_get_a_clear_answer_and_are_throttled(page: Page, office: Office) -> None:
    page.goto(f"{office.base}/staff/login")
    for _ in range(5):
        page.get_by_label("Nama pengguna").fill("spv")
        page.get_by_label("Kata sandi").fill("salah sekali")
        page.get_by_role("button", name="Masuk").click()
        expect(page.get_by_role("alert")).to_have_text("Nama pengguna atau kata sandi salah.")
    page.get_by_label("Nama pengguna").fill("spv")
    page.get_by_label("Kata sandi").fill(PASSWORD)  # right, but this address must wait
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("alert")).to_contain_text("Terlalu banyak percobaan")


def test_every_page_passes_axe(browser: Browser, office: Office) -> None:
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    page.goto(f"{office.base}/staff/login")
    assert serious_violations(page) == []
    log_in(page, office, "spv")
    assert serious_violations(page) == []
    page.goto(f"{office.base}/staff/cases/{office.ordinary}")
    assert serious_violations(page) == []
    page.goto(f"{office.base}/staff/password")
    assert serious_violations(page) == []
    page.goto(f"{office.base}/staff/cases/KPG-0000-0000")  # the not-found page
    assert serious_violations(page) == []
    context.close()


def test_the_keyboard_reaches_every_link_and_shows_where_it_is(page: Page, office: Office) -> None:
    log_in(page, office, "spv")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Langsung ke isi" in focused
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == office.ordinary:
            break
    else:
        raise AssertionError("Tab never reached the report's link")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=office.ordinary)).to_be_visible()
