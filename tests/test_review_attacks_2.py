"""What this session's security review found, tried again: an officer cannot tell who wrote a
comment by watching their own page between two computes; digits that are not ASCII and days
the clock cannot hold are a clear refusal, never a 500; erasing a demo citizen leaves no
marker that `demo purge` could take a later real citizen for."""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from core.access import Actor
from core.evaluations import service as ev
from core.masterdata.models import DemoRecord
from core.people.citizens import erase_citizen
from core.people.models import Role
from core.people.users import create_user, link_officer
from core.policies import build
from core.shared.config import Settings
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, add_response, local, make_officer, make_unit, make_user
from tests.test_evaluations import WITA


def test_a_comment_after_the_last_compute_is_not_shown_to_the_officer(engine: Engine) -> None:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil")
        maria = make_officer(s, unit, "Maria Bria")
        spv_user = make_user(s, "spv", Role.supervisor, [unit])
        spv = Actor(spv_user.id or 0, "spv", Role.supervisor, frozenset({unit.id or 0}))
        first = add_response(s, unit, [3] * 9, local(date(2026, 11, 3)), officer=maria)
        first.comment = "Sebelum dihitung."
        period = ev.create_period(s, "quarterly", date(2026, 10, 1), ["dukcapil"], actor=spv)
        ev.compute_period(s, period, ev.EvaluationPolicy(), WITA, actor=spv)
        assert period.computed_at is not None
        computed = period.computed_at.replace(tzinfo=UTC)
        # An answer that arrives after the compute, still inside the period.
        later = add_response(s, unit, [2] * 9, computed + timedelta(minutes=1), officer=maria)
        later.comment = "Sesudah dihitung."
        user = create_user(s, "maria", Role.officer, "", (), password_hash="$argon2id$x")
        link_officer(s, user.id or 0, maria.nip, actor=Actor(0, "system", Role.admin))
        own = Actor(user.id or 0, "maria", Role.officer, officer_id=maria.id)
        s.flush()
        seen = ev.own_evidence(s, period.id or 0, WITA, actor=own)
        assert [c.text for c in seen.comments] == ["Sebelum dihitung."]


def test_odd_digits_and_days_are_refused_clearly(settings: Settings, engine: Engine) -> None:
    with Session(engine) as s:
        make_unit(s, "dukcapil")
        make_user(s, "admin", Role.admin)
        s.commit()
    client = TestClient(create_site(build(settings, engine)))
    r = client.post("/api/auth/token", data={"username": "admin", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
    odd = client.get("/api/scores/units/dukcapil/comments?after=%C2%B2", headers=bearer)
    assert odd.status_code in (400, 422), odd.text
    form = client.get("/staff/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    client.post(
        "/staff/login",
        data={"username": "admin", "password": PASSWORD, "csrf": csrf.group(1), "next": ""},
    )
    page = client.get("/staff/scores/dukcapil")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    plan = client.post(
        "/staff/scores/dukcapil/follow-up",
        data={"csrf": token.group(1), "element": "²", "action": "a", "timeframe": "b",
              "responsible": "c"},
        follow_redirects=False,
    )  # fmt: skip
    assert plan.status_code == 303 and "followup_error=followup.element" in plan.headers["location"]
    for day in ("0001-01-01", "9999-12-31"):
        audit = client.get(f"/staff/audit?start={day}")
        assert audit.status_code == 400 and "Tanggal tidak terbaca" in audit.text


def test_erasing_a_demo_citizen_forgets_its_demo_marker(engine: Engine) -> None:
    with Session(engine) as s:
        citizen = telegram_citizen(s, 61_001)
        s.add(DemoRecord(kind="citizen", record_id=citizen.id or 0))
        s.flush()
        erase_citizen(s, citizen)
        assert s.exec(select(DemoRecord).where(DemoRecord.kind == "citizen")).all() == []
