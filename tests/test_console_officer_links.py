"""The officer named in a report links to that officer's page (issue 15), in Chromium: only
where the reader may open the page (`view_unit` on the officer's unit, docs/privacy.md), so a
link never leads to a 403 or 404. A unit head cannot open a `rahasia` report at all; an
officer who has moved to a unit the reader does not hold is named without a link."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from core.cases import service as svc
from core.cases.models import Privacy
from core.masterdata.models import Officer
from tests.contacts import telegram_citizen
from tests.factories import make_unit
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def _yohanes(office: Office) -> int:
    with Session(office.engine) as s:
        return s.exec(select(Officer.id).where(Officer.name == "Yohanes Ndun")).one() or 0


def _report(office: Office, user_id: int, text: str, privacy: Privacy, officer_id: int) -> str:
    with Session(office.engine, expire_on_commit=False) as s:
        case = svc.file_complaint(
            s,
            telegram_citizen(s, user_id),
            svc.ComplaintDraft(
                unit_id=office.ids["dukcapil"], category="lainnya", description=text,
                privacy=privacy, officer_id=officer_id,
            ),
            office.policies.cases,
        )  # fmt: skip
        s.commit()
        return case.reference


def _officer_line(page: Page, office: Office, reference: str) -> None:
    page.goto(f"{office.base}/staff/cases/{reference}")
    expect(page.get_by_role("heading", name=reference)).to_be_visible()


def test_a_supervisor_goes_from_the_report_to_the_officer_named_in_it(
    page: Page, office: Office
) -> None:
    yohanes = _yohanes(office)
    plain = _report(office, 7401, "Petugas Yohanes membentak saya.", Privacy.biasa, yohanes)
    secret = _report(office, 7402, "Petugas Yohanes meminta uang.", Privacy.rahasia, yohanes)

    log_in(page, office, "spv")
    _officer_line(page, office, secret)
    link = page.locator(".case-officer").get_by_role("link", name="Yohanes Ndun")
    expect(link).to_have_attribute("href", f"/staff/officers/{yohanes}")
    assert serious_violations(page) == []
    link.click()
    expect(page.get_by_role("heading", name="Yohanes Ndun", level=1)).to_be_visible()
    assert page.url == f"{office.base}/staff/officers/{yohanes}"
    cases = page.locator("table.officer-cases")
    expect(cases).to_contain_text(plain)
    expect(cases).to_contain_text(secret)


def test_a_unit_head_follows_the_ordinary_report_and_cannot_reach_the_rahasia_one(
    page: Page, office: Office
) -> None:
    yohanes = _yohanes(office)
    plain = _report(office, 7411, "Loket tutup sebelum jamnya.", Privacy.biasa, yohanes)
    secret = _report(office, 7412, "Petugas meminta uang tambahan.", Privacy.rahasia, yohanes)

    log_in(page, office, "kadis")
    response = page.goto(f"{office.base}/staff/cases/{secret}")
    assert response is not None and response.status in (403, 404)
    assert "Yohanes Ndun" not in page.content()
    assert f"/staff/officers/{yohanes}" not in page.content()

    _officer_line(page, office, plain)
    page.locator(".case-officer").get_by_role("link", name="Yohanes Ndun").click()
    expect(page.get_by_role("heading", name="Yohanes Ndun", level=1)).to_be_visible()
    cases = page.locator("table.officer-cases")
    expect(cases).to_contain_text(plain)
    expect(cases).not_to_contain_text(secret)


def test_an_officer_moved_to_a_unit_out_of_reach_is_named_without_a_link(
    page: Page, office: Office
) -> None:
    """The report stays with Dukcapil; Yohanes now works at Bapenda, which the supervisor of
    Dukcapil does not hold: his page would answer 404, so his name is plain text. An admin
    (every unit) still gets the link."""
    yohanes = _yohanes(office)
    plain = _report(office, 7421, "Antrean tidak dipanggil.", Privacy.biasa, yohanes)
    with Session(office.engine) as s:
        other = make_unit(s, "pajak", "Badan Pendapatan Daerah")
        officer = s.get_one(Officer, yohanes)
        officer.unit_id = other.id or 0
        s.add(officer)
        s.commit()

    log_in(page, office, "spv")
    _officer_line(page, office, plain)
    line = page.locator(".case-officer")
    expect(line).to_have_text("Yohanes Ndun")
    expect(line.get_by_role("link")).to_have_count(0)
    response = page.goto(f"{office.base}/staff/officers/{yohanes}")
    assert response is not None and response.status == 404

    page.context.clear_cookies()
    log_in(page, office, "admin")
    _officer_line(page, office, plain)
    page.locator(".case-officer").get_by_role("link", name="Yohanes Ndun").click()
    expect(page.get_by_role("heading", name="Yohanes Ndun", level=1)).to_be_visible()
    expect(page.locator(".officer-facts")).to_contain_text("Badan Pendapatan Daerah")


def test_a_report_naming_no_officer_says_so_without_a_link(page: Page, office: Office) -> None:
    reference = office.file(7431, "Toilet kantor rusak.")
    log_in(page, office, "spv")
    _officer_line(page, office, reference)
    line = page.locator(".case-officer")
    expect(line).to_have_text("Tidak disebutkan")
    expect(line.get_by_role("link")).to_have_count(0)
