"""The console's deadline tools in Chromium: an admin keeps the office's closed days ("Hari
libur") and the running deadlines follow; a supervisor holds an incomplete report ("Tunda")
with a preview of what the citizen is asked, and the report comes back to verification when
the citizen answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from conversations.notices import render as render_notice
from core.cases import service as svc
from core.cases.models import CaseStatus
from tests.contacts import telegram_citizen
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office, preview_of

pytestmark = pytest.mark.browser
__all__ = ["office"]  # the fixture, shared with the case page's tests

STORY = "Berkas KTP-el saya hilang di loket, tetapi saya lupa tanggalnya."


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page whose context lets axe be injected as an inline script."""
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def _next_working_day(office: Office, after: date) -> date:
    calendar = office.policies.cases.sla.calendar()
    day = after + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def _next_saturday(after: date) -> date:
    return after + timedelta(days=(5 - after.weekday()) % 7 or 7)


def test_an_admin_closes_the_office_for_a_day_and_the_deadline_follows(
    page: Page, office: Office
) -> None:
    ref = office.file(7101, STORY)
    before = office.case(ref).verify_due_at
    today = office.policies.now().astimezone(office.policies.settings.tz).date()
    closed = _next_working_day(office, today)  # within the 3 working days of verification
    label = format_date(closed, "EEEE, d MMMM y", locale="id")

    log_in(page, office, "admin")
    page.get_by_role("link", name="Hari libur").click()
    expect(page.get_by_role("heading", name="Hari libur kantor", exact=True)).to_be_visible()
    assert serious_violations(page) == []
    form = page.locator("form.calendar-form")

    # A Saturday is refused with the reason, and what was typed stays.
    form.get_by_label("Tanggal").fill(_next_saturday(today).isoformat())
    form.get_by_label("Keterangan").fill("Kerja bakti")
    form.get_by_role("button", name="Simpan hari libur").click()
    expect(page.get_by_role("alert")).to_contain_text("Sabtu atau Minggu")
    expect(page.locator("form.calendar-form").get_by_label("Keterangan")).to_have_value(
        "Kerja bakti"
    )

    form = page.locator("form.calendar-form")
    form.get_by_label("Tanggal").fill(closed.isoformat())
    form.get_by_label("Keterangan").fill("Hari jadi Kota Kupang")
    form.get_by_role("button", name="Simpan hari libur").click()
    expect(page.get_by_role("status")).to_contain_text("Tenggat 1 laporan")
    row = page.locator("table.closed-days tr", has_text="Hari jadi Kota Kupang")
    expect(row).to_contain_text(label)
    expect(row).to_contain_text("admin")
    case = office.case(ref)
    sla = office.policies.cases.sla
    assert case.verify_due_at == sla.with_closed_days(frozenset({closed})).verify_due(
        case.received_at
    )
    assert case.verify_due_at > before
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1366, "height": 768})

    row.get_by_role("button", name=f"Hapus {label}").click()
    expect(page.get_by_role("status")).to_contain_text("dihapus")
    expect(page.get_by_text("Hari jadi Kota Kupang")).to_have_count(0)
    assert office.case(ref).verify_due_at == before


def test_only_admins_see_the_closed_days(page: Page, office: Office) -> None:
    log_in(page, office, "spv")
    expect(page.get_by_role("link", name="Hari libur")).to_have_count(0)
    response = page.goto(f"{office.base}/staff/calendar")
    assert response is not None and response.status == 403


def test_a_supervisor_holds_an_incomplete_report_until_the_citizen_answers(
    page: Page, office: Office
) -> None:
    ref = office.file(7102, STORY)
    before = office.case(ref)
    log_in(page, office, "spv")
    page.get_by_role("link", name=ref).click()
    hold = page.locator("#act-hold")
    expect(hold.get_by_role("heading", name="Tunda: minta kelengkapan")).to_be_visible()
    question = "Mohon sebutkan tanggal Anda menyerahkan berkas."
    hold.get_by_label("Apa yang perlu dilengkapi warga").fill(question)
    expect(hold.locator(".preview-text")).to_contain_text(question)
    told = preview_of(page, "hold")
    assert serious_violations(page) == []
    hold.get_by_role("button", name="Tunda dan kirim pertanyaan").click()
    expect(page.locator("h1 .status")).to_have_text("Menunggu warga")
    kind, row = office.notices(ref)[-1]
    assert kind == "info_requested" and render_notice(row).text == told
    held = office.case(ref)
    assert held.paused_at is not None and held.due_at is None
    expect(page.locator("#act-verify")).to_have_count(0)
    expect(page.locator("#act-reject")).to_be_visible()  # it may still be turned down

    with Session(office.engine, expire_on_commit=False) as s:
        case = office.case(ref)
        s.add(case)
        svc.citizen_reply(s, telegram_citizen(s, 7102), case, "Tanggal 27 November 2026.")
        s.commit()
    page.reload()
    expect(page.locator("h1 .status")).to_have_text("Diterima")
    expect(page.locator(".event", has_text="Tanggal 27 November 2026.")).to_be_visible()
    expect(page.locator("#act-verify")).to_be_visible()
    after = office.case(ref)
    assert after.status == CaseStatus.received and after.paused_at is None
    assert after.verify_due_at > before.verify_due_at  # moved by the time it waited
