"""What a security review found, tried again through the real API: an account linked to an
officer cannot steer its own evaluation (not even by moving its officer record), a
forwarded complaint still names its officer, a stolen token cannot be used to guess the
password, and broken text or cursors are a 422, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from admin_api import create_app
from core.access import Actor
from core.cases import service as svc
from core.cases.models import CaseOutcome, Privacy
from core.cases.sla import SlaPolicy
from core.evaluations import service as ev
from core.people.models import Role
from core.shared.config import Settings
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, make_officer, make_unit, make_user

SECOND_PASSWORD = "ombak pantai lasiana"


@dataclass
class World:
    client: TestClient
    ids: dict[str, int]

    def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        r = self.client.post("/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def world(settings: Settings, engine: Engine) -> Iterator[World]:
    """Units a and b; officer A in unit a; `spv-ab` supervises both and is officer A's
    account; `head-ab` is a unit head of both, also linked... to officer B; complaints name
    officer A (one rahasia, substantiated) and officer B (biasa, to be forwarded)."""
    policy = svc.CasePolicy(sla=SlaPolicy(tz=settings.tz))
    with Session(engine, expire_on_commit=False) as s:
        a, b = make_unit(s, "unit-a"), make_unit(s, "unit-b")
        officer_a = make_officer(s, a, "Petugas A")
        officer_b = make_officer(s, a, "Petugas B")
        admin_user = make_user(s, "admin", Role.admin)
        spv = make_user(s, "spv-ab", Role.supervisor, [a, b])
        spv.officer_id = officer_a.id
        make_user(s, "spv-other", Role.supervisor, [a, b])
        head = make_user(s, "head-ab", Role.unit_head, [a, b])
        head.officer_id = officer_b.id
        s.add_all([spv, head])
        s.flush()
        admin = Actor(admin_user.id or 0, "admin", Role.admin)
        cases = {}
        for n, (officer, privacy) in enumerate(
            [(officer_a, Privacy.rahasia), (officer_a, Privacy.biasa), (officer_b, Privacy.biasa)]
        ):
            cases[n] = svc.file_complaint(
                s,
                telegram_citizen(s, 3000 + n),
                svc.ComplaintDraft(
                    unit_id=a.id or 0,
                    officer_id=officer.id,
                    category="pungli",
                    privacy=privacy,
                    description="Petugas meminta uang tambahan di loket pelayanan.",
                ),
                policy,
            )
        svc.verify(s, cases[0], policy, actor=admin)
        svc.assign(s, cases[0], actor=admin, assignee_id=admin_user.id)
        svc.resolve(s, cases[0], CaseOutcome.substantiated, "Petugas ditegur.", actor=admin)
        period = ev.create_period(s, "annual", date(2026, 1, 1), ["unit-a"], actor=admin)
        ev.compute_period(s, period, ev.EvaluationPolicy(), settings.tz, actor=admin)
        own_row = next(r for r in ev.evaluations(s, period) if r.officer_id == officer_a.id)
        s.commit()
        ids = {
            "officer_a": officer_a.id or 0,
            "period": period.id or 0,
            "own_row": own_row.id or 0,
            "forwarded": cases[2].id or 0,
        }
    with TestClient(create_app(settings, engine)) as client:
        yield World(client, ids)


def test_a_linked_supervisor_cannot_steer_their_own_evaluation(world: World) -> None:
    me = world.login("spv-ab")
    period, row = world.ids["period"], world.ids["own_row"]
    # Moving their own officer record to the other unit they supervise is refused...
    moved = world.client.patch(
        f"/officers/{world.ids['officer_a']}", json={"unit_code": "unit-b"}, headers=me
    )
    assert moved.status_code == 403, moved.text
    # ...and even had it moved, the period still involves them: no evidence, no decision.
    view = world.client.get(f"/evaluation-periods/{period}", headers=me)
    assert view.status_code == 200 and view.json()["full_evidence"] is False
    assert all(o["suggested_level"] is None for o in view.json()["officers"])
    decision = {"behaviour_level": "above", "override_reason": "kerja bagus"}
    r = world.client.post(
        f"/evaluation-periods/{period}/officers/{row}/decision", json=decision, headers=me
    )
    assert r.status_code == 403, r.text
    assert (
        world.client.post(f"/evaluation-periods/{period}/finalize", headers=me).status_code == 403
    )
    # Another supervisor of the unit decides.
    other = world.login("spv-other")
    r = world.client.post(
        f"/evaluation-periods/{period}/officers/{row}/decision", json=decision, headers=other
    )
    assert r.status_code == 200, r.text


def test_a_forwarded_complaint_still_names_its_officer(world: World) -> None:
    case = world.ids["forwarded"]
    head = world.login("head-ab")
    assert world.client.get(f"/cases/{case}", headers=head).status_code == 404
    spv = world.login("spv-other")
    assert world.client.post(f"/cases/{case}/verify", headers=spv).status_code == 200
    r = world.client.post(f"/cases/{case}/assign", json={"unit_code": "unit-b"}, headers=spv)
    assert r.status_code == 200, r.text
    assert r.json()["case"]["unit_code"] == "unit-b"
    assert world.client.get(f"/cases/{case}", headers=head).status_code == 404


def test_a_stolen_token_cannot_guess_the_password(world: World) -> None:
    token = world.login("head-ab")
    change = {"new_password": SECOND_PASSWORD}
    for n in range(5):
        r = world.client.post(
            "/users/me/password", json={**change, "current_password": f"tebakan {n}"}, headers=token
        )
        assert r.status_code == 422, r.text
    r = world.client.post(
        "/users/me/password", json={**change, "current_password": PASSWORD}, headers=token
    )
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # An admin's unlock ends the delay.
    admin = world.login("admin")
    head_id = next(
        u["id"]
        for u in world.client.get("/users", headers=admin).json()
        if u["username"] == "head-ab"
    )
    assert world.client.post(f"/users/{head_id}/unlock", headers=admin).status_code == 200
    r = world.client.post(
        "/users/me/password", json={**change, "current_password": PASSWORD}, headers=token
    )
    assert r.status_code == 200, r.text


def test_broken_text_and_cursors_are_refused_clearly(world: World) -> None:
    admin = world.login("admin")
    spv = world.login("spv-other")
    broken = "\ud800"
    for method, path, body, who in [
        ("post", "/services", {"unit_code": broken, "name": "X"}, spv),
        ("post", "/evaluation-periods", {"kind": "annual", "start": "2026-01-01",
                                          "unit_codes": [broken]}, spv),
        ("post", "/users", {"username": "baru", "role": "viewer", "password": SECOND_PASSWORD,
                            "unit_codes": [broken]}, admin),
    ]:  # fmt: skip
        # As a client sends it: JSON with the escape, which decodes to a lone surrogate.
        raw = json.dumps(body, ensure_ascii=True)
        r = world.client.request(
            method, path, content=raw, headers={**who, "Content-Type": "application/json"}
        )
        assert r.status_code in (404, 422), (path, r.status_code, r.text)
    for cursor in ("2020-01-01T00:00:00_1", "0001-01-01T00:00:00+14:00_1", "x_y", "_"):
        r = world.client.get("/audit/access", params={"cursor": cursor}, headers=admin)
        assert r.status_code == 422, (cursor, r.status_code, r.text)
