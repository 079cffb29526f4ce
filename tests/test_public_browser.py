"""The transparency page in Chromium at phone size (360 x 740): a citizen reads a unit's
figures, opens its detail; after a new survey response and new complaints and the next
refresh, the new figures show; both pages pass axe, load nothing from elsewhere and need no
horizontal scrolling."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from core.cases.models import Case, CaseStatus
from core.masterdata.models import Unit
from core.policies import build
from core.shared.clock import utcnow
from core.shared.config import Settings
from core.transparency.snapshot import refresh_public_figures
from tests.console_kit import AXE, live_server
from tests.factories import add_response, make_unit

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 360, "height": 740}


@dataclass
class Site:
    base: str
    engine: Engine
    settings: Settings


def add_cases(session: Session, unit: Unit, n: int, at: datetime) -> None:
    assert unit.id is not None
    for i in range(n):
        session.add(
            Case(
                reference=f"KPG-BRW-{unit.id}-{at.minute}-{i}",
                unit_id=unit.id,
                category="lainnya",
                description="Antrean terlalu panjang",
                status=CaseStatus.in_progress.value,
                received_at=at,
                verify_due_at=at + timedelta(days=3),
                resolve_due_at=at + timedelta(days=60),
            )
        )


@pytest.fixture
def site(settings: Settings, engine: Engine) -> Iterator[Site]:
    cached = settings.model_copy(update={"public_cache_seconds": 600})
    earlier = utcnow() - timedelta(hours=1)
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        for i in range(12):
            add_response(s, unit, [4] * 9, at=earlier - timedelta(minutes=i))
        add_cases(s, unit, 5, earlier)
        s.commit()
    refresh_public_figures(engine, cached)
    with live_server(create_site(build(cached, engine))) as base:
        yield Site(base, engine, cached)


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


def this_year() -> str:
    return str(utcnow().astimezone(ZoneInfo("Asia/Makassar")).year)  # the settings' zone


def test_a_citizen_reads_the_figures_and_sees_new_ones_after_a_refresh(
    page: Page, site: Site
) -> None:
    page.set_viewport_size(PHONE)
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto(f"{site.base}/transparansi")
    page.get_by_label("Periode").select_option(this_year())
    page.get_by_role("button", name="Tampilkan").click()
    row = page.get_by_role("row", name="Dinas Kependudukan dan Pencatatan Sipil")
    expect(row).to_contain_text("100,00")
    expect(row).to_contain_text("Sangat Baik")
    expect(row.get_by_role("cell").nth(1)).to_have_text("5 / 0")  # received / resolved
    assert no_horizontal_scroll(page)

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Dinas Kependudukan dan Pencatatan Sipil"
    )
    # The year is still running: its totals, no element scores until it has ended.
    expect(page.get_by_text("Periode ini belum berakhir", exact=False)).to_be_visible()
    expect(page.get_by_role("row", name="U1. Persyaratan")).to_have_count(0)
    expect(page.get_by_role("img", name="Tren IKM per bulan")).to_be_visible()
    assert no_horizontal_scroll(page)

    # New answers and complaints: shown after the next refresh, not before.
    with Session(site.engine, expire_on_commit=False) as s:
        unit = s.exec(select(Unit).where(Unit.code == "dukcapil")).one()
        add_response(s, unit, [1] * 9, at=utcnow() - timedelta(minutes=5))
        add_cases(s, unit, 5, utcnow() - timedelta(minutes=5))
        s.commit()
    page.reload()
    expect(page.get_by_text("12 responden", exact=False)).to_be_visible()
    refresh_public_figures(site.engine, site.settings)
    page.reload()
    expect(page.get_by_text("13 responden", exact=False)).to_be_visible()
    facts = page.get_by_role("definition")
    expect(facts.first).to_have_text("10")
    assert all(url.startswith(site.base) for url in seen)


def test_the_pages_pass_axe_in_both_languages(browser: Browser, site: Site) -> None:
    context = browser.new_context(bypass_csp=True, viewport=PHONE)  # axe: an inline script
    page = context.new_page()
    for path in (
        f"/transparansi?periode={this_year()}",
        f"/transparansi/dukcapil?periode={this_year()}",
        f"/transparansi/dukcapil?periode={this_year()}&lang=en",
    ):
        page.goto(f"{site.base}{path}")
        assert serious_violations(page) == [], path
    context.close()
