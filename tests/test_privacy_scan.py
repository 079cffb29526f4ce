"""Every GET route of the admin API, as every non-admin role: an anonymous reporter's
identity appears in no response. (Admins may see it; the scan checks that it is there.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.access import Actor
from core.cases import service as svc
from core.cases.models import CaseOutcome, Privacy
from core.cases.reminders import send_reminders
from core.cases.sla import SlaPolicy
from core.digests.service import IsoWeek, send_unit_digest
from core.evaluations import service as ev
from core.masterdata.models import Unit
from core.outbox.models import OutboundMessage
from core.people.models import AppUser, Role
from core.shared.clock import utcnow
from core.shared.config import Settings
from tests.contacts import chat_of, link_telegram, telegram_chat_of, telegram_citizen
from tests.factories import (
    PASSWORD,
    add_response,
    local,
    make_officer,
    make_service,
    make_unit,
    make_user,
)

REPORTER = 555_123_456
ROLES = ("supervisor", "unit_head", "viewer")


@pytest.fixture
def world(settings: Settings, engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    policy = svc.CasePolicy(sla=SlaPolicy(tz=settings.tz))
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "unit-a", "Unit A")
        service = make_service(s, unit, "KTP-el")
        officer = make_officer(s, unit, "Yohanes Ndun")
        admin_user = make_user(s, "admin", Role.admin)
        users = {r: make_user(s, r, Role(r), [unit]) for r in ROLES}
        admin = Actor(admin_user.id or 0, "admin", Role.admin)
        citizen = telegram_citizen(s, REPORTER)
        case = svc.file_complaint(
            s,
            citizen,
            svc.ComplaintDraft(
                unit_id=unit.id or 0,
                officer_id=officer.id,
                category="pungli",
                privacy=Privacy.anonim,
                description="Petugas meminta uang agar berkas cepat selesai.",
                photos=("f1",),
            ),
            policy,
        )
        svc.verify(s, case, policy, actor=admin)
        svc.assign(s, case, actor=admin, assignee_id=users["supervisor"].id)
        svc.resolve(s, case, CaseOutcome.substantiated, "Petugas ditegur.", actor=admin)
        add_response(
            s, unit, [3] * 9, local(date(2026, 11, 10)), service, officer, citizen_id=citizen.id
        )
        period = ev.create_period(s, "quarterly", date(2026, 10, 1), ["unit-a"], actor=admin)
        ev.compute_period(s, period, ev.EvaluationPolicy(), settings.tz, actor=admin)
        evaluation = ev.evaluations(s, period)[0]
        s.commit()
        ids = {
            "code": "unit-a",
            "case_id": str(case.id),
            "attachment_id": "1",
            "officer_id": str(officer.id),
            "service_id": str(service.id),
            "period_id": str(period.id),
            "evaluation_id": str(evaluation.id),
            "user_id": str(users["unit_head"].id),
            "week": str(IsoWeek.of(date.today())),
        }
    with TestClient(create_app(settings, engine)) as client:
        yield client, ids


def crawl(client: TestClient, ids: dict[str, str], user: str) -> list[tuple[str, int, bytes]]:
    token = client.post("/auth/token", data={"username": user, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    query = "?unit=unit-a&start=2026-10-01&end=2026-12-31&lang=id"
    out = []
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        if "get" not in ops or path in ("/docs", "/redoc", "/openapi.json"):
            continue
        url = path.format(**ids) + query
        r = client.get(url, headers=headers)
        out.append((url, r.status_code, r.content))
    return out


def test_no_anonymous_reporter_in_any_response(world: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = world
    needle = str(REPORTER).encode()
    for role in ROLES:
        responses = crawl(client, ids, role)
        assert len(responses) >= 20
        assert any(
            code == 200 and url.startswith(f"/cases/{ids['case_id']}?")
            for url, code, _ in responses
        )
        leaks = [url for url, _, body in responses if needle in body]
        assert leaks == [], f"{role} sees the reporter in {leaks}"
    admin = crawl(client, ids, "admin")
    assert any(needle in body for _, _, body in admin)  # the scan can find it when it is there


def test_no_anonymous_reporter_in_any_staff_message(
    world: tuple[TestClient, dict[str, str]], engine: Engine, settings: Settings
) -> None:
    """Every text queued for staff (digests, reminders, alerts) is scanned the same way."""
    with Session(engine) as s:
        for n, user in enumerate(s.exec(select(AppUser)).all()):
            link_telegram(s, user, 60_000 + n)
        s.commit()
        unit_id = s.exec(select(Unit.id).where(Unit.code == "unit-a")).one()
    now = utcnow()
    week = IsoWeek.of(now.astimezone(settings.tz).date())
    send_unit_digest(engine, unit_id or 0, week, settings.tz, 100, "scan:1:1", now=now)
    send_reminders(engine, SlaPolicy(tz=settings.tz), now=now + timedelta(days=90))
    with Session(engine) as s:
        staff = {telegram_chat_of(s, u) for u in s.exec(select(AppUser)).all()}
        texts = [m.params for m in s.exec(select(OutboundMessage)).all() if chat_of(m) in staff]
    assert texts, "no message was queued for staff"
    leaks = [t for t in texts if str(REPORTER) in t]
    assert leaks == []
