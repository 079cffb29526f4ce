"""Following a web report in Chromium at phone size (360x740): the private link, answering
an officer's question, rating the outcome; every page axe-clean, light, loading nothing
from elsewhere, without horizontal scrolling."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from core.access import actor_for
from core.cases import lifecycle
from core.cases.models import Case, CaseOutcome, CaseStatus
from core.cases.policy import ComplaintDraft
from core.cases.web_reports import WebReporter, file_web_complaint, shown_code
from core.people.models import Intake, Role
from core.policies import Policies, build
from core.shared.config import Settings
from tests.console_kit import AXE, live_server
from tests.factories import make_unit, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
MAX_PAGE_GZIP = 50 * 1024


@dataclass
class Report:
    base: str
    reference: str
    code: str
    engine: Engine
    policies: Policies
    staff_id: int

    @property
    def link(self) -> str:
        return f"{self.base}/lacak/{self.reference}/{shown_code(self.code)}"

    def staff(self, step: str, *args: object, **kw: object) -> None:
        with Session(self.engine, expire_on_commit=False) as s:
            case = s.exec(select(Case).where(Case.reference == self.reference)).one()
            actor = actor_for(s, self.staff_id)
            assert actor is not None
            getattr(lifecycle, step)(s, case, *args, actor=actor, **kw)
            s.commit()

    def status(self) -> str:
        with Session(self.engine) as s:
            return s.exec(select(Case.status).where(Case.reference == self.reference)).one()


@pytest.fixture
def report(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[Report]:
    policies = build(settings.model_copy(update={"web_min_fill_seconds": 0}), engine)
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        spv = make_user(s, "spv", Role.supervisor, [unit])
        assert unit.id is not None and spv.id is not None
        draft = ComplaintDraft(
            unit_id=unit.id, category="lainnya", channel=Intake.web,
            description="Antrean KTP-el sangat panjang dan petugas datang terlambat.",
        )  # fmt: skip
        filed = file_web_complaint(
            s, draft, policies.cases, WebReporter(), device_token="browser-device-0123456789ab",
            secret=settings.pseudonym_key, attachments_root=tmp_path, max_photo_bytes=5_000_000,
        )  # fmt: skip
        s.commit()
        reference, code, staff_id = filed.case.reference, filed.code, spv.id
    with live_server(create_site(policies)) as base:
        yield Report(base, reference, code, engine, policies, staff_id)


def serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def gzip_size(url: str) -> int:
    """The page and its stylesheet as sent compressed (or as gzip would make them)."""
    total = 0
    for address in (url, url.split("/lacak")[0].split("/privasi")[0] + "/assets/web.css"):
        with httpx.stream("GET", address, headers={"Accept-Encoding": "gzip"}) as r:
            r.read()
            sent = r.num_bytes_downloaded
            compressed = r.headers.get("content-encoding") == "gzip"
            total += sent if compressed else len(gzip.compress(r.content))
    return total


def test_a_citizen_follows_the_link_answers_a_question_and_rates_the_outcome(
    browser: Browser, report: Report
) -> None:
    report.staff("verify", report.policies.cases)
    report.staff("assign", assignee_id=report.staff_id)
    report.staff("request_info", "Di loket nomor berapa Anda mengantre?")
    context = browser.new_context(viewport=PHONE, bypass_csp=True)  # axe: an inline script
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(report.base) else outside.append(r.url))

    page.goto(report.link)
    expect(page.get_by_role("heading", name=f"Laporan {report.reference}")).to_be_visible()
    expect(page.get_by_role("heading", name="Petugas bertanya:")).to_be_visible()
    asked = page.locator(".follow-ask")
    expect(asked.get_by_text("Di loket nomor berapa Anda mengantre?")).to_be_visible()
    assert serious_violations(page) == []
    assert no_horizontal_scroll(page)
    page.get_by_label("Jawaban Anda").fill("Loket nomor tiga, sejak jam delapan pagi.")
    page.get_by_role("button", name="Kirim jawaban").click()
    expect(page.get_by_role("status")).to_contain_text("jawaban Anda untuk laporan")
    expect(page.get_by_text("Anda menjawab")).to_be_visible()
    expect(page.get_by_role("heading", name="Petugas bertanya:")).to_have_count(0)
    assert report.status() == CaseStatus.in_progress

    report.staff("resolve", CaseOutcome.substantiated, "Loket tambahan dibuka setiap pagi.")
    page.reload()
    expect(page.get_by_role("heading", name="Apakah Anda puas")).to_be_visible()
    expect(
        page.get_by_role("list").get_by_text("Loket tambahan dibuka setiap pagi.")
    ).to_be_visible()
    assert serious_violations(page) == []
    assert no_horizontal_scroll(page)
    page.get_by_label("Alasan Anda tidak puas").fill("Loket tambahan tidak pernah buka.")
    page.get_by_role("button", name="Tidak puas").click()
    expect(page.get_by_role("status")).to_contain_text("dibuka kembali")
    assert report.status() == CaseStatus.in_progress

    report.staff("resolve", CaseOutcome.partly, "Loket tambahan kini buka jam tujuh.")
    page.reload()
    page.get_by_role("button", name="Puas", exact=False).first.click()
    expect(page.get_by_role("status")).to_contain_text("penilaian puas")
    assert report.status() == CaseStatus.closed
    assert outside == []
    context.close()


def test_the_follow_pages_are_accessible_light_and_fit_a_phone(
    browser: Browser, report: Report
) -> None:
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{report.base}/lacak")
    assert serious_violations(page) == [] and no_horizontal_scroll(page)
    page.get_by_label("Nomor laporan").fill(report.reference.lower())
    page.get_by_label("Kode lacak").fill(f"{report.code[:4].lower()} {report.code[4:].lower()}")
    page.get_by_role("button", name="Buka laporan").click()
    expect(page.get_by_role("heading", name=f"Laporan {report.reference}")).to_be_visible()
    page.get_by_role("button", name="Hapus data saya").click()
    expect(page.get_by_role("heading", name="Hapus data saya")).to_be_visible()
    assert serious_violations(page) == [] and no_horizontal_scroll(page)
    page.get_by_role("link", name="Batal").click()
    expect(page.get_by_role("heading", name=f"Laporan {report.reference}")).to_be_visible()
    page.goto(f"{report.base}/privasi")
    expect(page.get_by_role("heading", name="Privasi", exact=True)).to_be_visible()
    assert serious_violations(page) == [] and no_horizontal_scroll(page)
    page.goto(f"{report.base}/lacak/{report.reference}/AAAA-AAAA")
    expect(page.get_by_role("alert")).to_contain_text("tidak cocok")
    assert serious_violations(page) == []
    context.close()
    for url in (report.link, f"{report.base}/lacak", f"{report.base}/privasi"):
        assert gzip_size(url) < MAX_PAGE_GZIP, url
