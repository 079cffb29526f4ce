"""The access audit in the console (issue 15: every staff task of the README in the
console): an administrator finds who reset whose password and who opened a confidential
report, filtered by event and day; a supervisor has no such page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from core.access import Actor
from core.cases import service as svc
from core.cases.models import Privacy
from core.people import users
from core.people.models import Role
from tests.contacts import telegram_citizen
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    yield context.new_page()
    context.close()


def test_an_admin_reads_who_did_what_and_filters_it(axe_page: Page, office: Office) -> None:
    page = axe_page
    admin = Actor(office.ids["admin"], "admin", Role.admin)
    with Session(office.engine) as s:
        users.reset_password(s, office.ids["kadis"], "Kupang-Lasiana-2026!", actor=admin)
        case = svc.file_complaint(
            s,
            telegram_citizen(s, 93_001),
            svc.ComplaintDraft(
                unit_id=office.ids["dukcapil"],
                category="pungli",
                description="Petugas meminta uang tambahan untuk mempercepat berkas.",
                privacy=Privacy.rahasia,
            ),
            office.policies.cases,
        )
        reference = case.reference
        s.commit()
    log_in(page, office, "admin")
    page.goto(f"{office.base}/staff/cases/{reference}")  # opening it is audited
    expect(page.get_by_role("heading", name=reference)).to_be_visible()
    page.get_by_role("link", name="Jejak akses").click()
    rows = page.locator("table.audit-rows tbody tr")
    expect(rows.filter(has_text="Kata sandi diatur ulang")).to_contain_text("kadis")
    expect(rows.filter(has_text="Membuka laporan rahasia")).to_contain_text(reference)
    assert serious_violations(page) == []
    # One kind of event only.
    page.get_by_label("Kejadian").select_option(label="Membuka laporan rahasia")
    page.get_by_role("button", name="Tampilkan").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=reference)).to_be_visible()
    # A date typed by hand that means nothing gets a clear answer, not an error page.
    page.goto(f"{office.base}/staff/audit?start=31-02-2026")
    expect(page.get_by_role("alert")).to_contain_text("Tanggal tidak terbaca")


def test_a_supervisor_has_no_access_audit(page: Page, office: Office) -> None:
    log_in(page, office, "spv")
    expect(page.get_by_role("link", name="Jejak akses")).to_have_count(0)
    response = page.goto(f"{office.base}/staff/audit")
    assert response is not None and response.status == 403
