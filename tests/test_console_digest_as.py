"""An administrator previews a unit's weekly digest as one of its recipients receives it
(the console's face of the API's `?as_user=`): the unit head's preview leaves out the
confidential report the admin's own view counts; a supervisor gets no such choice."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from core.access import Actor
from core.cases import service as svc
from core.cases.models import Privacy
from core.people.models import AppUser, Role
from tests.contacts import link_telegram, telegram_citizen
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def _new_cases(text: str) -> int:
    found = re.search(r"Pengaduan: (\d+) baru", text)
    assert found is not None, text
    return int(found.group(1))


def test_an_admin_previews_the_digest_as_the_unit_head_gets_it(page: Page, office: Office) -> None:
    admin = Actor(office.ids["admin"], "admin", Role.admin)
    with Session(office.engine) as s:
        link_telegram(s, s.get_one(AppUser, office.ids["kadis"]), 55_501)
        for n, privacy in enumerate((Privacy.biasa, Privacy.rahasia)):
            case = svc.file_complaint(
                s,
                telegram_citizen(s, 93_100 + n),
                svc.ComplaintDraft(
                    unit_id=office.ids["dukcapil"],
                    category="pungli",
                    description="Petugas meminta uang tambahan agar berkas cepat selesai.",
                    privacy=privacy,
                ),
                office.policies.cases,
            )
            svc.verify(s, case, office.policies.cases, actor=admin)
        s.commit()
    log_in(page, office, "admin")
    page.goto(f"{office.base}/staff/digests?unit=dukcapil")
    mine = _new_cases(page.locator("pre.digest-text").inner_text())
    page.get_by_label("Lihat sebagai").select_option(label="kadis")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.locator("#digest-preview + p")).to_contain_text("Seperti yang diterima kadis")
    theirs = _new_cases(page.locator("pre.digest-text").inner_text())
    assert (mine, theirs) == (2, 1)  # the head never counts the rahasia report
    # Someone who does not receive the digest is no one to preview as.
    response = page.goto(f"{office.base}/staff/digests?unit=dukcapil&as_user={office.ids['spv']}")
    assert response is not None and response.status == 404


def test_a_unit_head_previews_only_as_themselves(page: Page, office: Office) -> None:
    log_in(page, office, "kadis")
    page.goto(f"{office.base}/staff/digests?unit=dukcapil")
    expect(page.get_by_label("Lihat sebagai")).to_have_count(0)
    response = page.goto(f"{office.base}/staff/digests?unit=dukcapil&as_user={office.ids['admin']}")
    assert response is not None and response.status == 404
