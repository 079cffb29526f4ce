"""One composition root: a process builds its settings, engine, policies and clock once
(`core.policies.build`, called by app/) and the API, the bot and the scheduler use those,
never a policy of their own."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from app.scheduler import run_autoclose
from bot import build_application
from bot.application import FLOW_KEY
from conversations.engine import FlowConfig
from core.cases.models import Case
from core.cases.policy import CasePolicy
from core.evaluations.rules import EvaluationPolicy
from core.people.login_limits import LoginPolicy
from core.people.models import Role
from core.policies import Policies, build
from core.shared.config import Settings
from tests.botkit import FakeTelegram, ScriptedCitizen, file_quick, onboard
from tests.factories import PASSWORD, make_unit, make_user


def _no_rebuilding(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, building a policy from settings fails the test."""

    def rebuilt(cls: type, settings: Settings) -> None:
        raise AssertionError(f"{cls.__name__} built again after the process started")

    for policy in (CasePolicy, EvaluationPolicy, LoginPolicy):
        monkeypatch.setattr(policy, "from_settings", classmethod(rebuilt))


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their (UTC) zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _resolved_case(engine: Engine, resolved_at: datetime) -> None:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil")
        s.add(
            Case(
                reference="KPG-2611-0001",
                unit_id=unit.id or 0,
                category="lainnya",
                description="x" * 30,
                status="resolved",
                resolved_at=resolved_at,
                verify_due_at=resolved_at,
                resolve_due_at=resolved_at,
            )
        )
        s.commit()


def test_api_logins_follow_the_policies_the_process_built(
    settings: Settings, engine: Engine
) -> None:
    with Session(engine) as s:
        make_user(s, "spv", Role.admin)
        s.commit()
    strict = replace(build(settings, engine), logins=LoginPolicy(free_failures=1))
    with TestClient(create_app(strict)) as client:
        wrong = {"username": "spv", "password": "not-the-password"}
        assert client.post("/auth/token", data=wrong).status_code == 401
        locked = client.post("/auth/token", data={"username": "spv", "password": PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_api_requests_do_not_build_policies(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _resolved_case(engine, datetime.now(UTC))
    with Session(engine) as s:
        make_user(s, "spv", Role.admin)
        s.commit()
    app = create_app(settings, engine)  # the old call shape builds the policies once, here
    assert isinstance(app.state.policies, Policies)
    _no_rebuilding(monkeypatch)
    with TestClient(app) as client:
        r = client.post("/auth/token", data={"username": "spv", "password": PASSWORD})
        assert r.status_code == 200, r.text
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        case_id = client.get("/cases", headers=auth).json()["items"][0]["id"]
        detail = client.get(f"/cases/{case_id}", headers=auth)
        assert detail.status_code == 200 and detail.json()["case"]["reference"] == "KPG-2611-0001"


def test_bot_uses_the_policies_it_was_given(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    policies = build(settings.model_copy(update={"telegram_bot_token": "1:test"}), engine)
    _no_rebuilding(monkeypatch)
    app = build_application(policies, request=FakeTelegram())
    flow: FlowConfig = app.bot_data[FLOW_KEY]
    assert flow.case_policy is policies.cases
    with pytest.raises(TypeError, match="takes no engine"):
        build_application(policies, engine)  # type: ignore[call-overload]


def test_scheduled_autoclose_reads_the_process_clock(settings: Settings, engine: Engine) -> None:
    resolved = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    _resolved_case(engine, resolved)
    policies = build(settings, engine, clock=lambda: resolved + timedelta(days=13))
    assert run_autoclose(policies) == 0  # day 13 by the process's clock: not yet
    later = replace(policies, clock=lambda: resolved + timedelta(days=14, minutes=1))
    assert run_autoclose(later) == 1
    with Session(engine) as s:
        assert s.exec(select(Case.status)).one() == "closed"


async def test_a_report_filed_through_the_bot_is_dated_by_the_process_clock(
    settings: Settings, engine: Engine
) -> None:
    fixed = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
    with Session(engine) as s:
        make_unit(s, "kec-alak", "Kecamatan Alak")
        s.commit()
    tg = FakeTelegram()
    app = build_application(build(settings, engine, clock=lambda: fixed), request=tg)
    await app.initialize()
    try:
        citizen = ScriptedCitizen(app, tg, 7101)
        await onboard(citizen)
        reference = await file_quick(citizen)
    finally:
        await app.shutdown()
    assert reference.startswith("KPG-2603-")  # the month of the process's clock, not today's
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.reference == reference)).one()
    assert _aware(case.received_at) == fixed


def test_api_marks_a_case_overdue_by_the_process_clock(settings: Settings, engine: Engine) -> None:
    due = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil")
        make_user(s, "spv", Role.admin)
        s.add(
            Case(
                reference="KPG-2611-0002",
                unit_id=unit.id or 0,
                category="lainnya",
                description="x" * 30,
                status="received",
                received_at=due - timedelta(days=3),
                verify_due_at=due,
                resolve_due_at=due + timedelta(days=10),
                due_at=due,
            )
        )
        s.commit()

    def overdue_flags(clock: datetime) -> tuple[bool, bool, int]:
        with TestClient(create_app(build(settings, engine, clock=lambda: clock))) as client:
            r = client.post("/auth/token", data={"username": "spv", "password": PASSWORD})
            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
            [item] = client.get("/cases", headers=auth).json()["items"]
            detail = client.get(f"/cases/{item['id']}", headers=auth).json()["case"]
            late = client.get("/cases", params={"overdue": "true"}, headers=auth).json()
            return item["overdue"], detail["overdue"], len(late["items"])

    assert overdue_flags(due - timedelta(minutes=1)) == (False, False, 0)
    assert overdue_flags(due + timedelta(minutes=1)) == (True, True, 1)
