"""Officers' scores for any chosen dates on a unit's IKM page (the console's face of
`GET /api/scores/officers`): a supervisor reads each active officer's score with its
interval, or "belum cukup data", for the period they pick, and goes on to the officer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from core.masterdata.models import Officer, Unit
from core.shared.clock import local_day_bounds_utc
from core.surveys.officer_scores import unit_officer_scores
from tests.contacts import telegram_citizen
from tests.factories import add_response, make_officer
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_a_supervisor_reads_officers_scores_for_chosen_dates(page: Page, office: Office) -> None:
    policies = office.policies
    tz = policies.settings.tz
    today = policies.now().astimezone(tz).date()
    moment = policies.now() - timedelta(minutes=10)
    with Session(office.engine, expire_on_commit=False) as s:
        unit = s.get_one(Unit, office.ids["dukcapil"])
        yohanes = s.exec(select(Officer).where(Officer.name == "Yohanes Ndun")).one()
        make_officer(s, unit, "Maria Bria")
        for i in range(12):
            citizen = telegram_citizen(s, 74_000 + i).id
            add_response(
                s, unit, [3, 3, 3, 3, 3, 4, 4, 3, 3], moment, officer=yohanes, citizen_id=citizen
            )
        s.commit()
        lo, hi = local_day_bounds_utc(today, today, tz)
        expected = dict(
            (o.name, sc)
            for o, sc in unit_officer_scores(s, unit.id or 0, lo, hi, policies.evaluations.scores)
        )
    log_in(page, office, "spv")
    day = today.isoformat()
    page.goto(f"{office.base}/staff/scores/dukcapil?kind=custom&start={day}&end={day}")
    table = page.locator("table.scores-officers")
    yohanes_row = table.locator("tr", has_text="Yohanes Ndun")
    score = expected["Yohanes Ndun"]
    assert not score.insufficient and score.n == 12
    expect(yohanes_row).to_contain_text(f"{score.shrunk:.2f}".replace(".", ","))
    expect(yohanes_row).to_contain_text(f"{score.low:.2f}".replace(".", ","))
    expect(table.locator("tr", has_text="Maria Bria")).to_contain_text("belum cukup data")
    yohanes_row.get_by_role("link", name="Yohanes Ndun").click()
    expect(page.get_by_role("heading", name="Yohanes Ndun")).to_be_visible()
