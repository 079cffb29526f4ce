"""Tokens that must be refused, and login throttling shared through the database."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.people.models import AppUser, LoginThrottle, Role
from core.shared.config import Settings
from tests.factories import PASSWORD, make_unit, make_user


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil")
        make_user(s, "spv", Role.supervisor, [unit])
        s.commit()
    with TestClient(create_app(settings, engine)) as c:
        yield c


def _user_id(engine: Engine) -> int:
    with Session(engine) as s:
        return s.exec(select(AppUser.id).where(AppUser.username == "spv")).one() or 0


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_bad_tokens_are_refused(client: TestClient, settings: Settings, engine: Engine) -> None:
    uid = str(_user_id(engine))
    now = datetime.now(UTC)
    secret = settings.jwt_secret
    live = {"sub": uid, "ver": 0, "exp": now + timedelta(minutes=5)}
    good = jwt.encode(live, secret, algorithm="HS256")
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    no_version = jwt.encode({"sub": uid, "exp": live["exp"]}, secret, algorithm="HS256")
    old_version = jwt.encode({**live, "ver": -1}, secret, algorithm="HS256")
    expired = jwt.encode({"sub": uid, "exp": now - timedelta(seconds=1)}, secret, algorithm="HS256")
    no_exp = jwt.encode({"sub": uid}, secret, algorithm="HS256")
    other_key = jwt.encode(
        {"sub": uid, "exp": now + timedelta(minutes=5)}, "x" * 48, algorithm="HS256"
    )
    hs512 = jwt.encode({"sub": uid, "exp": now + timedelta(minutes=5)}, secret, algorithm="HS512")
    claims = {"sub": uid, "exp": int((now + timedelta(minutes=5)).timestamp())}
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    # "HS/RS confusion": an RS256 header with an HMAC signature made from the shared secret.
    good_claims = good.split(".")[1]
    rs_confused = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{good_claims}.{good.split('.')[2]}"
    head, _claims, sig = good.split(".")
    tampered = f"{head}.{_b64({'sub': '1', 'exp': claims['exp']})}.{sig}"
    bad = (expired, no_exp, other_key, hs512, alg_none, rs_confused, tampered, "x.y.z")
    for token in (*bad, no_version, old_version):
        r = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
    with Session(engine) as s:
        user = s.exec(select(AppUser).where(AppUser.username == "spv")).one()
        user.active = False
        s.add(user)
        s.commit()
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {good}"}).status_code == 401


def test_logins_are_throttled_per_username_and_address(client: TestClient, engine: Engine) -> None:
    for _ in range(5):
        r = client.post("/auth/token", data={"username": "spv", "password": "guess"})
        assert r.status_code == 401
    delayed = client.post("/auth/token", data={"username": "spv", "password": PASSWORD})
    assert delayed.status_code == 429
    assert 0 < int(delayed.headers["retry-after"]) <= 60  # the first delay: one minute
    assert "too many failed logins" in delayed.json()["detail"]
    assert "unlock" in delayed.json()["detail"]
    # An unknown username is throttled the same way: no hint about which names exist.
    for _ in range(5):
        client.post("/auth/token", data={"username": "nobody", "password": "guess"})
    assert (
        client.post("/auth/token", data={"username": "nobody", "password": "x"}).status_code == 429
    )
    with Session(engine) as s:  # the delay passes
        for row in s.exec(select(LoginThrottle)).all():
            assert row.locked_until is not None
            row.locked_until = row.locked_until - timedelta(minutes=1, seconds=1)
            s.add(row)
        s.commit()
    assert (
        client.post("/auth/token", data={"username": "spv", "password": PASSWORD}).status_code
        == 200
    )
