"""Small helpers that put master data and survey responses in the test database."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from core.masterdata.models import Officer, Service, Unit
from core.masterdata.service import new_public_code
from core.people.models import AppUser, Role
from core.people.users import create_user, hash_password
from core.surveys.models import SurveyResponse, answer_columns

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_unit(session: Session, code: str, name: str | None = None, **kw: object) -> Unit:
    unit = Unit(code=code, name=name or f"Unit {code}", **kw)
    session.add(unit)
    session.flush()
    return unit


def make_service(session: Session, unit: Unit, name: str) -> Service:
    assert unit.id is not None
    service = Service(unit_id=unit.id, name=name)
    session.add(service)
    session.flush()
    return service


def record_running_bot(session: Session, username: str = "asn_feedback_bot") -> None:
    """What the bot process records at its start (getMe): QR cards may be printed for
    `username` (core.masterdata.bot_identity; the default is PUBLIC_BOT_USERNAME's)."""
    from core.masterdata.bot_identity import record_bot_identity

    record_bot_identity(session, 123456, username, "ASN Feedback")


def make_nip(sex: int = 1) -> str:
    n = next(_seq)
    return f"19850412{2010 + n % 10}03{sex}{n % 1000:03d}"


def make_officer(session: Session, unit: Unit, name: str, **kw: object) -> Officer:
    assert unit.id is not None
    officer = Officer(
        nip=str(kw.pop("nip", make_nip())),
        name=name,
        unit_id=unit.id,
        public_code=str(kw.pop("public_code", new_public_code())),
        **kw,
    )
    session.add(officer)
    session.flush()
    return officer


def add_response(
    session: Session,
    unit: Unit,
    answers: Sequence[int],
    at: datetime | None = None,
    service: Service | None = None,
    officer: Officer | None = None,
    citizen_id: int | None = None,
) -> SurveyResponse:
    assert unit.id is not None
    moment = at or datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    r = SurveyResponse(
        unit_id=unit.id,
        service_id=service.id if service else None,
        officer_id=officer.id if officer else None,
        citizen_id=citizen_id,
        **answer_columns(answers),
        channel="test",
        local_date=(moment + timedelta(hours=8)).date(),
        created_at=moment,
    )
    session.add(r)
    session.flush()
    return r


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose


def make_user(session: Session, username: str, role: Role, units: Sequence[Unit] = ()) -> AppUser:
    codes = [u.code for u in units]
    return create_user(session, username, role, "", codes, password_hash=_password_hash())


def bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """The Authorization header of a fresh login through the API."""
    r = client.post("/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def local(d: date, hour: int = 10) -> datetime:
    """A moment on a local (WITA, UTC+8) day, in UTC."""
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC) - timedelta(hours=8)
