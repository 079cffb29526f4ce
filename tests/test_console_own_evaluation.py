"""The officer's own evaluation in Chromium (issue 15, "the officer's own view"): an officer
whose account is linked to her NIP logs in, lands on her evaluations, reads the evidence about
herself (her score, the complaints about her, a citizen's comment that names her, no date
and no identity), writes a response that is too long (kept, with how much to cut), shortens
and saves it; the supervisor then reads it beside the suggestion; once the period is
finalized the officer sees the decision and can no longer change her response."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from core.access import Actor
from core.evaluations import service as ev
from core.evaluations.models import EvaluationPeriod, Level
from core.masterdata.models import Officer, Unit
from core.people.models import Role
from core.people.users import create_user, link_officer
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, add_response
from tests.test_console_browser import serious_violations
from tests.test_console_case import log_in, office
from tests.test_console_evaluations import Staffed, _fits_375, _row, staffed

pytestmark = pytest.mark.browser
__all__ = ["office", "staffed"]

COMMENT = "Ibu Maria sabar menjelaskan syarat akta kelahiran."


@pytest.fixture
def pages(browser: Browser) -> Iterator[list[Page]]:
    opened: list[Page] = []
    yield opened
    for p in opened:
        p.context.close()


def _new_page(browser: Browser, pages: list[Page]) -> Page:
    page = browser.new_context(bypass_csp=True, viewport={"width": 1366, "height": 900}).new_page()
    pages.append(page)
    return page


def _computed(staffed: Staffed) -> int:
    """Maria's account (role officer, linked to her NIP), a comment naming her, and this
    month's period computed by the supervisor."""
    office = staffed.office
    admin = Actor(office.ids["admin"], "admin", Role.admin)
    spv = Actor(office.ids["spv"], "spv", Role.supervisor, frozenset({office.ids["dukcapil"]}))
    policies = office.policies
    with Session(office.engine, expire_on_commit=False) as s:
        unit = s.get_one(Unit, office.ids["dukcapil"])
        maria = s.exec(select(Officer).where(Officer.name == "Maria Bria")).one()
        citizen = telegram_citizen(s, 72_001).id
        moment = policies.now() - timedelta(minutes=3)
        answer = add_response(s, unit, [3] * 9, moment, officer=maria, citizen_id=citizen)
        answer.comment = COMMENT
        user = create_user(s, "maria", Role.officer, "", (), password_hash=_hash())
        link_officer(s, user.id or 0, maria.nip, actor=admin)
        period = ev.create_period(s, "monthly", staffed.month, ["dukcapil"], actor=spv)
        ev.compute_period(s, period, policies.evaluations, policies.settings.tz, actor=spv)
        s.commit()
        assert period.id is not None
        return period.id


def _hash() -> str:
    from core.people.passwords import hash_password

    return hash_password(PASSWORD)


def _log_in_officer(page: Page, staffed: Staffed) -> None:
    page.goto(f"{staffed.office.base}/staff/login")
    page.get_by_label("Nama pengguna").fill("maria")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    # An officer's account has no inbox: its home is its own evaluations.
    expect(page.get_by_role("heading", name="Penilaian kinerja saya")).to_be_visible()


def test_an_officer_reads_her_evidence_and_answers_the_assessor(
    browser: Browser, pages: list[Page], staffed: Staffed
) -> None:
    period_id = _computed(staffed)
    officer = _new_page(browser, pages)
    _log_in_officer(officer, staffed)
    expect(officer.get_by_role("link", name="Kotak masuk")).to_have_count(0)
    officer.get_by_role("link", name=f"{staffed.month:%Y-%m}").click()
    expect(officer.get_by_role("heading", name=f"Penilaian saya: {staffed.month:%Y-%m}"))
    # Two substantiated complaints about her (not confidential), her comment without a date.
    expect(officer.locator(".own-received")).to_have_text("2")
    expect(officer.locator(".own-substantiated")).to_have_text("2")
    comments = officer.locator(".own-comments li")
    expect(comments).to_have_count(1)
    expect(comments.first).to_contain_text(COMMENT)
    assert "WITA" not in comments.first.inner_text()
    assert "Kotak masuk" not in officer.locator("nav").inner_text()
    # Nothing of the assessor's working: no suggestion.
    assert "Saran" not in officer.locator("main").inner_text()
    assert serious_violations(officer) == []
    _fits_375(officer)

    # Too long: refused, the text is kept, and she is told how much to cut.
    box = officer.get_by_label("Tanggapan Anda", exact=True)
    long_text = "Kedua pengaduan terjadi saat jaringan SIAK mati. " * 45
    box.fill(long_text)
    officer.get_by_role("button", name="Simpan tanggapan").click()
    cut = len(long_text.strip()) - ev.MAX_RESPONSE
    expect(officer.get_by_role("alert")).to_contain_text(f"kurangi {cut} karakter")
    assert officer.get_by_label("Tanggapan Anda", exact=True).input_value() == long_text
    answer = "Kedua pengaduan terjadi saat jaringan SIAK mati; warga sudah saya hubungi kembali."
    officer.get_by_label("Tanggapan Anda", exact=True).fill(answer)
    officer.get_by_role("button", name="Simpan tanggapan").click()
    expect(officer.get_by_role("status")).to_contain_text("Tanggapan Anda tersimpan")
    expect(officer.get_by_label("Tanggapan Anda", exact=True)).to_have_value(answer)

    # The supervisor reads it beside the suggestion, and in the period's audit.
    spv = _new_page(browser, pages)
    log_in(spv, staffed.office, "spv")
    spv.goto(f"{staffed.office.base}/staff/evaluations/{period_id}")
    row = _row(spv, "Maria Bria")
    expect(row.locator(".eval-suggestion")).to_contain_text("Tanggapan pegawai")
    expect(row.locator(".eval-suggestion blockquote")).to_have_text(answer)
    expect(spv.locator(".eval-audit")).to_contain_text("menuliskan tanggapan pegawai")
    # The officer's name leads to her page.
    row.get_by_role("link", name="Maria Bria").click()
    expect(spv.get_by_role("heading", name="Maria Bria")).to_be_visible()

    # Finalized: the officer sees the decision; her response is read-only.
    office = staffed.office
    spv_actor = Actor(
        office.ids["spv"], "spv", Role.supervisor, frozenset({office.ids["dukcapil"]})
    )
    with Session(office.engine, expire_on_commit=False) as s:
        period = s.get_one(EvaluationPeriod, period_id)
        for r in ev.evaluations(s, period):
            ev.decide_behaviour(s, period, r.id or 0, None, actor=spv_actor)
            ev.set_results_level(s, period, r.id or 0, Level.meets, actor=spv_actor)
        after_end = office.policies.now() + timedelta(days=40)
        ev.finalize(s, period, actor=spv_actor, tz=office.policies.settings.tz, now=after_end)
        s.commit()
    officer.reload()
    expect(officer.locator(".own-rating")).not_to_have_text("-")
    expect(officer.locator(".own-response-text")).to_have_text(answer)
    expect(officer.get_by_role("button", name="Simpan tanggapan")).to_have_count(0)


def test_an_unlinked_officer_account_is_told_to_ask_an_administrator(
    browser: Browser, pages: list[Page], staffed: Staffed
) -> None:
    with Session(staffed.office.engine) as s:
        create_user(s, "maria", Role.officer, "", (), password_hash=_hash())
        s.commit()
    page = _new_page(browser, pages)
    _log_in_officer(page, staffed)
    expect(page.locator("#own-not-linked")).to_contain_text("belum ditautkan")
    # A period address typed by hand answers as an unknown page, naming nothing.
    response = page.goto(f"{staffed.office.base}/staff/me/evaluations/{_other_period(staffed)}")
    assert response is not None and response.status == 404
    # Nor does the account reach the cases.
    response = page.goto(f"{staffed.office.base}/staff/cases/KPG-0000-00000")
    assert response is not None and response.status in (403, 404)


def _other_period(staffed: Staffed) -> int:
    office = staffed.office
    spv = Actor(office.ids["spv"], "spv", Role.supervisor, frozenset({office.ids["dukcapil"]}))
    with Session(office.engine) as s:
        period = ev.create_period(s, "monthly", staffed.month, ["dukcapil"], actor=spv)
        ev.compute_period(
            s, period, office.policies.evaluations, office.policies.settings.tz, actor=spv
        )
        s.commit()
        assert period.id is not None
        return period.id


def _supervisor(staffed: Staffed) -> Actor:
    ids = staffed.office.ids
    return Actor(ids["spv"], "spv", Role.supervisor, frozenset({ids["dukcapil"]}))


def test_an_admin_links_an_officer_account_by_nip_in_the_console(
    browser: Browser, pages: list[Page], staffed: Staffed
) -> None:
    office = staffed.office
    with Session(office.engine) as s:
        user = create_user(s, "maria", Role.officer, "", (), password_hash=_hash())
        s.commit()
        user_id = user.id
    admin = _new_page(browser, pages)
    log_in(admin, office, "admin")
    admin.goto(f"{office.base}/staff/users?manage={user_id}#manage")
    nip = admin.get_by_label("NIP pegawai")
    nip.fill("12345")
    admin.get_by_role("button", name="Simpan NIP").click()
    expect(admin.get_by_role("alert")).to_contain_text("NIP tidak sah")
    admin.get_by_label("NIP pegawai").fill(staffed.nips["Maria Bria"])
    admin.get_by_role("button", name="Simpan NIP").click()
    expect(admin.get_by_role("status")).to_contain_text("Akun ditautkan ke data pegawai")
    expect(admin.locator("#officer-hint")).to_contain_text("Maria Bria")
    # Another account cannot take the same officer.
    with Session(office.engine) as s:
        other = create_user(s, "maria2", Role.officer, "", (), password_hash=_hash())
        s.commit()
        other_id = other.id
    admin.goto(f"{office.base}/staff/users?manage={other_id}#manage")
    admin.get_by_label("NIP pegawai").fill(staffed.nips["Maria Bria"])
    admin.get_by_role("button", name="Simpan NIP").click()
    expect(admin.get_by_role("alert")).to_contain_text("sudah ditautkan ke akun maria")
    # Linked: Maria reads her evaluation once the supervisor has computed one.
    spv = _supervisor(staffed)
    with Session(office.engine) as s:
        period = ev.create_period(s, "monthly", staffed.month, ["dukcapil"], actor=spv)
        policies = office.policies
        ev.compute_period(s, period, policies.evaluations, policies.settings.tz, actor=spv)
        s.commit()
    officer = _new_page(browser, pages)
    _log_in_officer(officer, staffed)
    expect(officer.locator("table.own-periods")).to_contain_text(f"{staffed.month:%Y-%m}")
