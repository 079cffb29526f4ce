"""Erasure and stored personal data, through the real bot: `/privacy` erasure explains what
happens to open reports and then forgets the citizen's notifications and stored updates;
stored updates carry no names and go once handled; old rows are pruned on schedule."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from telegram import Update

from app.scheduler import run_prune, run_prune_outbox
from bot import build_application
from bot.dispatcher import telegram_dispatcher
from bot.inbox import store_updates, strip_personal
from bot.runtime import BotRuntime
from bot.telegram_io import to_inbound
from core.access import Actor
from core.cases import service as svc
from core.cases.models import Case, CaseEvent, CaseStatus, Visibility
from core.cases.sla import SlaPolicy
from core.chat.models import ConversationState, InboundMessage, ProcessedMessage
from core.outbox.models import OutboundMessage
from core.people.citizens import erase_citizen
from core.people.models import AppUser, Role
from core.policies import build
from core.shared.config import ConfigError, Settings, load_settings
from tests.botkit import (
    BOT_USER,
    STORY,
    FakeTelegram,
    ScriptedCitizen,
    deliver_all,
    file_quick,
    onboard,
    start_update,
)
from tests.contacts import chat_of, citizen_of, link_telegram, outbound, telegram_citizen
from tests.factories import make_unit, make_user
from tests.waiting import until

App = Any
NAMES = ("Ani", "Lestari", "ani_kupang")
_update_ids = itertools.count(50_000_000)


class StoringCitizen(ScriptedCitizen):
    """A citizen whose updates go the way the runtime sends them: stored first (without
    names), then the stored copy is handled. Keeps what was written to the database."""

    def __init__(self, app: App, tg: FakeTelegram, engine: Engine, user_id: int, **names: str):
        super().__init__(app, tg, user_id, first_name=names.pop("first_name", "W"))
        self.user.update(names)
        self.engine = engine
        self.stored: list[str] = []

    def _chat(self) -> dict[str, Any]:
        names = {k: v for k, v in self.user.items() if k in ("first_name", "last_name", "username")}
        return {"id": self.user_id, "type": "private", **names}

    def raw(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(_update_ids), **payload}

    async def send_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = self.raw(payload)
        self.last_update = update
        [fresh] = store_updates(self.engine, [update])
        with Session(self.engine) as s:
            row = s.exec(
                select(InboundMessage).where(InboundMessage.message_id == str(update["update_id"]))
            ).one_or_none()
            assert row is not None
            self.stored.append(row.payload)
        await self.app.process_update(Update.de_json(fresh, self.app.bot))
        return update

    def text_update(self, text: str) -> dict[str, Any]:
        return self.raw({"message": self._message(text=text)})


@pytest.fixture
def cfg(tmp_path: Path, db_url: str) -> Settings:
    return load_settings(
        database_url=db_url,
        environment="test",
        telegram_bot_token="123456:TEST-TOKEN",
        attachments_dir=str(tmp_path / "att"),
        outbox_retention_days=30,
        _env_file=None,
    )


@pytest.fixture
def admin(engine: Engine) -> Actor:
    with Session(engine) as s:
        make_unit(s, "kec-alak", "Kecamatan Alak")
        user = make_user(s, "admin", Role.admin)
        s.commit()
        return Actor(user.id or 0, "admin", Role.admin)


@pytest.fixture
def bot_settings(cfg: Settings) -> Settings:
    return cfg


@pytest.fixture
def citizen(bot: tuple[App, FakeTelegram], engine: Engine) -> Callable[..., StoringCitizen]:
    app, tg = bot
    return lambda uid, **names: StoringCitizen(app, tg, engine, uid, **names)


def outbox_to(engine: Engine, chat_id: int) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(select(OutboundMessage).where(OutboundMessage.address == str(chat_id))).all()
        return sorted(row.status for row in rows)


def stored_chats(engine: Engine) -> list[int]:
    with Session(engine) as s:
        payloads = s.exec(select(InboundMessage.payload)).all()
    raws = [json.loads(p) for p in payloads]
    return sorted((r.get("message") or r["callback_query"]["message"])["chat"]["id"] for r in raws)


async def test_erasing_with_an_open_report_explains_then_forgets_the_chat(
    engine: Engine,
    admin: Actor,
    cfg: Settings,
    bot: tuple[App, FakeTelegram],
    citizen: Callable[..., StoringCitizen],
) -> None:
    app, tg = bot
    ani = citizen(6101, first_name="Ani", last_name="Lestari", username="ani_kupang")
    budi = citizen(6102, first_name="Budi")
    await onboard(ani)
    ref = await file_quick(ani)
    await onboard(budi)
    budi_ref = await file_quick(budi)
    policy = svc.CasePolicy.from_settings(cfg)

    def staff(reference: str, action: Callable[[Session, Case], object]) -> None:
        with Session(engine) as s:
            action(s, s.exec(select(Case).where(Case.reference == reference)).one())
            s.commit()

    dispatcher = telegram_dispatcher(engine, app.bot)
    for r in (ref, budi_ref):
        staff(r, lambda s, k: svc.verify(s, k, policy, actor=admin))
    assert await deliver_all(dispatcher) == 2
    for r in (ref, budi_ref):  # told to both, not sent yet
        staff(r, lambda s, k: svc.assign(s, k, actor=admin, assignee_id=admin.user_id))
    assert outbox_to(engine, 6101) == outbox_to(engine, 6102) == ["pending", "sent"]
    # Stored but not handled yet (queued behind the press below, say).
    store_updates(engine, [ani.text_update("halo lagi"), budi.text_update("halo")])
    assert stored_chats(engine) == [6101, 6102]

    await ani.say("/privacy")
    await ani.press("Hapus data saya")
    warning = ani.screen().text
    assert f"1 laporan yang belum selesai: {ref}." in warning
    assert "tetap ditangani petugas, tetapi tanpa identitas Anda" in warning
    assert "tidak akan lagi menerima kabar perkembangannya" in warning
    assert "tidak dapat dibatalkan" in warning
    assert ani.labels() == ["Ya, hapus", "Batal"]
    assert outbox_to(engine, 6101) == ["pending", "sent"]  # nothing happens before the press

    await ani.press("Ya, hapus")
    assert "telah dihapus" in ani.screen().text
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.reference == ref)).one()
        assert case.citizen_id is None  # the report goes on, without its reporter
        assert case.status == "in_progress" and case.description == STORY
        assert citizen_of(s, 6101) is None
    assert outbox_to(engine, 6101) == []
    assert outbox_to(engine, 6102) == ["pending", "sent"]  # another citizen's stay
    assert stored_chats(engine) == [6102]
    sent_to_ani = len(tg.sent_to(6101, "sendMessage"))
    assert await deliver_all(dispatcher) == 1  # Budi's notification only
    assert len(tg.sent_to(6101, "sendMessage")) == sent_to_ani


async def test_erase_screen_without_open_reports_and_privacy_notice(
    engine: Engine, admin: Actor, citizen: Callable[..., StoringCitizen]
) -> None:
    c = citizen(6103)
    await onboard(c, "en")
    await c.say("/privacy")
    notice = c.screen().text
    for part in (
        "Personal Data Protection Law (UU No. 27 of 2022)",
        "Telegram account number, chosen language and time of consent",
        "We do not store your Telegram name or username",
        "respondent profile",
        "photos (without EXIF/GPS data), location",
        "your answers to the staff's questions",
        "satisfied/not satisfied rating",
        "after 7 days at most",
        "Notifications we send you: 30 days",  # OUTBOX_RETENTION_DAYS=30
        "kept without your identity",
    ):
        assert part in notice, part
    await c.press("Erase my data")
    assert c.screen().text.startswith("Erase your personal data?")
    assert "unfinished" not in c.screen().text
    await c.press("Cancel")
    await c.press("Language")
    await c.press("Bahasa Indonesia")
    await c.say("/privacy")
    notice = c.screen().text
    assert "UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi" in notice
    assert (
        "paling lama 7 hari" in notice
        and "Pemberitahuan yang kami kirim kepada Anda: 30 hari" in notice
    )


async def test_stored_updates_carry_no_names_and_go_once_handled(
    engine: Engine, admin: Actor, citizen: Callable[..., StoringCitizen]
) -> None:
    ani = citizen(6104, first_name="Ani", last_name="Lestari", username="ani_kupang")
    await onboard(ani)
    ref = await file_quick(ani)  # the bot files a report from updates without names
    assert ref.startswith("KPG-")
    assert len(ani.stored) > 5
    for payload in ani.stored:
        assert not any(name in payload for name in NAMES), payload
    assert any(STORY in p for p in ani.stored)  # what replay needs stays
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(InboundMessage)).one() == 0
        assert s.exec(select(func.count()).select_from(ProcessedMessage)).one() == len(ani.stored)


def test_names_are_stripped_from_every_user_and_chat_in_an_update() -> None:
    ani = {
        "id": 77,
        "is_bot": False,
        "first_name": "Ani",
        "last_name": "Lestari",
        "username": "ani_kupang",
        "language_code": "id",
    }
    chat = {"id": 77, "type": "private", "first_name": "Ani", "username": "ani_kupang"}
    other = {"id": 78, "is_bot": False, "first_name": "Budi", "last_name": "Tefa"}
    raw: dict[str, Any] = {
        "update_id": 1,
        "message": {
            "message_id": 9,
            "date": 1_800_000_000,
            "chat": chat,
            "from": ani,
            "text": "Tolong bantu saya",
            "entities": [{"type": "text_mention", "offset": 0, "length": 9, "user": other}],
            "reply_to_message": {
                "message_id": 8,
                "date": 1_800_000_000,
                "chat": chat,
                "from": BOT_USER,
                "text": "?",
            },
            "forward_origin": {"type": "user", "date": 1, "sender_user": other},
            "contact": {"phone_number": "+6281234", "first_name": "Budi", "user_id": 78},
        },
    }
    clean = strip_personal(raw)
    text = json.dumps(clean)
    for secret in ("Lestari", "ani_kupang", "Tefa", "+6281234", '"Budi"', '"Ani"'):
        assert secret not in text, secret
    assert clean["message"]["text"] == "Tolong bantu saya"  # what the citizen wrote stays
    assert raw["message"]["from"]["first_name"] == "Ani"  # the caller's copy is untouched
    update = Update.de_json(clean, None)  # still a valid update for the bot
    assert to_inbound(update, "asnfb_bot") == to_inbound(Update.de_json(raw, None), "asnfb_bot")


async def test_a_restart_replays_stored_updates_without_names(
    engine: Engine, settings: Settings
) -> None:
    cfg = load_settings(
        database_url=settings.database_url,
        environment="test",
        telegram_bot_token="123456:TEST-TOKEN",
        telegram_webhook_url="https://bot.example.go.id/telegram/webhook",
        telegram_webhook_secret="s3cret-token-for-tests_0123456789",
        _env_file=None,
    )
    update = start_update(7, 6105)
    update["message"]["from"].update(last_name="Lestari", username="ani_kupang")
    store_updates(engine, [update])  # stored, then the process died before handling it
    tg = FakeTelegram()
    runtime = BotRuntime(build_application(cfg, engine, request=tg), engine, cfg)
    await runtime.start()
    try:
        [answer] = await until(lambda: tg.sent_to(6105, "sendMessage"), "the replayed answer")
        assert "Pilih bahasa" in answer["text"]
        with Session(engine) as s:
            assert s.get(ConversationState, ("telegram", "6105")) is not None
            assert s.exec(select(func.count()).select_from(InboundMessage)).one() == 0
    finally:
        await runtime.stop()


def test_erasure_keeps_digests_to_a_staff_chat_of_the_same_person(engine: Engine) -> None:
    with Session(engine) as s:
        head = make_user(s, "head", Role.unit_head, [make_unit(s, "kec-oebobo")])
        link_telegram(s, head, 6106)
        citizen = telegram_citizen(s, 6106)
        s.add(outbound(6106, template="plain", params="{}"))
        s.commit()
        erase_citizen(s, citizen)
        s.commit()
        assert [m.template for m in s.exec(select(OutboundMessage)).all()] == ["plain"]
        assert s.exec(select(AppUser).where(AppUser.username == "head")).one()


def test_prune_removes_handled_and_week_old_updates(engine: Engine, settings: Settings) -> None:
    now = datetime.now(UTC)
    store_updates(engine, [start_update(1, 1), start_update(2, 2)])
    with Session(engine) as s:
        s.add(ProcessedMessage(channel="telegram", message_id="1", processed_at=now))
        s.commit()
    policies = build(settings, engine)
    assert run_prune(policies, now=now) == 1  # handled: gone at once
    with Session(engine) as s:
        assert s.exec(select(InboundMessage.message_id)).all() == ["2"]
    assert run_prune(policies, now=now + timedelta(days=6)) == 0
    assert run_prune(policies, now=now + timedelta(days=7, minutes=1)) == 2
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(InboundMessage)).one() == 0


def test_outbox_rows_are_pruned_after_the_configured_days(
    engine: Engine, settings: Settings
) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)

    def row(status: str, days_ago: int) -> OutboundMessage:
        at = now - timedelta(days=days_ago)
        sent_at = at if status == "sent" else None
        return outbound(days_ago, template=status, status=status, created_at=at, sent_at=sent_at)

    with Session(engine) as s:
        s.add_all([row("sent", 91), row("sent", 89), row("failed", 95), row("pending", 120)])
        s.commit()
    assert settings.outbox_retention_days == 90
    assert run_prune_outbox(build(settings, engine), now=now) == 2
    with Session(engine) as s:
        left = sorted((m.status, chat_of(m)) for m in s.exec(select(OutboundMessage)).all())
    assert left == [("pending", 120), ("sent", 89)]  # pending ones wait to be delivered
    shorter = load_settings(
        database_url=settings.database_url, outbox_retention_days=30, _env_file=None
    )
    assert run_prune_outbox(build(shorter, engine), now=now) == 1
    with pytest.raises(ConfigError, match="OUTBOX_RETENTION_DAYS"):
        load_settings(outbox_retention_days=0, _env_file=None)
    with pytest.raises(ConfigError, match="OUTBOX_RETENTION_DAYS"):
        load_settings(outbox_retention_days=5000, _env_file=None)


def test_a_case_waiting_for_an_erased_reporter_runs_again(
    engine: Engine, settings: Settings
) -> None:
    """Nobody can answer a question to a reporter who erased their data: the case goes back
    to in_progress and its SLA clock runs again, with an internal event saying why."""
    policy = svc.CasePolicy(sla=SlaPolicy(tz=settings.tz))
    t0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "unit-a")
        admin_user = make_user(s, "admin", Role.admin)
        admin = Actor(admin_user.id or 0, "admin", Role.admin)
        citizen = telegram_citizen(s, 7_100_001)
        case = svc.file_complaint(
            s,
            citizen,
            svc.ComplaintDraft(
                unit_id=unit.id or 0,
                category="pungli",
                description="Petugas meminta uang tambahan di loket pelayanan.",
            ),
            policy,
            now=t0,
        )
        svc.verify(s, case, policy, actor=admin, now=t0 + timedelta(hours=1))
        svc.assign(s, case, actor=admin, assignee_id=admin_user.id, now=t0 + timedelta(hours=2))
        svc.request_info(
            s, case, "Jam berapa kejadiannya?", actor=admin, now=t0 + timedelta(hours=3)
        )
        assert case.status == CaseStatus.waiting_citizen and case.due_at is None
        erase_citizen(s, citizen)
        s.commit()
        s.refresh(case)
        assert case.status == CaseStatus.in_progress.value
        assert case.citizen_id is None and case.due_at is not None
        last = s.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id).desc())
        ).first()
        assert last is not None and last.kind == "reporter_erased"
        assert last.visibility == Visibility.internal.value
