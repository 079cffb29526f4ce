"""Unit heads' part of issue 16 in the console, in Chromium: the "Pemberitahuan" block of the
Telegram page (a supervisor turns the new-complaint alerts off and on; what they then
receive follows), and "Kirim sekarang" of a digest for a unit whose head has not linked
Telegram (told so; the week is still there to send once the head links)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from core.cases.alerts import AlertPolicy, case_alerts_on, send_case_alerts
from core.digests.models import DigestRun
from core.people.models import AppUser
from tests.contacts import link_telegram, messages_to
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]

SPV_CHAT = 8801


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def _alerts_to_spv(office: Office) -> list[str]:
    with Session(office.engine) as s:
        return [
            json.loads(m.params)["text"]
            for m in messages_to(s, SPV_CHAT)
            if '"tag": "case_alert:' in m.params
        ]


def _run_alerts(office: Office) -> None:
    policy = AlertPolicy.from_settings(office.policies.settings)
    later = office.policies.now() + timedelta(minutes=1)
    send_case_alerts(office.engine, policy, now=later)


def test_a_supervisor_turns_new_complaint_alerts_off_and_on(page: Page, office: Office) -> None:
    with Session(office.engine) as s:
        link_telegram(s, s.get_one(AppUser, office.ids["spv"]), SPV_CHAT)
        s.commit()
    log_in(page, office, "spv")
    page.goto(f"{office.base}/staff/telegram")
    block = page.locator("section.link-alerts")
    expect(block.get_by_role("heading", name="Pemberitahuan")).to_be_visible()
    expect(block).to_contain_text("Pemberitahuan pengaduan baru: aktif.")
    expect(block).to_contain_text("paling banyak satu pesan setiap 15 menit")
    expect(block).to_contain_text("Permintaan imbalan / pungli")  # the serious categories
    assert serious_violations(page) == []

    block.get_by_role("button", name="Matikan pemberitahuan").click()
    expect(page.get_by_role("status")).to_have_text("Pemberitahuan pengaduan baru dimatikan.")
    expect(block).to_contain_text("Pemberitahuan pengaduan baru: nonaktif.")
    with Session(office.engine) as s:
        assert not case_alerts_on(s, office.ids["spv"])
    quiet = office.file(8701, "Antrean tidak bergerak dua jam.")
    _run_alerts(office)
    assert _alerts_to_spv(office) == []  # off: no batch

    block.get_by_role("button", name="Aktifkan pemberitahuan").click()
    expect(page.get_by_role("status")).to_have_text("Pemberitahuan pengaduan baru diaktifkan.")
    expect(block).to_contain_text("Pemberitahuan pengaduan baru: aktif.")
    later = office.file(8702, "Loket tutup sebelum jamnya.")
    _run_alerts(office)
    [told] = _alerts_to_spv(office)
    assert later in told and quiet not in told  # only what came after turning it back on


def test_who_sees_the_alerts_block(page: Page, office: Office) -> None:
    log_in(page, office, "kadis")
    page.goto(f"{office.base}/staff/telegram")
    block = page.locator("section.link-alerts")
    expect(block).to_contain_text("Pemberitahuan pengaduan baru: aktif.")
    expect(block).to_contain_text("Hubungkan Telegram Anda terlebih dahulu")  # not linked
    page.context.clear_cookies()
    log_in(page, office, "baca")  # a viewer receives no alerts: no block
    page.goto(f"{office.base}/staff/telegram")
    expect(page.get_by_role("heading", name="Tautan Telegram")).to_be_visible()
    expect(page.locator("section.link-alerts")).to_have_count(0)
    page.context.clear_cookies()
    log_in(page, office, "admin")  # an admin: no switch, told of the serious ones
    page.goto(f"{office.base}/staff/telegram")
    block = page.locator("section.link-alerts")
    expect(block).to_contain_text("selalu dikirim segera")
    expect(block.get_by_role("button")).to_have_count(0)


def test_send_now_without_a_linked_head_says_so_and_keeps_the_week(
    page: Page, office: Office
) -> None:
    log_in(page, office, "admin")
    page.goto(f"{office.base}/staff/digests?unit=dukcapil&week=2026-W46")
    page.get_by_role("button", name="Kirim sekarang").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Unit ini belum memiliki kepala unit yang terhubung ke Telegram."
    )
    with Session(office.engine) as s:
        assert s.exec(select(DigestRun)).all() == []  # the week is not used up
        link_telegram(s, s.get_one(AppUser, office.ids["kadis"]), 8802)
        s.commit()
    page.get_by_role("button", name="Kirim sekarang").click()
    expect(page.get_by_role("status")).to_contain_text("Ringkasan dimasukkan ke antrean kirim")
    with Session(office.engine) as s:
        assert len(messages_to(s, 8802)) >= 1
