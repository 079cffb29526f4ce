"""Linking a unit head's Telegram chat (API code -> bot /link), and the admin's digest
preview, chart and send-now routes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.cases.service import CasePolicy, ComplaintDraft, file_complaint
from core.cases.sla import SlaPolicy
from core.digests.models import DigestRun
from core.digests.service import IsoWeek
from core.masterdata.models import Unit
from core.outbox.models import OutboundMessage
from core.people.models import AppUser, Role
from core.shared.clock import utcnow
from core.shared.config import Settings
from core.shared.workers import worker_name
from tests.botkit import BotUnderTest
from tests.contacts import link_telegram, telegram_chat_of, telegram_citizen
from tests.factories import add_response, bearer, local, make_unit, make_user


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        make_user(s, "admin", Role.admin)
        make_user(s, "kadis", Role.unit_head, [unit])
        add_response(s, unit, [3] * 9, local(date(2026, 11, 10)))
        s.commit()
    with TestClient(create_app(settings, engine)) as c:
        yield c


def _h(client: TestClient, user: str) -> dict[str, str]:
    return bearer(client, user)


async def test_unit_head_links_telegram_with_a_one_time_code(
    client: TestClient, bot: BotUnderTest, engine: Engine
) -> None:
    chat = bot.chat(7777)  # the unit head's own chat with the bot
    admin = _h(client, "admin")
    users = {u["username"]: u for u in client.get("/users", headers=admin).json()}
    assert users["kadis"]["telegram_linked"] is False
    assert client.get("/users", headers=_h(client, "kadis")).status_code == 403
    r = client.post(f"/users/{users['kadis']['id']}/link-codes", headers=admin)
    assert r.status_code == 201
    code = r.json()["code"]
    assert r.json()["instruction"] == f"/link {code}"
    assert (
        client.post(
            f"/users/{users['kadis']['id']}/link-codes", headers=_h(client, "kadis")
        ).status_code
        == 403
    )

    await chat.say("/link")
    assert "Kirim kode penghubung" in chat.screen().text
    await chat.say("/link ABCD-EFGH")
    assert "tidak dikenal" in chat.screen().text
    await chat.say(f"/link {code}")
    assert "Akun kadis terhubung" in chat.screen().text
    await chat.say(f"/link {code}")
    assert "sudah dipakai" in chat.screen().text
    with Session(engine) as s:
        kadis = s.exec(select(AppUser).where(AppUser.username == "kadis")).one()
        assert telegram_chat_of(s, kadis) == 7777
    assert client.get("/users", headers=admin).json()[1]["telegram_linked"] is True


def test_digest_preview_chart_and_send_now(client: TestClient, engine: Engine) -> None:
    admin = _h(client, "admin")
    with Session(engine) as s:
        kadis = s.exec(select(AppUser).where(AppUser.username == "kadis")).one()
        link_telegram(s, kadis, 4242)
        s.commit()
    preview = client.get("/digests/dukcapil/2026-W46?lang=en", headers=admin)
    assert preview.status_code == 200
    # One response, fewer than IKM_MIN_RESPONSES (10): no figure, no grade.
    assert "IKM this week: not enough data (n = 1;" in preview.json()["text"]
    chart = client.get("/digests/dukcapil/2026-W46/chart.png", headers=admin)
    assert Image.open(io.BytesIO(chart.content)).size == (800, 400)
    assert client.get("/digests/dukcapil/2026-W46", headers=_h(client, "kadis")).status_code == 403
    assert client.get("/digests/dukcapil/46", headers=admin).status_code == 422
    sent = client.post("/digests/dukcapil/2026-W46/send", headers=admin)
    assert sent.status_code == 200 and sent.json() == {"queued_messages": 2}
    again = client.post("/digests/dukcapil/2026-W46/send", headers=admin)
    assert again.status_code == 409
    with Session(engine) as s:  # claimed as this process, so its death is noticed at once
        assert s.exec(select(DigestRun.claimed_by)).one() == worker_name()
    with Session(engine) as s:
        assert (
            len(s.exec(select(OutboundMessage).where(OutboundMessage.address == str(4242))).all())
            == 2
        )


def test_preview_of_the_week_under_way_counts_no_deadline_to_come(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    """A report filed a moment ago is open in this week's preview, not overdue."""
    with Session(engine) as s:
        unit = s.exec(select(Unit).where(Unit.code == "dukcapil")).one()
        draft = ComplaintDraft(
            unit_id=unit.id or 0, category="pungli", description="Petugas meminta uang tambahan."
        )
        now = utcnow()
        policy = CasePolicy(sla=SlaPolicy(tz=settings.tz))
        file_complaint(s, telegram_citizen(s, 4242), draft, policy, now=now)
        s.commit()
    week = IsoWeek.of(now.astimezone(settings.tz).date())
    r = client.get(f"/digests/dukcapil/{week}", headers=_h(client, "admin"))
    assert r.status_code == 200, r.text
    assert "Pengaduan: 1 baru, 1 terbuka, 0 terlambat, 0 selesai" in r.json()["text"]
