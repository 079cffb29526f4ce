"""Hostile input to the admin API: every answer is a 4xx problem, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from admin_api import create_app
from core.config import Settings
from core.models import Role
from tests.factories import PASSWORD, make_unit, make_user


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with Session(engine) as s:
        make_unit(s, "dukcapil")
        make_user(s, "admin", Role.admin)
        s.commit()
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        token = c.post("/auth/token", data={"username": "admin", "password": PASSWORD})
        c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield c


def _problem(r: object, *codes: int) -> None:
    assert r.status_code in codes, (r.status_code, r.text[:200])  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]


def test_sql_looking_strings_are_just_text(client: TestClient) -> None:
    for evil in (
        "' OR 1=1 --",
        "dukcapil'; DROP TABLE unit; --",
        "%' UNION SELECT * FROM app_user --",
    ):
        assert client.get("/cases", params={"q": evil}).status_code == 200
        _problem(client.get(f"/units/{evil}"), 404)
        r = client.post("/units", json={"code": evil, "name": evil})
        _problem(r, 422)
    assert client.get("/units/dukcapil").status_code == 200  # the table is still there


def test_huge_deep_and_malformed_bodies(client: TestClient) -> None:
    _problem(
        client.post(
            "/units",
            content=b"x" * (11 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
        ),
        413,
    )
    deep = b"[" * 100_000 + b"]" * 100_000
    _problem(
        client.post("/units", content=deep, headers={"Content-Type": "application/json"}), 400, 422
    )
    _problem(
        client.post(
            "/units", content=b"\xff\xfe{not utf8", headers={"Content-Type": "application/json"}
        ),
        400,
        422,
    )
    _problem(
        client.post(
            "/units",
            content=b"code=x&name=y",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        422,
    )
    _problem(
        client.post("/units", content=b"<unit/>", headers={"Content-Type": "text/xml"}), 415, 422
    )
    _problem(client.post("/units", json=[1, 2, 3]), 422)
    _problem(client.post("/units", json={"code": "a" * 10_000, "name": "x"}), 422)
    _problem(client.get("/cases", params={"limit": "9" * 50}), 422)
    _problem(client.get("/cases/99999999999999999999999"), 404, 422)
    _problem(
        client.post(
            "/auth/token",
            content=b"\x00\x01",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        401,
        422,
    )


def test_found_by_schemathesis_duplicate_rename_and_control_characters(
    client: TestClient,
) -> None:
    """Two 500s schemathesis found: renaming a service onto another's name, and a name
    with control characters that then broke the XLSX report."""
    a = client.post("/services", json={"unit_code": "dukcapil", "name": "KTP-el"}).json()
    b = client.post("/services", json={"unit_code": "dukcapil", "name": "Kartu Keluarga"}).json()
    clash = client.patch(f"/services/{b['id']}", json={"name": "KTP-el"})
    _problem(clash, 409)
    weird = client.post(
        "/services",
        content=b'{"unit_code": "dukcapil", "name": "Akta\\u000b Kela\\u001bhiran\\ud8f9"}',
        headers={"Content-Type": "application/json"},
    )
    assert weird.status_code == 201 and weird.json()["name"] == "Akta Kelahiran"
    _problem(client.post("/services", json={"unit_code": "dukcapil", "name": "\x00\x0b"}), 422)
    report = client.get("/scores/units/dukcapil/report.xlsx")
    assert report.status_code == 200 and report.content[:2] == b"PK"
    assert a["name"] == "KTP-el"


def test_malformed_csv_uploads_get_a_clear_422(client: TestClient) -> None:
    """Found by schemathesis: a stray carriage return inside a field made the CSV reader
    raise (500)."""
    for content in (b'nip,name,unit_code\n19\r90,"a\rb\nc,d', b"\x00\x01\x02", b'"unclosed'):
        r = client.post("/officers/import", files={"file": ("x.csv", content, "text/csv")})
        _problem(r, 422)
