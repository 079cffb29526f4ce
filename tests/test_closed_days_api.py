"""The office's closed days through the JSON API: an admin adds and removes them, the running
deadlines move at once, everyone else is refused, and bad input is a problem, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from admin_api import create_app
from core.cases import service as svc
from core.people.models import Role
from core.policies import build
from core.shared.config import Settings
from tests.contacts import telegram_citizen
from tests.factories import bearer, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 30 November 2026, 10:00 WITA


def end_of(day: date) -> str:
    """A deadline as the API writes it: the end of the local day, in UTC."""
    return datetime(day.year, day.month, day.day, 16, 0, tzinfo=UTC).isoformat()[:19]


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[tuple[TestClient, int]]:
    policies = build(settings, engine, clock=lambda: NOW)
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        make_user(s, "admin", Role.admin)
        make_user(s, "spv", Role.supervisor, [unit])
        assert unit.id is not None
        draft = svc.ComplaintDraft(
            unit_id=unit.id,
            category="lainnya",
            description="Antrean KTP sangat panjang dan loket tutup lebih awal.",
        )
        case = svc.file_complaint(s, telegram_citizen(s, 7001), draft, policies.cases, now=NOW)
        s.commit()
        assert case.id is not None
        case_id = case.id
    with TestClient(create_app(policies)) as client:
        yield client, case_id


def _due(client: TestClient, headers: dict[str, str], case_id: int) -> str:
    case = client.get(f"/cases/{case_id}", headers=headers).json()["case"]
    assert case["due_at"] == case["verify_due_at"]
    return str(case["verify_due_at"])[:19]


def test_an_admin_closes_the_office_and_the_deadline_moves(
    api: tuple[TestClient, int],
) -> None:
    client, case_id = api
    admin = bearer(client, "admin")
    assert _due(client, admin, case_id) == end_of(date(2026, 12, 3))  # Thu 3 Dec
    r = client.post(
        "/closed-days",
        json={"day": "2026-12-02", "description": "Hari jadi Kota Kupang"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["moved"] == 1
    assert r.json()["closed_day"]["created_by"] == "admin"
    assert _due(client, admin, case_id) == end_of(date(2026, 12, 4))  # Fri 4 Dec
    listed = client.get("/closed-days", headers=admin).json()
    assert [(d["day"], d["description"]) for d in listed] == [
        ("2026-12-02", "Hari jadi Kota Kupang")
    ]
    assert client.get("/closed-days?since=2026-12-03", headers=admin).json() == []
    again = client.post(
        "/closed-days", json={"day": "2026-12-02", "description": "Lagi"}, headers=admin
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    r = client.delete("/closed-days/2026-12-02", headers=admin)
    assert r.status_code == 200 and r.json()["moved"] == 1
    assert r.json()["closed_day"]["created_by"] == "admin"  # who added the day, kept
    assert _due(client, admin, case_id) == end_of(date(2026, 12, 3))
    assert client.delete("/closed-days/2026-12-02", headers=admin).status_code == 404


def test_only_admins_keep_the_calendar(api: tuple[TestClient, int]) -> None:
    client, _ = api
    spv = bearer(client, "spv")
    assert client.get("/closed-days", headers=spv).status_code == 403
    r = client.post("/closed-days", json={"day": "2026-12-02", "description": "X"}, headers=spv)
    assert r.status_code == 403
    assert client.delete("/closed-days/2026-12-02", headers=spv).status_code == 403
    assert client.get("/closed-days").status_code == 401


def test_bad_days_are_refused_with_a_reason(api: tuple[TestClient, int]) -> None:
    client, _ = api
    admin = bearer(client, "admin")
    for body, status, words in (
        ({"day": "2026-12-05", "description": "Sabtu"}, 422, "weekend"),
        ({"day": "2026-12-24", "description": "Cuti"}, 422, "cuti bersama"),
        ({"day": "9999-12-31", "description": "Jauh"}, 422, "three years"),
        ({"day": "0001-01-01", "description": "Dulu"}, 422, "a year back"),
        ({"day": "2026-02-30", "description": "Tidak ada"}, 422, "day"),
        ({"day": "2026-12-02", "description": ""}, 422, "description"),
        ({"day": "2026-12-02", "description": "   "}, 422, "describe"),
        ({"day": "2026-12-02", "description": "x" * 201}, 422, "description"),
    ):
        r = client.post("/closed-days", json=body, headers=admin)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert words in r.text, (body, r.text)
    assert client.delete("/closed-days/not-a-date", headers=admin).status_code == 422
    assert client.get("/closed-days?since=0001-01-01", headers=admin).status_code == 200
