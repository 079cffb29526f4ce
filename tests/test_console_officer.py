"""An officer's page in Chromium (issue 15): the officer's unit and position, their fair score
per month over the last six months ("Belum cukup data" below min_n = 5 counted responses,
docs/rules.md "Officer feedback score") and the reports that name them, each only as the
reader may open it (docs/privacy.md "Opening a case"): a supervisor sees the `rahasia` report,
a unit head does not, the account linked to the officer sees none, and an officer of another
unit answers 404."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from core.cases import service as svc
from core.cases.models import Privacy
from core.masterdata.models import Officer, Unit
from core.people.models import AppUser
from tests.contacts import telegram_citizen
from tests.factories import add_response, make_officer, make_unit
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]

ANSWERS = (3, 3, 3, 3, 3, 4, 4, 3, 3)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def _setup(office: Office) -> tuple[int, int, str, str]:
    """Yohanes with 6 responses this month, a biasa and a rahasia report naming him; an
    officer of another unit. Returns (Yohanes, the stranger, biasa ref, rahasia ref)."""
    now = office.policies.now()
    refs = []
    with Session(office.engine, expire_on_commit=False) as s:
        unit = s.get_one(Unit, office.ids["dukcapil"])
        yohanes = s.exec(select(Officer).where(Officer.name == "Yohanes Ndun")).one()
        yohanes.position = "Pengelola Data Kependudukan"
        s.add(yohanes)
        other = make_unit(s, "pajak", "Badan Pendapatan Daerah")
        stranger = make_officer(s, other, "Orang Lain")
        tz = office.policies.settings.tz
        first = now.astimezone(tz).replace(day=1, hour=9, minute=0)
        for i in range(6):  # distinct respondents, all in this month, before now
            at = min(first + timedelta(hours=i), now - timedelta(minutes=i + 1))
            add_response(s, unit, ANSWERS, at=at.astimezone(UTC), officer=yohanes)
        for user_id, privacy, text in (
            (7301, Privacy.biasa, "Petugas Yohanes membentak saya di loket."),
            (7302, Privacy.rahasia, "Petugas Yohanes meminta uang tambahan."),
        ):
            case = svc.file_complaint(
                s,
                telegram_citizen(s, user_id),
                svc.ComplaintDraft(
                    unit_id=office.ids["dukcapil"], category="lainnya", description=text,
                    privacy=privacy, officer_id=yohanes.id,
                ),
                office.policies.cases,
            )  # fmt: skip
            refs.append(case.reference)
        s.commit()
        return yohanes.id or 0, stranger.id or 0, refs[0], refs[1]


def test_a_supervisor_sees_the_scores_and_every_report_and_others_what_they_may(
    page: Page, office: Office
) -> None:
    yohanes, stranger, plain, secret = _setup(office)
    url = f"{office.base}/staff/officers/{yohanes}"

    log_in(page, office, "spv")
    page.goto(f"{office.base}/staff/units/dukcapil")
    page.get_by_role("link", name="Halaman Yohanes Ndun").click()
    expect(page.get_by_role("heading", name="Yohanes Ndun", level=1)).to_be_visible()
    expect(page.locator(".officer-facts")).to_contain_text("Pengelola Data Kependudukan")
    rows = page.locator("table.officer-months tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.nth(0).locator("td.score")).to_be_visible()  # 6 responses: a score
    expect(rows.nth(0)).to_contain_text("6")
    expect(rows.nth(1)).to_contain_text("Belum cukup data")
    cases = page.locator("table.officer-cases")
    expect(cases).to_contain_text(plain)
    expect(cases).to_contain_text(secret)
    assert page.content().count("NIP") == 0
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.get_by_role("link", name=secret).click()
    expect(page.get_by_role("heading", name=secret)).to_be_visible()

    # Another unit's officer is unknown; a malformed cursor is refused with a message.
    assert page.goto(f"{office.base}/staff/officers/{stranger}").status == 404  # type: ignore[union-attr]
    assert page.goto(f"{url}?after=rubbish").status == 400  # type: ignore[union-attr]
    expect(page.get_by_role("alert")).to_contain_text("tidak berlaku lagi")
    expect(page.locator("table.officer-cases")).to_contain_text(plain)

    # A unit head: the score and the ordinary report, never the rahasia one.
    page.context.clear_cookies()
    log_in(page, office, "kadis")
    page.goto(url)
    expect(page.locator("table.officer-months td.score").first).to_be_visible()
    expect(page.locator("table.officer-cases")).to_contain_text(plain)
    expect(page.locator("table.officer-cases")).not_to_contain_text(secret)
    assert serious_violations(page) == []

    # The viewer linked to Yohanes: no report that names him.
    with Session(office.engine) as s:
        viewer = s.get_one(AppUser, office.ids["baca"])
        viewer.officer_id = yohanes
        s.add(viewer)
        s.commit()
    page.context.clear_cookies()
    log_in(page, office, "baca")
    page.goto(url)
    expect(page.get_by_text("Tidak ada laporan yang dapat Anda buka")).to_be_visible()
    assert plain not in page.content() and secret not in page.content()
    assert page.goto(f"{office.base}/staff/officers/{stranger}").status == 404  # type: ignore[union-attr]


def test_an_id_too_large_for_a_row_is_an_unknown_officer(page: Page, office: Office) -> None:
    log_in(page, office, "spv")
    for ref in ("99999999999999999999999", "yohanes", "0"):
        response = page.goto(f"{office.base}/staff/officers/{ref}")
        assert response is not None and response.status == 404
