"""Removing a staff account's Telegram link (issue 15: "each user sees whether their Telegram
is linked, and links it from the console"): one's own always, another's only for an account
manager (a lost phone). Afterwards no digest or reminder goes to that chat, staff messages
still waiting for it are not sent, and the access audit says who removed it. In core, through
the admin API (DELETE /users/{id}/telegram-link, beside its link codes) and in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from admin_api import create_app
from core.access import actor_for
from core.cases.reminders import send_reminders
from core.cases.service import CasePolicy, ComplaintDraft, file_complaint
from core.cases.sla import SlaPolicy
from core.digests.delivery import digest_recipients, send_unit_digest
from core.digests.figures import IsoWeek
from core.outbox.models import OutboxStatus
from core.people.links import UNLINKED_ERROR, unlink_telegram
from core.people.models import AccessAudit, AppUser, AuditAction, Role
from core.shared.clock import utcnow
from core.shared.config import Settings
from core.shared.errors import Forbidden, NotFound
from tests.contacts import link_telegram, messages_to, outbound, telegram_chat_of, telegram_citizen
from tests.factories import bearer, make_unit, make_user
from tests.test_console_browser import no_horizontal_scroll, serious_violations
from tests.test_console_case import Office, log_in, office

__all__ = ["office"]
KADIS_CHAT, WAKIL_CHAT = 7001, 7002


def _fits(page: Page) -> bool:
    """No serious accessibility violation, and nothing wider than a phone."""
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 740})
    fits = no_horizontal_scroll(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    return fits


def _audit(session: Session, user_id: int) -> list[tuple[int | None, str, str | None]]:
    rows = session.exec(
        select(AccessAudit)
        .where(AccessAudit.target_id == user_id, AccessAudit.target_kind == "user")
        .where(AccessAudit.action == AuditAction.user_changed.value)
        .order_by(col(AccessAudit.id))
    ).all()
    return [(row.actor_user_id, row.action, row.detail) for row in rows]


@pytest.fixture
def heads(engine: Engine) -> dict[str, int]:
    """Two unit heads of dukcapil, each with their own Telegram chat, and an admin."""
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        kadis = make_user(s, "kadis", Role.unit_head, [unit])
        wakil = make_user(s, "wakil", Role.unit_head, [unit])
        admin = make_user(s, "admin", Role.admin)
        link_telegram(s, kadis, KADIS_CHAT)
        link_telegram(s, wakil, WAKIL_CHAT)
        s.commit()
        return {"unit": unit.id or 0, "kadis": kadis.id or 0, "wakil": wakil.id or 0,
                "admin": admin.id or 0}  # fmt: skip


# Core ----------------------------------------------------------------------------------------


def test_a_unit_head_unlinks_their_chat_and_no_digest_or_reminder_goes_there(
    engine: Engine, settings: Settings, heads: dict[str, int]
) -> None:
    now = utcnow()
    with Session(engine) as s:
        draft = ComplaintDraft(
            unit_id=heads["unit"], category="pungli", description="Petugas meminta uang tambahan."
        )
        case = file_complaint(
            s, telegram_citizen(s, 4242), draft, CasePolicy(sla=SlaPolicy(tz=settings.tz)),
            now=now,
        )  # fmt: skip
        reference = case.reference
        # A reminder queued for the chat before the link is removed, not yet sent.
        s.add(outbound(KADIS_CHAT, template="plain", params='{"text": "Pengingat"}'))
        s.commit()
        assert [u.username for u in digest_recipients(s, heads["unit"])] == ["kadis", "wakil"]

    with Session(engine) as s:
        kadis = actor_for(s, heads["kadis"])
        assert kadis is not None
        assert unlink_telegram(s, heads["kadis"], actor=kadis, now=now) is True
        s.commit()
    with Session(engine) as s:
        assert telegram_chat_of(s, s.get_one(AppUser, heads["kadis"])) is None
        assert [u.username for u in digest_recipients(s, heads["unit"])] == ["wakil"]
        waiting = messages_to(s, KADIS_CHAT)
        assert [(m.status, m.last_error) for m in waiting] == [
            (OutboxStatus.failed.value, UNLINKED_ERROR)
        ]
        assert _audit(s, heads["kadis"]) == [
            (heads["kadis"], "user_changed", "own Telegram link removed")
        ]

    week = IsoWeek.of(now.astimezone(settings.tz).date())
    assert send_unit_digest(engine, heads["unit"], week, settings.tz, 100, "t:1:1", now=now)
    assert send_reminders(engine, SlaPolicy(tz=settings.tz), now=now + timedelta(days=90)) == 1
    with Session(engine) as s:
        assert len(messages_to(s, KADIS_CHAT)) == 1  # only the one that was cancelled
        texts = [m.params for m in messages_to(s, WAKIL_CHAT)]
        assert any("Pengaduan" in text for text in texts)  # the digest went to the other head
        assert any("Pengingat SLA" in text and reference in text for text in texts)

    with Session(engine) as s:  # nothing left to remove: no second audit row
        kadis = actor_for(s, heads["kadis"])
        assert kadis is not None
        assert unlink_telegram(s, heads["kadis"], actor=kadis, now=now) is False
        s.commit()
        assert len(_audit(s, heads["kadis"])) == 1


def test_only_an_account_manager_unlinks_another_account(
    engine: Engine, heads: dict[str, int]
) -> None:
    with Session(engine) as s:
        kadis = actor_for(s, heads["kadis"])
        admin = actor_for(s, heads["admin"])
        assert kadis is not None and admin is not None
        with pytest.raises(Forbidden) as refused:
            unlink_telegram(s, heads["wakil"], actor=kadis)
        assert refused.value.why == "users.unlink_other"
        assert telegram_chat_of(s, s.get_one(AppUser, heads["wakil"])) == WAKIL_CHAT
        with pytest.raises(NotFound):
            unlink_telegram(s, 999_999, actor=admin)
        assert unlink_telegram(s, heads["wakil"], actor=admin) is True
        s.commit()
        assert telegram_chat_of(s, s.get_one(AppUser, heads["wakil"])) is None
        assert _audit(s, heads["wakil"]) == [
            (heads["admin"], "user_changed", "Telegram link removed")
        ]


# Admin API -----------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings, engine: Engine, heads: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as c:
        yield c


def test_the_api_removes_a_telegram_link(client: TestClient, heads: dict[str, int]) -> None:
    admin, kadis = bearer(client, "admin"), bearer(client, "kadis")
    r = client.delete(f"/users/{heads['wakil']}/telegram-link", headers=kadis)
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    r = client.delete(f"/users/{heads['wakil']}/telegram-link", headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["username"], r.json()["telegram_linked"]) == ("wakil", False)
    r = client.delete(f"/users/{heads['kadis']}/telegram-link", headers=kadis)  # own
    assert r.status_code == 200 and r.json()["telegram_linked"] is False
    listed = {u["username"]: u for u in client.get("/users", headers=admin).json()}
    assert not listed["kadis"]["telegram_linked"] and not listed["wakil"]["telegram_linked"]
    r = client.delete("/users/999999/telegram-link", headers=admin)
    assert r.status_code == 404


# Console (Chromium) --------------------------------------------------------------------------


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_a_unit_head_unlinks_their_own_telegram_and_may_link_again(
    page: Page, office: Office
) -> None:
    with Session(office.engine) as s:
        link_telegram(s, s.get_one(AppUser, office.ids["kadis"]), 4711)
        link_telegram(s, s.get_one(AppUser, office.ids["admin"]), 4712)
        s.commit()
        assert [u.username for u in digest_recipients(s, office.ids["dukcapil"])] == ["kadis"]
    log_in(page, office, "kadis")
    page.get_by_role("link", name="Telegram").click()
    expect(page.locator(".link-state")).to_contain_text("sudah terhubung")
    assert _fits(page)
    page.get_by_role("button", name="Putuskan tautan Telegram").click()
    expect(page.get_by_role("status")).to_contain_text("Tautan Telegram Anda telah diputus")
    expect(page.locator(".link-state")).to_contain_text("belum terhubung")
    expect(page.get_by_role("button", name="Putuskan tautan Telegram")).to_have_count(0)
    expect(page.get_by_role("button", name="Buat kode penautan")).to_be_visible()
    assert _fits(page)
    with Session(office.engine) as s:
        assert digest_recipients(s, office.ids["dukcapil"]) == []
        assert telegram_chat_of(s, s.get_one(AppUser, office.ids["kadis"])) is None

    # Someone else's link is not theirs to remove: the server refuses, the link stays.
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    refused = page.request.post(
        f"{office.base}/staff/users/{office.ids['admin']}/telegram-unlink", form={"csrf": token}
    )
    assert refused.status == 403
    with Session(office.engine) as s:
        assert telegram_chat_of(s, s.get_one(AppUser, office.ids["admin"])) == 4712

    # Linking again works as the first time.
    page.get_by_role("button", name="Buat kode penautan").click()
    expect(page.locator(".code-value")).to_be_visible()


@pytest.mark.browser
def test_an_admin_unlinks_another_accounts_telegram(page: Page, office: Office) -> None:
    with Session(office.engine) as s:
        link_telegram(s, s.get_one(AppUser, office.ids["kadis"]), 4711)
        s.commit()
    log_in(page, office, "admin")
    page.goto(f"{office.base}/staff/users")
    row = page.locator("table.users-list tr", has_text="kadis")
    expect(row).to_contain_text("Terhubung")
    row.get_by_role("link", name="Kelola kadis").click()
    manage = page.locator("#manage")
    manage.get_by_role("button", name="Putuskan tautan Telegram").click()
    expect(page.get_by_role("status")).to_contain_text("Tautan Telegram akun itu telah diputus")
    expect(page.locator("#manage")).to_contain_text("Belum terhubung")
    expect(page.locator("table.users-list tr", has_text="kadis")).to_contain_text("Belum terhubung")
    expect(
        page.locator("#manage").get_by_role("button", name="Putuskan tautan Telegram")
    ).to_have_count(0)
    assert _fits(page)
    with Session(office.engine) as s:
        assert telegram_chat_of(s, s.get_one(AppUser, office.ids["kadis"])) is None
        assert _audit(s, office.ids["kadis"]) == [
            (office.ids["admin"], "user_changed", "Telegram link removed")
        ]
