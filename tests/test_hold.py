"""Holding an incomplete report ("tunda", SP4N-LAPOR!): before verification a handler asks the
reporter for what is missing; the verification clock pauses exactly as the later pause does
(DESIGN section 3, `in_progress <-> waiting_citizen`), and the answer brings the report back
to verification with every deadline moved by the time it waited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from admin_api import create_app
from bot.dispatcher import telegram_dispatcher
from core.access import Actor
from core.cases import service as svc
from core.cases.calendar import add_closed_day
from core.cases.models import Case, CaseEvent, CaseOutcome, CaseStatus
from core.cases.policy import IllegalTransition
from core.cases.sla import SlaPolicy
from core.outbox.models import OutboundMessage
from core.people.citizens import erase_citizen
from core.people.models import Role
from core.policies import build
from core.shared.config import Settings, load_settings
from core.shared.errors import InvalidInput
from tests.botkit import ScriptedCitizen, deliver_all, file_quick, onboard
from tests.contacts import telegram_citizen
from tests.factories import bearer, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
POLICY = svc.CasePolicy(sla=SlaPolicy(tz=WITA), complaints_per_day=100)
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 30 November 2026, 10:00 WITA
DESC = "Petugas loket meminta uang tambahan untuk mempercepat KTP-el saya."
QUESTION = "Mohon sebutkan tanggal dan loket tempat kejadian."


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=WITA)


class World:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
        spv = make_user(session, "spv", Role.supervisor, [self.unit])
        viewer = make_user(session, "baca", Role.viewer, [self.unit])
        admin = make_user(session, "admin", Role.admin)
        assert spv.id and viewer.id and admin.id and self.unit.id
        self.spv = Actor(spv.id, "spv", Role.supervisor, frozenset({self.unit.id}))
        self.viewer = Actor(viewer.id, "baca", Role.viewer, frozenset({self.unit.id}))
        self.admin = Actor(admin.id, "admin", Role.admin)
        self.citizen = telegram_citizen(session, 9001)
        session.flush()

    def file(self, now: datetime = T0) -> Case:
        assert self.unit.id is not None
        draft = svc.ComplaintDraft(unit_id=self.unit.id, category="pungli", description=DESC)
        return svc.file_complaint(self.s, self.citizen, draft, POLICY, now=now)


@pytest.fixture
def w(session: Session) -> World:
    return World(session)


def test_a_held_report_waits_with_its_clock_paused_and_comes_back_to_verification(
    w: World,
) -> None:
    case = w.file()
    verify_due, resolve_due = case.verify_due_at, case.resolve_due_at
    assert verify_due == end_of(date(2026, 12, 3))
    assert svc.allowed_steps(case, actor=w.spv) >= {"verify", "hold", "reject"}
    event = svc.hold(w.s, case, f"  {QUESTION} ", actor=w.spv, now=T0 + timedelta(hours=1))
    assert (event.kind, event.from_status, event.to_status) == (
        "info_requested", "received", "waiting_citizen",
    )  # fmt: skip
    assert event.body == QUESTION and event.visibility == "public"
    assert case.status == CaseStatus.waiting_citizen and case.due_at is None
    assert case.paused_at == T0 + timedelta(hours=1)
    notice = w.s.exec(select(OutboundMessage)).one()
    assert notice.template == "case_info_requested" and QUESTION in notice.params
    # While held: it may be rejected, noted, marked salah alamat; never resolved or verified.
    steps = svc.allowed_steps(case, actor=w.spv)
    assert {"reject", "note", "lapor", "misdirect"} <= steps
    assert not steps & {"verify", "hold", "resolve", "request_info", "assign"}
    with pytest.raises(IllegalTransition):
        svc.resolve(w.s, case, CaseOutcome.partly, "Selesai.", actor=w.spv, now=T0)
    with pytest.raises(IllegalTransition):
        svc.verify(w.s, case, POLICY, actor=w.spv, now=T0)
    # The citizen answers three days and six hours later: back to verification, every
    # deadline later by exactly that long.
    answered = T0 + timedelta(days=3, hours=7)
    svc.citizen_reply(w.s, w.citizen, case, "Tanggal 27 November, loket 2.", now=answered)
    waited = timedelta(days=3, hours=6)
    assert case.status == CaseStatus.received and case.paused_at is None
    assert case.verify_due_at == verify_due + waited
    assert case.resolve_due_at == resolve_due + waited
    assert case.due_at == case.verify_due_at
    assert "verify" in svc.allowed_steps(case, actor=w.spv)
    svc.verify(w.s, case, POLICY, actor=w.spv, now=answered)
    assert case.status == CaseStatus.verified


def test_only_a_handler_holds_a_received_report_of_a_reachable_reporter(w: World) -> None:
    case = w.file()
    with pytest.raises(InvalidInput):
        svc.hold(w.s, case, "   ", actor=w.spv, now=T0)
    assert "hold" not in svc.allowed_steps(case, actor=w.viewer)
    with pytest.raises(Exception, match="may not change cases"):
        svc.hold(w.s, case, QUESTION, actor=w.viewer, now=T0)
    svc.verify(w.s, case, POLICY, actor=w.spv, now=T0)
    assert "hold" not in svc.allowed_steps(case, actor=w.spv)
    with pytest.raises(IllegalTransition) as err:
        svc.hold(w.s, case, QUESTION, actor=w.spv, now=T0)
    assert err.value.why == "case.step_not_allowed"
    erased = w.file(T0 + timedelta(minutes=1))
    erase_citizen(w.s, w.citizen)
    w.s.refresh(erased)
    assert "hold" not in svc.allowed_steps(erased, actor=w.spv)
    with pytest.raises(InvalidInput):
        svc.hold(w.s, erased, QUESTION, actor=w.spv, now=T0 + timedelta(minutes=3))


def test_a_held_report_is_rejected_when_nothing_comes(w: World) -> None:
    case = w.file()
    svc.hold(w.s, case, QUESTION, actor=w.spv, now=T0)
    svc.reject(w.s, case, "Laporan tidak dilengkapi.", actor=w.spv, now=T0 + timedelta(days=14))
    assert case.status == CaseStatus.rejected and case.due_at is None


def test_a_report_in_progress_still_goes_back_to_its_handler(w: World) -> None:
    case = w.file()
    svc.verify(w.s, case, POLICY, actor=w.spv, now=T0)
    svc.assign(w.s, case, actor=w.spv, assignee_id=w.spv.user_id, now=T0)
    assert "reject" not in svc.allowed_steps(case, actor=w.spv)
    svc.request_info(w.s, case, QUESTION, actor=w.spv, now=T0)
    assert "reject" not in svc.allowed_steps(case, actor=w.spv)
    with pytest.raises(IllegalTransition):
        svc.reject(w.s, case, "Tidak.", actor=w.spv, now=T0)
    svc.citizen_reply(w.s, w.citizen, case, "Loket 2.", now=T0 + timedelta(hours=1))
    assert case.status == CaseStatus.in_progress


def test_erasure_while_held_brings_the_report_back_to_verification(w: World) -> None:
    case = w.file()
    svc.hold(w.s, case, QUESTION, actor=w.spv, now=T0)
    svc.reporter_erased(w.s, case, now=T0 + timedelta(days=1))
    assert case.status == CaseStatus.received and case.paused_at is None
    assert case.verify_due_at == end_of(date(2026, 12, 3)) + timedelta(days=1)


def test_a_closed_day_moves_the_deadline_of_a_held_report(w: World) -> None:
    case = w.file()
    svc.hold(w.s, case, QUESTION, actor=w.spv, now=T0)
    _, moved = add_closed_day(
        w.s, date(2026, 12, 2), "Libur daerah", POLICY.sla, actor=w.admin, now=T0
    )
    assert moved == 1
    w.s.refresh(case)
    assert case.verify_due_at == end_of(date(2026, 12, 4)) and case.due_at is None
    svc.citizen_reply(w.s, w.citizen, case, "Loket 2.", now=T0 + timedelta(days=1))
    assert case.verify_due_at == end_of(date(2026, 12, 4)) + timedelta(days=1)


def test_the_json_api_holds_a_report(settings: Settings, engine: Engine) -> None:
    policies = build(settings, engine, clock=lambda: T0)
    with Session(engine, expire_on_commit=False) as s:
        world = World(s)
        case = world.file()
        s.commit()
    with TestClient(create_app(policies)) as client:
        spv, baca = bearer(client, "spv"), bearer(client, "baca")
        r = client.post(f"/cases/{case.id}/hold", json={"question": QUESTION}, headers=baca)
        assert r.status_code == 403
        r = client.post(f"/cases/{case.id}/hold", json={"question": ""}, headers=spv)
        assert r.status_code == 422
        r = client.post(f"/cases/{case.id}/hold", json={"question": QUESTION}, headers=spv)
        assert r.status_code == 200, r.text
        assert r.json()["case"]["status"] == "waiting_citizen"
        assert r.json()["event"]["body"] == QUESTION
        again = client.post(f"/cases/{case.id}/hold", json={"question": QUESTION}, headers=spv)
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"


# The citizen answers in Telegram -------------------------------------------------------------


@pytest.fixture
def bot_settings(settings: Settings, tmp_path: Path, db_url: str) -> Settings:
    return load_settings(
        database_url=db_url,
        environment="test",
        telegram_bot_token="123456:TEST-TOKEN",
        attachments_dir=str(tmp_path / "att"),
        _env_file=None,
    )


async def test_the_citizen_completes_a_held_report_in_telegram(
    engine: Engine,
    citizen: Callable[[int], ScriptedCitizen],
    bot: Any,
    bot_settings: Settings,
) -> None:
    app, _tg = bot
    with Session(engine) as s:
        unit = make_unit(s, "kec-alak", "Kecamatan Alak")
        user = make_user(s, "spv", Role.supervisor, [unit])
        spv = Actor(user.id or 0, "spv", Role.supervisor, frozenset({unit.id or 0}))
        s.commit()
    c = citizen(6010)
    await onboard(c)
    ref = await file_quick(c)
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.reference == ref)).one()
        svc.hold(s, case, QUESTION, actor=spv)
        s.commit()
    assert await deliver_all(telegram_dispatcher(engine, app.bot)) == 1
    assert QUESTION in c.screen().text
    await c.press_data(f"case:reply:{ref}")
    assert QUESTION in c.screen().text
    await c.say("Tanggal 27 November 2026 di loket 2.")
    assert any("jawaban Anda untuk laporan" in m.text for m in c.messages())
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.reference == ref)).one()
        kinds = [
            e.kind
            for e in s.exec(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
            )
        ]
    assert case.status == "received" and case.paused_at is None and case.due_at is not None
    assert kinds == ["created", "info_requested", "citizen_replied"]
