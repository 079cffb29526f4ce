"""A case left waiting on the citizen's answer closes after WAITING_CITIZEN_CLOSE_DAYS, with a
public event saying why, on every channel: the daily job (app.scheduler), the lifecycle's
choice of end (held reports are rejected, others closed), the Telegram reporter's notice,
the bot's and the web's timelines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.scheduler import build_scheduler, run_close_unanswered
from app.site import create_site
from conversations.i18n import t as bot_t
from core.access import Actor, actor_for
from core.cases import lifecycle
from core.cases import service as svc
from core.cases.models import Case, CaseEvent, CaseEventKind, CaseStatus, Visibility
from core.cases.policy import ComplaintDraft
from core.cases.web_reports import WebReporter, file_web_complaint, shown_code
from core.outbox.models import MessageTemplate, OutboundMessage
from core.people.models import Intake, Role
from core.policies import Policies, build
from core.shared.config import Settings
from tests.contacts import telegram_citizen
from tests.factories import make_unit, make_user

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 WITA
DAYS = 14


def _policies(settings: Settings, engine: Engine, now: datetime) -> Policies:
    return build(settings, engine, clock=lambda: now)


def _office(session: Session) -> tuple[int, Actor]:
    unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
    spv = make_user(session, "spv", Role.supervisor, [unit])
    assert unit.id is not None and spv.id is not None
    actor = actor_for(session, spv.id)
    assert actor is not None
    return unit.id, actor


def _telegram_case(
    session: Session, policies: Policies, unit_id: int, user_id: int, *, at: datetime
) -> Case:
    draft = ComplaintDraft(
        unit_id=unit_id, category="lainnya", description="Antrean KTP-el panjang sekali hari ini."
    )
    return svc.file_complaint(
        session, telegram_citizen(session, user_id), draft, policies.cases, now=at
    )


def _asked_in_progress(
    session: Session, policies: Policies, case: Case, actor: Actor, at: datetime
) -> None:
    lifecycle.verify(session, case, policies.cases, actor=actor, now=at)
    lifecycle.assign(session, case, actor=actor, assignee_id=actor.user_id, now=at)
    lifecycle.request_info(session, case, "Di loket mana Anda mengantre?", actor=actor, now=at)


def _events(session: Session, case: Case, kind: CaseEventKind) -> list[CaseEvent]:
    return list(
        session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == kind.value)
        ).all()
    )


def test_a_case_waiting_longer_than_the_window_closes_and_one_inside_it_stays(
    settings: Settings, engine: Engine
) -> None:
    policies = _policies(settings, engine, T0)
    with Session(engine, expire_on_commit=False) as s:
        unit_id, actor = _office(s)
        old = _telegram_case(s, policies, unit_id, 7001, at=T0)
        _asked_in_progress(s, policies, old, actor, T0)
        held = _telegram_case(s, policies, unit_id, 7002, at=T0)
        lifecycle.hold(s, held, "Lampirkan nomor antrean Anda.", actor=actor, now=T0)
        recent = _telegram_case(s, policies, unit_id, 7003, at=T0)
        _asked_in_progress(s, policies, recent, actor, T0 + timedelta(days=5))
        s.commit()
        due_before = old.resolve_due_at
    assert settings.waiting_citizen_close_days == DAYS
    # Day 14 by the process's clock: not yet.
    assert run_close_unanswered(_policies(settings, engine, T0 + timedelta(days=DAYS))) == 0
    later = T0 + timedelta(days=DAYS, minutes=1)
    assert run_close_unanswered(_policies(settings, engine, later)) == 2
    with Session(engine) as s:
        old_now = s.get(Case, old.id)
        held_now = s.get(Case, held.id)
        recent_now = s.get(Case, recent.id)
        assert old_now is not None and held_now is not None and recent_now is not None
        # In progress: closed, without an outcome; the deadline moved by the time waited.
        assert old_now.status == CaseStatus.closed and old_now.outcome is None
        assert old_now.closed_at is not None and old_now.paused_at is None
        assert old_now.resolve_due_at > due_before
        # Held before verification: the lifecycle allows only a rejection, with the reason.
        assert held_now.status == CaseStatus.rejected
        assert held_now.reject_reason is not None and "14 days" in held_now.reject_reason
        # Inside the window: still waiting for the citizen.
        assert recent_now.status == CaseStatus.waiting_citizen
        for case in (old_now, held_now):
            (event,) = _events(s, case, CaseEventKind.closed_unanswered)
            assert event.visibility == Visibility.public.value and event.actor_kind == "system"
            # The Telegram reporter is told, on their channel.
            (notice,) = s.exec(
                select(OutboundMessage).where(OutboundMessage.case_event_id == event.id)
            ).all()
            assert notice.channel == "telegram"
            assert notice.template == MessageTemplate.case_closed.value
            assert json.loads(notice.params)["ref"] == case.reference
        assert not _events(s, recent_now, CaseEventKind.closed_unanswered)
    # Run again (a second scheduler, a restart): nothing more happens.
    assert run_close_unanswered(_policies(settings, engine, later + timedelta(minutes=1))) == 0


def test_the_timeline_says_why_in_both_languages_in_the_bot_and_on_the_web(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    for lang in ("id", "en"):
        label = bot_t(lang, "event.closed_unanswered")
        assert label and label != "event.closed_unanswered"
    assert "tidak dijawab" in bot_t("id", "event.closed_unanswered")
    policies = _policies(settings, engine, T0)
    with Session(engine, expire_on_commit=False) as s:
        unit_id, actor = _office(s)
        draft = ComplaintDraft(
            unit_id=unit_id, category="lainnya",
            description="Petugas tidak ada di loket selama jam layanan.", channel=Intake.web,
        )  # fmt: skip
        filed = file_web_complaint(
            s, draft, policies.cases, WebReporter(), device_token="a-web-device-token-0123456789",
            secret=settings.pseudonym_key, attachments_root=tmp_path, max_photo_bytes=5_000_000,
            now=T0,
        )  # fmt: skip
        _asked_in_progress(s, policies, filed.case, actor, T0)
        s.commit()
    later = T0 + timedelta(days=DAYS, hours=1)
    assert run_close_unanswered(_policies(settings, engine, later)) == 1
    client = TestClient(create_site(_policies(settings, engine, later)))
    page = client.get(f"/lacak/{filed.case.reference}/{shown_code(filed.code)}")
    assert page.status_code == 200
    assert "Ditutup karena pertanyaan petugas tidak dijawab dalam batas waktu" in page.text
    assert "Petugas bertanya:" not in page.text  # nothing waits for an answer now


def test_the_job_runs_daily_on_the_autoclose_schedule(settings: Settings, engine: Engine) -> None:
    scheduler = build_scheduler(build(settings, engine))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert "close-unanswered" in jobs
    assert str(jobs["close-unanswered"].trigger) == str(jobs["autoclose"].trigger)


@pytest.mark.parametrize("days", [1, 30])
def test_the_window_is_the_setting(settings: Settings, engine: Engine, days: int) -> None:
    configured = settings.model_copy(update={"waiting_citizen_close_days": days})
    policies = _policies(configured, engine, T0)
    with Session(engine, expire_on_commit=False) as s:
        unit_id, actor = _office(s)
        case = _telegram_case(s, policies, unit_id, 7101, at=T0)
        _asked_in_progress(s, policies, case, actor, T0)
        s.commit()
    edge = T0 + timedelta(days=days)
    assert run_close_unanswered(_policies(configured, engine, edge)) == 0
    assert run_close_unanswered(_policies(configured, engine, edge + timedelta(hours=1))) == 1
