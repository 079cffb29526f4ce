"""Existence probes: for a user of unit A, unit B's unit, services, officers and NIPs answer
exactly as made-up ones do (same status, same body apart from the identifier sent)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session

from admin_api import create_app
from core.people.models import Role
from core.shared.config import Settings
from tests.factories import bearer, make_officer, make_service, make_unit, make_user

ROLES = ("supervisor", "unit_head", "viewer")
UNKNOWN_ID = 987_654_321
UNKNOWN_CODE = "unit-zz"
UNKNOWN_PUBLIC_CODE = "zzzz9999"
NEW_NIP = "199202022016022002"


@dataclass
class World:
    client: TestClient
    a: dict[str, Any]
    b: dict[str, Any]

    def h(self, username: str) -> dict[str, str]:
        return bearer(self.client, username)


@pytest.fixture
def world(settings: Settings, engine: Engine) -> Iterator[World]:
    with Session(engine) as s:
        a = make_unit(s, "unit-a", "Unit A")
        b = make_unit(s, "unit-b", "Badan Rahasia")
        sa, sb = make_service(s, a, "KTP-el"), make_service(s, b, "Izin Rahasia")
        oa = make_officer(s, a, "Officer A")
        ob = make_officer(s, b, "Officer B", nip="199001012015011001")
        for role in ROLES:
            make_user(s, role, Role(role), [a])
        s.commit()
        units = {
            name: {
                "code": u.code,
                "id": u.id,
                "name": u.name,
                "service": sv.id,
                "officer": o.id,
                "nip": o.nip,
                "public_code": o.public_code,
            }
            for name, u, sv, o in (("a", a, sa, oa), ("b", b, sb, ob))
        }
    with TestClient(create_app(settings, engine)) as client:
        yield World(client, units["a"], units["b"])


def _masked(r: Response, identifier: object) -> bytes:
    """The body with the identifier the caller sent replaced by a placeholder."""
    ident = re.escape(str(identifier).encode())
    return re.sub(rb"(?<![0-9A-Za-z-])" + ident + rb"(?![0-9A-Za-z-])", b"<sent>", r.content)


def _same(real: Response, real_id: object, fake: Response, fake_id: object) -> None:
    """Same status (a 404, or a 403 the role gets whatever the unit), same body."""
    assert real.status_code == fake.status_code, (real.text, fake.text)
    assert real.status_code in (403, 404), real.text
    assert real.headers["content-type"] == fake.headers["content-type"]
    assert _masked(real, real_id) == _masked(fake, fake_id), (real.text, fake.text)


# (method, path template, request keyword arguments template, key of unit B's identifier,
#  made-up identifier). `{x}` in the templates is replaced by the identifier.
PROBES: list[tuple[str, str, dict[str, Any], str, object]] = [
    ("GET", "/units/{x}", {}, "code", UNKNOWN_CODE),
    ("PATCH", "/units/{x}", {"json": {"name": "Baru"}}, "code", UNKNOWN_CODE),
    ("GET", "/services?unit={x}", {}, "code", UNKNOWN_CODE),
    ("POST", "/services", {"json": {"unit_code": "{x}", "name": "Baru"}}, "code", UNKNOWN_CODE),
    ("PATCH", "/services/{x}", {"json": {"name": "Baru"}}, "service", UNKNOWN_ID),
    ("GET", "/officers?unit={x}", {}, "code", UNKNOWN_CODE),
    ("GET", "/officers/{x}", {}, "officer", UNKNOWN_ID),
    ("PATCH", "/officers/{x}", {"json": {"position": "Analis"}}, "officer", UNKNOWN_ID),
    (
        "POST",
        "/officers",
        {"json": {"nip": NEW_NIP, "name": "Baru", "unit_code": "{x}"}},
        "code",
        UNKNOWN_CODE,
    ),
    ("GET", "/scores/units/{x}", {}, "code", UNKNOWN_CODE),
    ("GET", "/scores/units/{x}/report.xlsx", {}, "code", UNKNOWN_CODE),
    ("GET", "/scores/officers?unit={x}&start=2026-11-01&end=2026-11-30", {}, "code", UNKNOWN_CODE),
    ("GET", "/scores/officers/{x}?start=2026-11-01&end=2026-11-30", {}, "officer", UNKNOWN_ID),
    ("GET", "/qr/{x}", {}, "code", UNKNOWN_CODE),
    ("GET", "/qr/{x}/sheet.pdf", {}, "code", UNKNOWN_CODE),
    ("GET", "/qr/unit-a?officer={x}", {}, "public_code", UNKNOWN_PUBLIC_CODE),
    ("GET", "/qr/unit-a?service={x}", {}, "service", UNKNOWN_ID),
    (
        "POST",
        "/evaluation-periods",
        {"json": {"kind": "monthly", "start": "2026-11-01", "unit_codes": ["{x}"]}},
        "code",
        UNKNOWN_CODE,
    ),
]


def _fill(template: Any, x: object) -> Any:
    if isinstance(template, str):
        return template.replace("{x}", str(x))
    if isinstance(template, dict):
        return {k: _fill(v, x) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, x) for v in template]
    return template


@pytest.mark.parametrize("role", ROLES)
def test_another_units_things_answer_as_unknown_ones(world: World, role: str) -> None:
    h = world.h(role)
    for method, path, kwargs, key, made_up in PROBES:
        real_id = world.b[key]
        real = world.client.request(
            method, _fill(path, real_id), headers=h, **_fill(kwargs, real_id)
        )
        fake = world.client.request(
            method, _fill(path, made_up), headers=h, **_fill(kwargs, made_up)
        )
        _same(real, real_id, fake, made_up)
        assert world.b["name"].encode() not in real.content


def test_moving_an_officer_to_another_unit_answers_as_an_unknown_unit(world: World) -> None:
    h = world.h("supervisor")
    path = f"/officers/{world.a['officer']}"
    real = world.client.patch(path, headers=h, json={"unit_code": "unit-b"})
    fake = world.client.patch(path, headers=h, json={"unit_code": UNKNOWN_CODE})
    _same(real, "unit-b", fake, UNKNOWN_CODE)


def test_nip_search_of_another_unit_finds_nothing(world: World) -> None:
    h = world.h("supervisor")
    real = world.client.get("/officers", headers=h, params={"q": world.b["nip"]})
    fake = world.client.get("/officers", headers=h, params={"q": NEW_NIP})
    assert real.status_code == fake.status_code == 200 and real.json() == fake.json() == []


def _import(world: World, rows: str) -> Response:
    body = f"nip,name,unit_code\n{rows}\n".encode()
    return world.client.post(
        "/officers/import",
        headers=world.h("supervisor"),
        files={"file": ("roster.csv", body, "text/csv")},
    )


def test_import_does_not_tell_which_unit_a_nip_or_code_belongs_to(world: World) -> None:
    """A row with another unit's NIP, one with another unit's code and one with a made-up
    code all get the same reason, which names no other unit."""
    foreign_nip = _import(world, f"{world.b['nip']},Pindahan,unit-a")
    foreign_unit = _import(world, f"{NEW_NIP},Baru,unit-b")
    unknown_unit = _import(world, f"{NEW_NIP},Baru,{UNKNOWN_CODE}")
    for r in (foreign_nip, foreign_unit, unknown_unit):
        assert r.status_code == 422
        body = r.content.lower()
        for secret in (world.b["name"], "another unit", "outside your scope", "belongs"):
            assert secret.lower().encode() not in body, r.text
    assert foreign_unit.content == unknown_unit.content  # byte for byte
    [nip_error] = foreign_nip.json()["errors"]
    [unit_error] = foreign_unit.json()["errors"]
    assert (nip_error["row"], nip_error["column"]) == (2, "nip")
    assert nip_error["reason"] == unit_error["reason"]
    nip_detail = foreign_nip.json()["detail"]
    assert nip_detail.replace("column nip", "column unit_code") == foreign_unit.json()["detail"]
