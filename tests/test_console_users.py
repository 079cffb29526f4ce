"""People in the console, in Chromium: an admin creates a supervisor for two units, resets
their password and deactivates them (each ends the supervisor's open session at once),
changes an account's role and units and unlocks it; non-admins get no such page; a unit
head links their Telegram with a one-time code and its QR code (issue 15, "People" and
"Digests and alerts")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import Session

from core.access import Actor
from core.people import users
from core.people.links import link_deep_link, redeem_link_code
from core.people.models import LoginThrottle, Role
from tests.contacts import chat
from tests.factories import make_unit
from tests.test_console_browser import no_horizontal_scroll, serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]
ADMIN = Actor(-1, "test", Role.admin, frozenset())


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def _page(browser: Browser, contexts: list[BrowserContext]) -> Page:
    """A page in a browser context of its own (its own cookies: another person)."""
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    contexts.append(context)
    return context.new_page()


def _log_in_as(page: Page, office: Office, username: str, password: str) -> None:
    page.goto(f"{office.base}/staff/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()


def _signed_out(page: Page) -> None:
    page.reload()
    expect(page.get_by_role("heading", name="Masuk ke konsol")).to_be_visible()
    assert "/staff/login" in page.url


def _check_layout(page: Page) -> None:
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 740})
    assert no_horizontal_scroll(page)
    page.set_viewport_size({"width": 1366, "height": 768})


def test_an_admin_creates_a_supervisor_resets_the_password_and_deactivates_the_account(
    browser: Browser, contexts: list[BrowserContext], office: Office
) -> None:
    with Session(office.engine) as s:
        make_unit(s, "bpkad", "Badan Pengelolaan Keuangan dan Aset Daerah")
        s.commit()
    admin = _page(browser, contexts)
    log_in(admin, office, "admin")
    admin.get_by_role("link", name="Pengguna").click()
    expect(admin.get_by_role("heading", name="Pengguna", exact=True)).to_be_visible()
    _check_layout(admin)

    new = admin.locator("section", has=admin.get_by_role("heading", name="Akun baru"))
    new.get_by_label("Nama pengguna").fill("maria.spv")
    new.get_by_label("Nama lengkap").fill("Maria Goreti")
    new.get_by_label("Peran").select_option(label="Pengawas")
    new.get_by_label("Kode unit").fill("dukcapil, xyz")
    new.get_by_role("button", name="Buat akun").click()
    # Refused in Indonesian, what was typed kept.
    expect(admin.get_by_role("alert")).to_contain_text("Kode unit tidak dikenal: xyz")
    new = admin.locator("section", has=admin.get_by_role("heading", name="Akun baru"))
    expect(new.get_by_label("Nama lengkap")).to_have_value("Maria Goreti")
    new.get_by_label("Kode unit").fill("dukcapil, bpkad")
    new.get_by_label("Kata sandi awal").fill("rahasia")
    new.get_by_role("button", name="Buat akun").click()
    expect(admin.get_by_role("alert")).to_contain_text("paling sedikit 12 karakter")
    new = admin.locator("section", has=admin.get_by_role("heading", name="Akun baru"))
    new.get_by_role("button", name="Buat akun").click()  # no password typed: one is made
    expect(admin.locator(".shown-password")).to_contain_text("Akun maria.spv dibuat.")
    first = admin.locator(".password-value").inner_text()
    assert users.password_refusal(first, "maria.spv") is None
    row = admin.locator("table.users-list tr", has_text="maria.spv")
    expect(row).to_contain_text("Pengawas")
    expect(row).to_contain_text("bpkad, dukcapil")
    expect(row).to_contain_text("Belum terhubung")
    with Session(office.engine) as s:
        made = users.describe_user(s, users.get_user_id(s, "maria.spv"))
    assert (made.role, made.unit_codes, made.display_name) == (
        "supervisor",
        ["bpkad", "dukcapil"],
        "Maria Goreti",
    )
    _check_layout(admin)

    maria = _page(browser, contexts)
    _log_in_as(maria, office, "maria.spv", first)
    expect(maria.get_by_role("link", name="Pengguna")).to_have_count(0)
    expect(maria.get_by_role("link", name="Telegram")).to_be_visible()
    response = maria.goto(f"{office.base}/staff/users")
    assert response is not None and response.status == 403
    maria.goto(f"{office.base}/staff/")

    # A reset shows the new password once and ends her session at once.
    admin.get_by_role("link", name="Kelola maria.spv").click()
    manage = admin.locator("#manage")
    expect(manage.get_by_role("heading", name="Kelola akun maria.spv")).to_be_visible()
    manage.get_by_role("button", name="Atur ulang kata sandi").click()
    expect(admin.locator(".shown-password")).to_contain_text("Kata sandi maria.spv diatur ulang")
    second = admin.locator(".password-value").inner_text()
    assert second != first
    _check_layout(admin)
    _signed_out(maria)
    _log_in_as(maria, office, "maria.spv", second)

    # Deactivated: her session ends, and she cannot log in again until reactivated.
    admin.locator("#manage").get_by_role("button", name="Nonaktifkan akun").click()
    expect(admin.get_by_role("status")).to_contain_text("dinonaktifkan")
    expect(admin.locator("table.users-list tr", has_text="maria.spv")).to_contain_text("Nonaktif")
    _signed_out(maria)
    maria.get_by_label("Nama pengguna").fill("maria.spv")
    maria.get_by_label("Kata sandi").fill(second)
    maria.get_by_role("button", name="Masuk").click()
    expect(maria.get_by_role("heading", name="Masuk ke konsol")).to_be_visible()
    admin.locator("#manage").get_by_role("button", name="Aktifkan kembali akun").click()
    expect(admin.get_by_role("status")).to_contain_text("diaktifkan kembali")
    _log_in_as(maria, office, "maria.spv", second)

    # An admin cannot lock themselves out: their own account offers no reset or deactivation.
    admin.goto(f"{office.base}/staff/users?manage={office.ids['admin']}")
    expect(admin.locator("#manage").get_by_role("button", name="Nonaktifkan akun")).to_have_count(0)


def test_an_admin_changes_role_and_units_and_unlocks_an_account(
    browser: Browser, contexts: list[BrowserContext], office: Office
) -> None:
    now = office.policies.now()
    with Session(office.engine) as s:
        make_unit(s, "bpkad", "Badan Pengelolaan Keuangan dan Aset Daerah")
        s.add(
            LoginThrottle(
                username="spv",
                address="10.0.0.9",
                failures=7,
                locked_until=now + timedelta(minutes=15),
                updated_at=now,
            )
        )
        s.commit()
    spv = _page(browser, contexts)
    log_in(spv, office, "spv")
    admin = _page(browser, contexts)
    log_in(admin, office, "admin")
    admin.goto(f"{office.base}/staff/users?q=spv")
    row = admin.locator("table.users-list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ya, terlalu banyak percobaan")
    row.get_by_role("link", name="Kelola spv").click()
    manage = admin.locator("#manage")
    manage.get_by_label("Peran").select_option(label="Kepala unit")
    manage.get_by_label("Kode unit").fill("bpkad")
    manage.get_by_role("button", name="Simpan perubahan").click()
    expect(admin.get_by_role("status")).to_contain_text("Perubahan akun disimpan")
    with Session(office.engine) as s:
        changed = users.describe_user(s, office.ids["spv"])
    assert (changed.role, changed.unit_codes) == ("unit_head", ["bpkad"])
    _signed_out(spv)  # new rights: the old session ends

    admin.locator("#manage").get_by_role("button", name="Buka kunci").click()
    expect(admin.get_by_role("status")).to_contain_text("Kunci akun dibuka")
    expect(admin.locator("#manage").get_by_role("button", name="Buka kunci")).to_have_count(0)
    expect(admin.locator("table.users-list tr", has_text="spv")).to_contain_text("Tidak")

    # Taking every unit from a supervisor is refused, in Indonesian.
    manage = admin.locator("#manage")
    manage.get_by_label("Kode unit").fill("")
    manage.get_by_role("button", name="Simpan perubahan").click()
    expect(admin.get_by_role("alert")).to_contain_text("paling sedikit satu unit")
    _check_layout(admin)


def test_a_unit_head_links_telegram_with_a_code_and_its_qr(
    browser: Browser, contexts: list[BrowserContext], office: Office
) -> None:
    page = _page(browser, contexts)
    log_in(page, office, "kadis")
    expect(page.get_by_role("link", name="Pengguna")).to_have_count(0)
    response = page.goto(f"{office.base}/staff/users")
    assert response is not None and response.status == 403
    page.goto(f"{office.base}/staff/")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    form = {"csrf": token, "username": "siluman", "role": "admin", "units": ""}
    refused = page.request.post(f"{office.base}/staff/users", form=form)
    assert refused.status == 403  # the server refuses what the page does not offer
    with Session(office.engine) as s:
        assert "siluman" not in {u.username for u in users.list_users(s, actor=ADMIN)}
    page.get_by_role("link", name="Telegram").click()
    expect(page.get_by_role("heading", name="Tautan Telegram")).to_be_visible()
    expect(page.locator(".link-state")).to_contain_text("belum terhubung")
    _check_layout(page)

    page.get_by_role("button", name="Buat kode penautan").click()
    code = page.locator(".code-value").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    bot = office.policies.settings.public_bot_username
    link = link_deep_link(bot, code)
    assert link == f"https://t.me/{bot.lstrip('@')}?start=link_{code.replace('-', '')}"
    expect(page.locator("a.deep-link")).to_have_text(link)
    expect(page.locator("a.deep-link")).to_have_attribute("href", link)
    expect(page.locator("p", has_text=f"/link {code}")).to_be_visible()
    qr = page.locator("figure.qr > svg")
    expect(qr).to_have_count(1)  # drawn inline, from no other server
    assert page.locator("figure.qr img, figure.qr object, figure.qr iframe").count() == 0
    expect(qr.locator("path")).not_to_have_count(0)
    _check_layout(page)

    with Session(office.engine) as s:  # the bot redeems the code (as /start link_CODE does)
        redeem_link_code(s, code, chat(4711), now=office.policies.now())
        s.commit()
    page.get_by_role("link", name="Telegram").click()
    expect(page.locator(".link-state")).to_contain_text("sudah terhubung")
    admin = _page(browser, contexts)
    log_in(admin, office, "admin")
    admin.goto(f"{office.base}/staff/users")
    expect(admin.locator("table.users-list tr", has_text="kadis")).to_contain_text("Terhubung")
