"""The admin API through HTTP: login, role and unit scope on every route, scores, XLSX, CSV."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.masterdata.models import Officer
from core.people.models import Role
from core.shared.config import Settings
from tests.factories import (
    PASSWORD,
    add_response,
    local,
    make_officer,
    make_service,
    make_unit,
    make_user,
)

ROLES = ("admin", "supervisor", "unit_head", "viewer")


@dataclass
class World:
    client: TestClient
    ids: dict[str, int]

    def token(self, username: str, password: str = PASSWORD) -> str:
        r = self.client.post("/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}


@pytest.fixture
def world(settings: Settings, engine: Engine) -> Iterator[World]:
    with Session(engine) as s:
        a = make_unit(s, "unit-a", "Unit A", service_population=50)
        b = make_unit(s, "unit-b", "Unit B")
        sa = make_service(s, a, "KTP-el")
        sb = make_service(s, b, "PBB-P2")
        oa = make_officer(s, a, "Officer A")
        ob = make_officer(s, b, "Officer B")
        make_user(s, "admin", Role.admin)
        make_user(s, "supervisor", Role.supervisor, [a])
        make_user(s, "unit_head", Role.unit_head, [a])
        make_user(s, "viewer", Role.viewer, [a])
        add_response(s, a, [4, 3, 3, 2, 4, 3, 3, 2, 4], local(date(2026, 11, 3)), sa, oa)
        add_response(s, a, [3, 3, 3, 3, 3, 3, 3, 3, 3], local(date(2026, 11, 4)), sa)
        add_response(s, b, [1, 1, 1, 1, 1, 1, 1, 1, 1], local(date(2026, 11, 4)), sb)
        s.commit()
        ids = {"a": a.id, "b": b.id, "sa": sa.id, "sb": sb.id, "oa": oa.id, "ob": ob.id}
    with TestClient(create_app(settings, engine)) as client:
        yield World(client, {k: int(v or 0) for k, v in ids.items()})


def test_login_and_me(world: World) -> None:
    c = world.client
    r = c.post("/auth/token", data={"username": "supervisor", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    me = c.get("/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json() == {
        "id": me.json()["id"],
        "username": "supervisor",
        "display_name": "",
        "role": "supervisor",
        "unit_codes": ["unit-a"],
    }
    for username, password in (("supervisor", "wrong"), ("nobody", PASSWORD)):
        bad = c.post("/auth/token", data={"username": username, "password": password})
        assert bad.status_code == 401
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["detail"] == "wrong username or password"  # same for both: no enumeration


def test_bad_tokens_are_refused(world: World, engine: Engine) -> None:
    c = world.client
    assert c.get("/units").status_code == 401
    assert c.get("/units", headers={"Authorization": "Bearer abc.def.ghi"}).status_code == 401
    token = world.token("viewer")
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert c.get("/units", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    with Session(engine) as s:
        from core.people.models import AppUser

        viewer = s.exec(select(AppUser).where(AppUser.username == "viewer")).one()
        viewer.active = False
        s.add(viewer)
        s.commit()
    r = c.get("/units", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["status"] == 401


_names = itertools.count(1)


def _csv(unit_code: str) -> bytes:
    n = next(_names)
    nip = f"19900101201501{1 + n % 2}{n:03d}"
    return f"nip,name,unit_code,position\n{nip},Imported {n},{unit_code},Staf\n".encode()


# (method, path, body builder, {role: status} in scope, {role: status} out of scope)
Case = tuple[str, str, Callable[[str], dict[str, Any]] | None, dict[str, int], dict[str, int]]
ALL_200 = dict.fromkeys(ROLES, 200)
# Another unit's things answer as unknown ones (tests/test_existence_probes.py).
HIDDEN = {"admin": 200, "supervisor": 404, "unit_head": 404, "viewer": 404}
HIDDEN_201 = {"admin": 201, "supervisor": 404, "unit_head": 404, "viewer": 404}
WRITERS = {"admin": 200, "supervisor": 200, "unit_head": 403, "viewer": 403}
CASES: list[Case] = [
    ("GET", "/auth/me", None, ALL_200, ALL_200),
    ("GET", "/units", None, ALL_200, ALL_200),
    ("GET", "/units/{unit}", None, ALL_200, HIDDEN),
    (
        "PATCH",
        "/units/{unit}",
        lambda u: {"json": {"name": f"Renamed {next(_names)}"}},
        WRITERS,
        HIDDEN,
    ),
    (
        "POST",
        "/units",
        lambda u: {"json": {"code": f"new-{next(_names)}", "name": "New"}},
        {"admin": 201, "supervisor": 403, "unit_head": 403, "viewer": 403},
        {"admin": 201, "supervisor": 403, "unit_head": 403, "viewer": 403},
    ),
    ("GET", "/services?unit={unit}", None, ALL_200, HIDDEN),
    (
        "POST",
        "/services",
        lambda u: {"json": {"unit_code": u, "name": f"Layanan {next(_names)}"}},
        {"admin": 201, "supervisor": 201, "unit_head": 403, "viewer": 403},
        HIDDEN_201,
    ),
    (
        "PATCH",
        "/services/{service}",
        lambda u: {"json": {"name": f"Svc {next(_names)}"}},
        WRITERS,
        HIDDEN,
    ),
    ("GET", "/officers?unit={unit}", None, ALL_200, HIDDEN),
    ("GET", "/officers/{officer}", None, ALL_200, HIDDEN),
    (
        "POST",
        "/officers",
        lambda u: {
            "json": {
                "nip": f"19880202201203{1 + next(_names) % 2}{next(_names):03d}",
                "name": "Baru",
                "unit_code": u,
            }
        },
        {"admin": 201, "supervisor": 201, "unit_head": 403, "viewer": 403},
        HIDDEN_201,
    ),
    (
        "PATCH",
        "/officers/{officer}",
        lambda u: {"json": {"position": "Analis"}},
        WRITERS,
        HIDDEN,
    ),
    (
        "POST",
        "/officers/import",
        lambda u: {"files": {"file": ("o.csv", _csv(u), "text/csv")}},
        WRITERS,
        {"admin": 200, "supervisor": 422, "unit_head": 403, "viewer": 403},
    ),
    ("GET", "/scores/units", None, ALL_200, ALL_200),
    ("GET", "/scores/units/{unit}?start=2026-11-01&end=2026-11-30", None, ALL_200, HIDDEN),
    (
        "GET",
        "/scores/units/{unit}/report.xlsx?start=2026-11-01&end=2026-11-30",
        None,
        ALL_200,
        HIDDEN,
    ),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role_in_and_out_of_scope(world: World, role: str) -> None:
    headers = world.as_(role)
    failures = []
    for method, template, body, in_scope, out_scope in CASES:
        for scope, expected in (("a", in_scope), ("b", out_scope)):
            path = template.format(
                unit=f"unit-{scope}", service=world.ids[f"s{scope}"], officer=world.ids[f"o{scope}"]
            )
            kwargs = body(f"unit-{scope}") if body else {}
            r = world.client.request(method, path, headers=headers, **kwargs)
            if r.status_code != expected[role]:
                failures.append(f"{method} {path} as {role}: {r.status_code} != {expected[role]}")
            if r.status_code >= 400:
                assert r.headers["content-type"] == "application/problem+json", path
    assert failures == []


def test_every_route_needs_a_token(world: World) -> None:
    open_paths = {
        "/auth/token",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
    }
    schema = world.client.get("/openapi.json").json()
    checked = 0
    for path, ops in schema["paths"].items():
        if path in open_paths:
            continue
        concrete = path.format(
            code="unit-a",
            service_id=1,
            officer_id=1,
            case_id=1,
            attachment_id=1,
            period_id=1,
            evaluation_id=1,
            user_id=1,
            item_id=1,
            week="2026-W47",
            day="2026-12-02",
        )
        for method in ops:
            r = world.client.request(method.upper(), concrete)
            assert r.status_code == 401, f"{method} {path} answered {r.status_code} without a token"
            checked += 1
    assert checked >= 14


def test_lists_are_limited_to_the_callers_units(world: World) -> None:
    c = world.client
    codes = [u["code"] for u in c.get("/units", headers=world.as_("viewer")).json()]
    assert codes == ["unit-a"]
    scores = c.get("/scores/units?start=2026-11-01&end=2026-11-30", headers=world.as_("viewer"))
    assert [u["unit_code"] for u in scores.json()["units"]] == ["unit-a"]
    officers = c.get("/officers", headers=world.as_("unit_head")).json()
    assert [o["name"] for o in officers] == ["Officer A"]
    all_units = c.get("/units", headers=world.as_("admin")).json()
    assert {u["code"] for u in all_units} == {"unit-a", "unit-b"}


def test_scores_equal_the_hand_computed_fixture(world: World) -> None:
    r = world.client.get(
        "/scores/units/unit-a?start=2026-11-01&end=2026-11-30", headers=world.as_("supervisor")
    )
    body = r.json()
    # Two responses: element sums 7,6,6,5,7,6,6,5,7 = 55; IKM = 25 x 55 / 18 = 76.388 -> 76.39 C
    assert body["unit"]["n"] == 2
    assert body["unit"]["ikm"] == 76.39
    assert body["unit"]["grade"] == "C" and body["unit"]["grade_label"] == "Kurang Baik"
    assert body["unit"]["minimum_sample"] == 44 and body["unit"]["sample_sufficient"] is False
    assert [e["nrr"] for e in body["elements"]] == [3.5, 3.0, 3.0, 2.5, 3.5, 3.0, 3.0, 2.5, 3.5]
    assert body["elements"][0]["name"] == "Persyaratan"
    assert body["services"] == [
        {
            "service_id": world.ids["sa"],
            "service_name": "KTP-el",
            "n": 2,
            "ikm": 76.39,
            "grade": "C",
            "grade_label": "Kurang Baik",
            "enough_data": False,  # 2 responses, fewer than IKM_MIN_RESPONSES (10)
            "min_responses": 10,
        }
    ]
    empty = world.client.get(
        "/scores/units/unit-a?start=2026-01-01&end=2026-01-31", headers=world.as_("supervisor")
    ).json()
    assert empty["unit"]["n"] == 0 and empty["unit"]["ikm"] is None and empty["elements"] == []


def test_xlsx_report_holds_the_same_figures(world: World) -> None:
    r = world.client.get(
        "/scores/units/unit-a/report.xlsx?start=2026-11-01&end=2026-11-30",
        headers=world.as_("viewer"),
    )
    assert r.status_code == 200
    assert "skm-unit-a-2026-11-01-2026-11-30.xlsx" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["IKM"]
    rows = {row[0]: row[1:] for row in ws.iter_rows(values_only=True) if row and row[0]}
    assert rows["Unit"][0] == "Unit A"
    assert rows["Periode"][0] == "2026-11-01 s.d. 2026-11-30"
    assert rows["Jumlah responden (n)"][0] == 2
    assert rows["Sampel minimum (Krejcie-Morgan)"][0] == 44
    assert rows[1][:3] == ("Persyaratan", 3.5, 0.389)
    assert rows[9][:3] == ("Sarana dan Prasarana", 3.5, 0.389)
    values = {row[1]: row[2] for row in ws.iter_rows(values_only=True) if row and row[1]}
    # 2 responses, fewer than IKM_MIN_RESPONSES (10): no figure, no grade (the API has 76.39).
    assert values["IKM"] == values["Mutu pelayanan"] == "belum cukup data (n = 2)"
    too_few = "belum cukup data (n = 2)"
    assert list(wb["Per layanan"].iter_rows(values_only=True))[1] == ("KTP-el", 2, too_few, too_few)


def test_bad_query_and_body_get_problem_details(world: World) -> None:
    c, h = world.client, world.as_("admin")
    r = c.get("/scores/units/unit-a?start=2026-12-01&end=2026-11-01", headers=h)
    assert r.status_code == 422 and "ends before" in r.json()["detail"]
    r = c.get("/scores/units/unit-a?start=yesterday", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["location"] == "query.start"
    r = c.post("/officers", headers=h, json={"nip": "123", "name": "X", "unit_code": "unit-a"})
    assert r.status_code == 422 and "18 digits" in r.json()["detail"]
    r = c.post("/units", headers=h, json={"code": "Bad Code!", "name": "X"})
    assert r.status_code == 422 and "lowercase" in r.json()["detail"]
    r = c.post("/units", headers=h, json={"code": "unit-a", "name": "Again"})
    assert r.status_code == 409
    r = c.get("/units/nope", headers=h)
    assert r.status_code == 404 and r.json()["title"] == "Not Found"


def test_deactivate_officer_and_filter(world: World) -> None:
    c, h = world.client, world.as_("supervisor")
    r = c.patch(f"/officers/{world.ids['oa']}", headers=h, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert c.get("/officers?unit=unit-a", headers=h).json() == []
    inactive = c.get("/officers?unit=unit-a&active=false", headers=h).json()
    assert [o["name"] for o in inactive] == ["Officer A"]
    assert [o["name"] for o in c.get("/officers?q=officer", headers=h).json()] == []


GOOD_CSV = (
    "nip;name;unit_code;position;active\n"
    "199001012015011001;Agustinus Tefa;unit-a;Petugas Loket;ya\n"
    "199202022016022002;Fransiska Lado;unit-a;Verifikator;\n"
)
BAD_CSV = (
    "nip,name,unit_code\n"
    "199001012015011001,Ok Person,unit-a\n"
    "19900101,Short Nip,unit-a\n"
    "199013012015011001,Bad Month,unit-a\n"
    "199001012015011001,Duplicate,unit-a\n"
    "199303032017031003,,unit-a\n"
    "199404042018041004,Wrong Unit,unit-zzz\n"
)


def test_csv_import_all_or_nothing_with_row_errors(world: World, engine: Engine) -> None:
    c, h = world.client, world.as_("supervisor")

    def upload(text: str, dry_run: bool = False) -> Any:
        files = {"file": ("roster.csv", text.encode(), "text/csv")}
        return c.post(f"/officers/import?dry_run={str(dry_run).lower()}", headers=h, files=files)

    r = upload(BAD_CSV)
    assert r.status_code == 422
    errors = {(e["row"], e["column"]) for e in r.json()["errors"]}
    assert errors == {(3, "nip"), (4, "nip"), (5, "nip"), (6, "name"), (7, "unit_code")}
    with Session(engine) as s:
        assert len(s.exec(select(Officer)).all()) == 2  # nothing imported

    dry = upload(GOOD_CSV, dry_run=True)
    assert dry.json() == {"created": 2, "updated": 0, "dry_run": True, "errors": []}
    with Session(engine) as s:
        assert len(s.exec(select(Officer)).all()) == 2

    ok = upload(GOOD_CSV)
    assert ok.json() == {"created": 2, "updated": 0, "dry_run": False, "errors": []}
    again = upload(GOOD_CSV.replace("Petugas Loket", "Kepala Seksi"))
    assert again.json()["updated"] == 2
    with Session(engine) as s:
        tefa = s.exec(select(Officer).where(Officer.nip == "199001012015011001")).one()
        assert tefa.position == "Kepala Seksi" and tefa.active and len(tefa.public_code) == 8

    r = upload("name,unit_code\nX,unit-a\n")
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "nip"
    r = c.post(
        "/officers/import", headers=h, files={"file": ("x.csv", b"\xff\xfe\x00bad", "text/csv")}
    )
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]
