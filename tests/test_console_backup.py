"""The backup page in Chromium: an admin sees that no backup is recorded yet, then when the
last `asn-feedback db backup` was taken (WITA), its size and contents, and a warning once it
is older than BACKUP_MAX_AGE_HOURS; other roles neither see nor open the page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app.backup import take_backup
from console.routes_backup import shown_size
from core.backups import status_path
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page whose context lets axe be injected as an inline script."""
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def test_an_admin_sees_when_the_last_backup_was_taken_and_when_it_is_too_old(
    page: Page, office: Office, tmp_path: Path
) -> None:
    settings = office.policies.settings
    status_path(settings).unlink(missing_ok=True)  # the shared test database: none yet
    office.file(7401, "Petugas loket meminta uang tambahan untuk mempercepat KTP-el.")
    log_in(page, office, "admin")
    page.get_by_role("link", name="Cadangan data").click()
    expect(page.get_by_role("heading", name="Cadangan data", exact=True)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "Belum ada cadangan yang tercatat. Ambil cadangan sekarang, lalu setidaknya sekali "
        "setiap 26 jam."
    )

    taken = take_backup(settings, tmp_path / "malam-ini.tar.gz")
    page.reload()
    expect(page.get_by_role("status")).to_have_text("Cadangan terakhir masih dalam batas 26 jam.")
    last = page.locator(".backup-last")
    expect(last).to_contain_text("WITA")
    expect(last).to_contain_text("0 jam lalu")
    expect(last).to_contain_text(shown_size(taken.size, "id"))
    expect(last).to_contain_text(str(taken.path.resolve()))
    expect(last).to_contain_text("0 jawaban survei, 1 laporan, 0 foto")
    expect(last).not_to_contain_text("tidak ditemukan di server")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1366, "height": 768})

    # A backup from 30 hours ago, since moved away: the page says both.
    old = take_backup(settings, tmp_path, now=office.policies.now() - timedelta(hours=30))
    old.path.rename(tmp_path / "moved.tar.gz")
    page.reload()
    expect(page.get_by_role("alert")).to_have_text(
        "Cadangan terakhir diambil 30 jam lalu, melewati batas 26 jam. Ambil cadangan baru."
    )
    expect(last).to_contain_text("tidak ditemukan di server")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The last backup was taken 30 hours ago, past the limit of 26 hours. Take a new backup."
    )


@pytest.mark.parametrize("username", ["spv", "kadis"])
def test_other_roles_neither_see_nor_open_the_backup_page(
    page: Page, office: Office, username: str
) -> None:
    log_in(page, office, username)
    expect(page.get_by_role("link", name="Cadangan data")).to_have_count(0)
    response = page.goto(f"{office.base}/staff/backup")
    assert response is not None and response.status == 403
