"""Hostile input to the admin API: every answer is a 4xx problem, never a 5xx."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.masterdata.models import Unit
from core.people.models import Role
from core.shared.config import Settings
from tests.factories import PASSWORD, make_officer, make_unit, make_user


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil")
        make_officer(s, unit, "Yohanes Ndun")
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


# Numbers, dates and cursors at the edges: a 422 that says what is wrong, never a 500 ---------

# Examples and deadline from the profile (tests/conftest.py); the client is shared by examples.
FUZZ = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BAD_POPULATIONS: list[Any] = [0, -1, -(10**6), 300_000_001, 2**31, 2**63, 10**30, True, 1.5, "12"]
EDGE_DAYS = ("0001-01-01", "0001-01-02", "1999-12-31", "2100-01-01", "9999-12-30", "9999-12-31")


def _officer_id(client: TestClient) -> int:
    return int(client.get("/officers").json()[0]["id"])


def _date_routes(client: TestClient) -> list[tuple[str, dict[str, str]]]:
    """(path, fixed query) of every route that takes dates; `start`/`end` or
    `received_from`/`received_to` are added by the caller."""
    officer = _officer_id(client)
    return [
        ("/scores/units", {}),
        ("/scores/units/dukcapil", {}),
        ("/scores/units/dukcapil/report.xlsx", {}),
        ("/scores/officers", {"unit": "dukcapil"}),
        (f"/scores/officers/{officer}", {}),
    ]


def _scores_all_answer(client: TestClient) -> None:
    for path in ("/scores/units", "/scores/units/dukcapil", "/scores/units/dukcapil/report.xlsx"):
        r = client.get(path, params={"start": "2026-11-01", "end": "2026-11-30"})
        assert r.status_code == 200, (path, r.text[:200])


def test_service_population_must_be_sane_at_input(client: TestClient) -> None:
    """A population of 0 or less (or past any real one) is refused when created, updated
    or imported, so it can never turn the scores and the SKM report into 500s."""
    for n, bad in enumerate(BAD_POPULATIONS):
        r = client.post("/units", json={"code": f"pop-{n}", "name": "X", "service_population": bad})
        _problem(r, 422)
        assert "service_population" in r.json()["detail"], r.json()
        r = client.patch("/units/dukcapil", json={"service_population": bad})
        _problem(r, 422)
        assert "service_population" in r.json()["detail"], r.json()
        _scores_all_answer(client)
    ok = client.patch("/units/dukcapil", json={"service_population": 300_000_000})
    assert ok.status_code == 200 and ok.json()["service_population"] == 300_000_000
    assert client.patch("/units/dukcapil", json={"service_population": None}).status_code == 200
    created = client.post("/units", json={"code": "pop-ok", "name": "X", "service_population": 1})
    assert created.status_code == 201
    _scores_all_answer(client)


def test_a_stored_non_positive_population_falls_back_to_the_default(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    """A row written before input was validated does not break the pages for everyone."""
    for population in (0, -5):
        with Session(engine) as s:
            unit = s.exec(select(Unit).where(Unit.code == "dukcapil")).one()
            unit.service_population = population
            s.add(unit)
            s.commit()
        _scores_all_answer(client)
        detail = client.get("/scores/units/dukcapil").json()
        assert detail["unit"]["population"] == settings.default_service_population


def test_dates_at_the_ends_of_the_calendar_are_a_422(client: TestClient) -> None:
    for path, fixed in _date_routes(client):
        for day in EDGE_DAYS:
            for params in (
                {"start": day, "end": "2026-11-30"},
                {"start": "2026-11-01", "end": day},
            ):
                r = client.get(path, params={**fixed, **params})
                _problem(r, 422)
                assert "2000-01-01" in r.json()["detail"], (path, params, r.json())
    r = client.get("/scores/units", params={"end": "0001-01-01"})  # start from the default
    _problem(r, 422)
    for day in EDGE_DAYS:
        for key in ("received_from", "received_to"):
            r = client.get("/cases", params={key: day})
            _problem(r, 422)
            assert key in r.json()["detail"] and "2099-12-31" in r.json()["detail"]


def test_received_dates_that_run_backwards_are_a_422(client: TestClient) -> None:
    """As the scores and the audit answer a range that ends before it starts."""
    backwards = {"received_from": "2026-12-01", "received_to": "2026-11-01"}
    r = client.get("/cases", params=backwards)
    _problem(r, 422)
    assert r.json()["detail"] == "received_to must not be before received_from"
    one_day = {"received_from": "2026-11-01", "received_to": "2026-11-01"}
    assert client.get("/cases", params=one_day).status_code == 200


def test_evaluation_periods_in_years_like_0001_or_9999_are_a_422(client: TestClient) -> None:
    for kind, start in (
        ("monthly", "0001-01-01"),
        ("quarterly", "0001-01-01"),
        ("annual", "0001-01-01"),
        ("monthly", "9999-12-01"),
        ("quarterly", "9999-10-01"),
        ("annual", "9999-01-01"),
        ("annual", "2100-01-01"),
    ):
        body = {"kind": kind, "start": start, "unit_codes": ["dukcapil"]}
        r = client.post("/evaluation-periods", json=body)
        _problem(r, 422)
        assert "start" in r.json()["detail"] and "2000-01-01" in r.json()["detail"]
    assert client.get("/evaluation-periods").json() == []
    ok = {"kind": "annual", "start": "2099-01-01", "unit_codes": ["dukcapil"]}
    created = client.post("/evaluation-periods", json=ok)
    assert created.status_code == 201, created.text
    computed = client.post(f"/evaluation-periods/{created.json()['id']}/compute")
    assert computed.status_code == 200, computed.text


def _cursor(*items: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(items)).encode()).decode().rstrip("=")


MALFORMED_CURSORS = [
    _cursor("newest", "0001-01-01T00:00:00+14:00", 1),
    _cursor("newest", "9999-12-31T23:59:59-12:00", 1),
    _cursor("newest", "9999-12-31T23:59:59+00:00", 1),
    _cursor("newest", "2026-01-01T00:00:00+00:00", 2**63),
    _cursor("newest", "2026-01-01T00:00:00+00:00", 10**30),
    _cursor("newest", "2026-01-01T00:00:00+00:00", True),
    _cursor("newest", "2026-01-01T00:00:00+00:00", 1.5),
    _cursor("newest", "2026-01-01T00:00:00+00:00", "1"),
    _cursor("newest", "2026-01-01T00:00:00", 1),  # no time zone
    _cursor("newest", 20260101, 1),
    _cursor("due", "2026-01-01T00:00:00+00:00", 1),  # a cursor of the other order
    _cursor(["newest"], "2026-01-01T00:00:00+00:00", 1),
    _cursor("newest", "2026-01-01T00:00:00+00:00"),
    base64.urlsafe_b64encode(b'{"a": 1, "b": 2, "c": 3}').decode(),
    base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    "!!!",
    "====",
]


def test_malformed_and_extreme_cursors_are_a_422(client: TestClient) -> None:
    for cursor in MALFORMED_CURSORS:
        r = client.get("/cases", params={"cursor": cursor})
        _problem(r, 422)
        assert "cursor" in r.json()["detail"], (cursor, r.json())


def test_numbers_past_64_bits_in_filters_are_a_422(client: TestClient) -> None:
    for params in ({"officer_id": 2**63}, {"officer_id": -(2**64)}):
        r = client.get("/cases", params=params)
        _problem(r, 422)
        assert "officer_id" in r.json()["detail"]
    _problem(client.get("/officers", params={"offset": 10**30}), 422)
    _problem(client.get("/officers/99999999999999999999999"), 404)  # no item has that id


@FUZZ
@given(start=st.dates(), end=st.dates())
@example(start=date.min, end=date.max)
@example(start=date.max, end=date.max)
@example(start=date(2026, 11, 1), end=date(2026, 11, 30))
def test_any_date_range_is_an_answer_or_a_422(client: TestClient, start: date, end: date) -> None:
    """Property: on every route that takes dates, any pair of dates is either answered or
    refused with a 422 problem; a valid range inside the calendar window is answered."""
    valid = date(2000, 1, 1) <= start <= end <= date(2099, 12, 31) and (end - start).days <= 3 * 366
    for path, fixed in _date_routes(client):
        r = client.get(path, params={**fixed, "start": start.isoformat(), "end": end.isoformat()})
        if valid:
            assert r.status_code == 200, (path, start, end, r.text[:200])
        else:
            _problem(r, 422)
    r = client.get(
        "/cases", params={"received_from": start.isoformat(), "received_to": end.isoformat()}
    )
    assert r.status_code in (200, 422), r.text[:200]


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)


def _moment(day: date, offset: timedelta) -> str:
    return datetime.combine(day, time.min, timezone(offset)).isoformat()


# Any day of the calendar at any UTC offset: 0001-01-01+14:00 and 9999-12-31-12:00 included.
moments = st.builds(
    _moment,
    st.dates(),
    st.integers(min_value=-23 * 60, max_value=23 * 60).map(
        lambda minutes: timedelta(minutes=minutes)
    ),
)


@FUZZ
@given(
    sort=st.sampled_from(["newest", "due"]),
    items=st.one_of(
        st.tuples(st.sampled_from(["newest", "due"]), moments, json_scalars),
        st.lists(json_scalars, max_size=4),
    ),
)
@example(sort="newest", items=("newest", "0001-01-01T00:00:00+14:00", 1))
@example(sort="due", items=("due", "9999-12-31T23:59:59-12:00", 2**63))
def test_any_cursor_is_a_page_or_a_422(client: TestClient, sort: str, items: Any) -> None:
    raw = json.dumps(list(items) if isinstance(items, tuple) else items)
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    r = client.get("/cases", params={"sort": sort, "cursor": cursor[:200]})
    if r.status_code != 200:
        _problem(r, 422)
        assert "cursor" in r.json()["detail"]
