"""Privacy is a rule of every figure: after a scripted run with `biasa`, `anonim` and
`rahasia` complaints in two units (one `rahasia` case substantiated), every GET route, every
export, every evaluation view and every digest and reminder text, for every role of each
unit and for a supervisor linked to the officer the complaints name, shows only what is
derived from cases that actor may open (core.access.can_view_case).

The GET routes are taken from the application itself: a route this test does not classify
fails it, so a new page must say how it is checked before it can land."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.routing import BaseRoute

from admin_api import create_app
from core.access import Actor, actor_for, can_view_case, may_open_every_case
from core.cases import service as svc
from core.cases.models import OPEN_STATUSES, Case, CaseOutcome, Privacy
from core.cases.reminders import send_reminders
from core.cases.sla import SlaPolicy
from core.digests.service import IsoWeek, send_unit_digest
from core.evaluations import service as ev
from core.masterdata.models import Unit
from core.outbox.models import OutboundMessage
from core.people.models import AppUser, Citizen, Role
from core.shared.clock import local_day_bounds_utc, utcnow
from core.shared.config import Settings
from tests.contacts import (
    chat_of,
    link_telegram,
    telegram_chat_of,
    telegram_citizen,
    telegram_user_of,
)
from tests.factories import PASSWORD, add_response, make_officer, make_service, make_unit, make_user

UNITS = ("unit-a", "unit-b")
FIGURES = ("complaints_received", "complaints_substantiated", "cases_overdue")
SUGGESTION_KEYS = ("suggested_level", "suggestion_reason", "suggestion_reason_en")

# How each GET route is checked. "cases": the figures are the visible cases; "case": 200 only
# for a case the actor may open; "evaluation": officer figures over visible cases, no
# suggestion without full evidence; "scan": derives nothing from cases, so it must not name a
# hidden case; "binary": an image or PDF that carries no case data (scanned as bytes too).
ROUTES: dict[str, str] = {
    "/healthz": "scan",
    "/readyz": "scan",
    "/auth/me": "scan",
    "/units": "scan",
    "/units/{code}": "scan",
    "/services": "scan",
    "/officers": "scan",
    "/officers/{officer_id}": "scan",
    "/users": "scan",
    "/users/{user_id}": "scan",
    "/audit/access": "scan",
    "/scores/units": "scan",
    "/scores/units/{code}": "scan",
    "/scores/units/{code}/report.xlsx": "xlsx",
    "/scores/units/{code}/report.pdf": "binary",
    "/scores/units/{code}/follow-up": "scan",
    "/scores/units/{code}/comments": "scan",
    "/scores/officers": "scan",
    "/scores/officers/{officer_id}": "scan",
    "/qr/{code}": "binary",
    "/qr/{code}/sheet.pdf": "binary",
    "/cases": "cases",
    "/cases/recap.xlsx": "xlsx",
    "/cases/recap.pdf": "binary",
    "/cases/{case_id}": "case",
    "/cases/{case_id}/attachments/{attachment_id}": "case",
    "/digests/{code}/{week}": "digest",
    "/digests/{code}/{week}/chart.png": "binary",
    "/evaluation-periods": "scan",
    "/evaluation-periods/{period_id}": "evaluation",
    "/evaluation-periods/{period_id}/audit": "evaluation",
    "/evaluation-periods/{period_id}/export.csv": "evaluation-csv",
    "/evaluation-periods/{period_id}/export.xlsx": "evaluation-xlsx",
    "/closed-days": "scan",
}


@dataclass
class World:
    client: TestClient
    cases: list[Case]
    periods: dict[str, int]  # unit code -> its evaluation period
    officers: dict[str, int]  # unit code -> officer id
    users: dict[str, int]  # username -> id
    marker: dict[int, str] = field(default_factory=dict)  # case id -> word only it contains
    week: str = ""


def _marker(unit: str, privacy: Privacy, n: int) -> str:
    return f"PENANDA{unit[-1].upper()}{privacy.value.upper()}{n}"


@pytest.fixture
def world(settings: Settings, engine: Engine) -> World:
    policy = svc.CasePolicy(sla=SlaPolicy(tz=settings.tz))
    now = utcnow()
    with Session(engine, expire_on_commit=False) as s:
        units = {code: make_unit(s, code, f"Unit {code}") for code in UNITS}
        officers = {code: make_officer(s, u, f"Petugas {code}") for code, u in units.items()}
        services = {code: make_service(s, u, "KTP-el") for code, u in units.items()}
        admin_user = make_user(s, "admin", Role.admin)
        users = {"admin": admin_user}
        for code, unit in units.items():
            for role in (Role.supervisor, Role.unit_head, Role.viewer):
                name = f"{role.value.replace('_', '')}-{code[-1]}"
                users[name] = make_user(s, name, role, [unit])
        linked = make_user(s, "linked-a", Role.supervisor, [units["unit-a"]])
        linked.officer_id = officers["unit-a"].id
        users["linked-a"] = linked
        for n, user in enumerate(users.values()):
            s.add(user)
            s.flush()
            link_telegram(s, user, 70_000 + n)
        admin = Actor(admin_user.id or 0, "admin", Role.admin)
        cases: list[Case] = []
        markers: dict[int, str] = {}
        reporter = 880_000
        for code in UNITS:
            for n, privacy in enumerate(Privacy):
                reporter += 1
                citizen = telegram_citizen(s, reporter)
                word = _marker(code, privacy, n)
                case = svc.file_complaint(
                    s,
                    citizen,
                    svc.ComplaintDraft(
                        unit_id=units[code].id or 0,
                        officer_id=officers[code].id,
                        category="pungli",
                        privacy=privacy,
                        description=f"{word}: petugas meminta uang tambahan di loket.",
                        latitude=-10.17,
                        longitude=123.6,
                    ),
                    policy,
                    now=now - timedelta(days=20),
                )
                cases.append(case)
                markers[case.id or 0] = word
                add_response(
                    s, units[code], [3] * 9, now - timedelta(days=1), services[code],
                    officers[code], citizen_id=citizen.id,
                )  # fmt: skip
        secret = next(
            c for c in cases if c.privacy == Privacy.rahasia and c.unit_id == units["unit-a"].id
        )
        svc.verify(s, secret, policy, actor=admin)
        svc.assign(s, secret, actor=admin, assignee_id=users["supervisor-a"].id)
        svc.resolve(s, secret, CaseOutcome.substantiated, "Petugas ditegur.", actor=admin)
        # A biasa case rejected as a duplicate of the secret one: its reason must not carry
        # the secret case's reference to anyone who may not open that case.
        dup_citizen = telegram_citizen(s, 889_999)
        dup = svc.file_complaint(
            s,
            dup_citizen,
            svc.ComplaintDraft(
                unit_id=units["unit-a"].id or 0,
                category="pungli",
                description="PENANDADUP: laporan yang sama tentang uang tambahan.",
            ),
            policy,
            now=now - timedelta(days=19),
        )
        svc.reject(s, dup, "Laporan ganda", actor=admin, duplicate_of=secret.reference)
        cases.append(dup)
        markers[dup.id or 0] = "PENANDADUP"
        start = (now - timedelta(days=40)).date()
        periods = {}
        for code in UNITS:
            period = ev.create_period(s, "annual", date(start.year, 1, 1), [code], actor=admin)
            ev.compute_period(s, period, ev.EvaluationPolicy(), settings.tz, actor=admin)
            periods[code] = period.id or 0
        s.commit()
        world = World(
            client=TestClient(create_app(settings, engine)),
            cases=cases,
            periods=periods,
            officers={code: o.id or 0 for code, o in officers.items()},
            users={name: u.id or 0 for name, u in users.items()},
            marker=markers,
            week=str(IsoWeek.of(now.astimezone(settings.tz).date())),
        )
    return world


def _actor(engine: Engine, user_id: int) -> Actor:
    with Session(engine) as s:
        actor = actor_for(s, user_id)
    assert actor is not None
    return actor


def _expected_figures(world: World, actor: Actor, officer_id: int) -> dict[str, int]:
    seen = [c for c in world.cases if c.officer_id == officer_id and can_view_case(c, actor=actor)]
    return {
        "complaints_received": len(seen),
        "complaints_substantiated": sum(
            c.outcome in (CaseOutcome.substantiated, CaseOutcome.partly) for c in seen
        ),
    }


def _rows_with_officer(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if "officer_id" in value:
            yield value
        for child in value.values():
            yield from _rows_with_officer(child)
    elif isinstance(value, list):
        for child in value:
            yield from _rows_with_officer(child)


def _check_officer_rows(world: World, actor: Actor, rows: list[dict[str, Any]], where: str) -> None:
    units = {c.unit_id for c in world.cases if c.officer_id in {r["officer_id"] for r in rows}}
    full = may_open_every_case(units, actor=actor)
    for row in rows:
        officer_id = int(row["officer_id"])
        expected = _expected_figures(world, actor, officer_id)
        for key, want in expected.items():
            got = row.get(key)
            if got not in (None, ""):
                assert int(got) == want, f"{actor.username}: {where} {key} {got} != {want}"
        if not full:
            for key in SUGGESTION_KEYS:
                assert row.get(key) in (None, ""), f"{actor.username}: {where} shows {key}"


def _table_rows(header: list[str], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Export rows keyed by header; the officer is found through the NIP-less id or name."""
    return [dict(zip(header, r, strict=False)) for r in rows]


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _urls(world: World, path: str) -> list[tuple[str, dict[str, str]]]:
    """Every concrete URL for a route pattern (each unit, officer and case), with a query."""
    query = {"start": "2026-01-01", "end": "2026-12-31", "lang": "id"}
    if "{case_id}" in path:
        return [(path.format(case_id=c.id, attachment_id=1), query) for c in world.cases]
    urls = []
    for code in UNITS:
        url = path.format(
            user_id=world.users[f"viewer-{code[-1]}"],
            code=code,
            officer_id=world.officers[code],
            period_id=world.periods[code],
            week=world.week,
        )
        urls.append((url, {**query, "unit": code}))
    return urls


def _all_cases(client: TestClient, headers: dict[str, str]) -> set[int]:
    seen: set[int] = set()
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = client.get("/cases", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        seen |= {item["id"] for item in body["items"]}
        cursor = body.get("next_cursor")
        if not cursor:
            return seen


def get_paths(routes: list[Any], prefix: str = "") -> Iterator[str]:
    """Every GET path of an application, through included routers and mounts."""
    for route in routes:
        context = getattr(route, "include_context", None)
        if context is not None:  # FastAPI >= 0.16x keeps included routers as one node
            yield from get_paths(route.original_router.routes, prefix + context.prefix)
        elif isinstance(route, BaseRoute) and "GET" in (getattr(route, "methods", None) or ()):
            yield prefix + str(getattr(route, "path", ""))
        elif hasattr(route, "routes"):
            yield from get_paths(route.routes, prefix + str(getattr(route, "path", "")))


DOCS = {"/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"}


def test_every_get_route_is_classified(world: World) -> None:
    routes = set(get_paths(world.client.app.routes))  # type: ignore[attr-defined]
    assert {"/cases", "/units"} <= routes  # the walk reaches included routers
    unclassified = sorted(routes - set(ROUTES) - DOCS)
    assert unclassified == [], f"classify these routes in ROUTES: {unclassified}"


@pytest.mark.parametrize(
    "username",
    [
        "admin",
        "supervisor-a",
        "unithead-a",
        "viewer-a",
        "supervisor-b",
        "unithead-b",
        "viewer-b",
        "linked-a",
    ],
)
def test_every_route_shows_only_what_the_actor_may_open(
    world: World, engine: Engine, username: str
) -> None:
    client = world.client
    actor = _actor(engine, world.users[username])
    headers = _login(client, username)
    visible = {c.id for c in world.cases if can_view_case(c, actor=actor)}
    hidden_words = [world.marker[c.id or 0] for c in world.cases if c.id not in visible]
    hidden_refs = [c.reference for c in world.cases if c.id not in visible]
    routes = set(get_paths(client.app.routes)) - DOCS  # type: ignore[attr-defined]
    checked = 0
    for path in sorted(routes):
        kind = ROUTES[path]
        for url, params in _urls(world, path):
            r = client.get(url, params=params, headers=headers)
            # /readyz: 503 here only because the test schema is not made by migrations.
            assert r.status_code < 500 or path == "/readyz", f"{username}: {url} -> {r.status_code}"
            body = r.content
            for word in (*hidden_words, *hidden_refs):
                assert word.encode() not in body, f"{username}: {url} names hidden {word}"
            checked += 1
            if kind == "case" and "/attachments/" not in url:
                case_id = int(url.split("/")[2])
                assert (r.status_code == 200) is (case_id in visible), f"{username}: {url}"
                if r.status_code == 200:
                    detail = r.json()["case"]
                    shows_place = detail.get("latitude") is not None
                    case = next(c for c in world.cases if c.id == case_id)
                    if case.privacy != Privacy.biasa and not actor.is_admin:
                        assert not shows_place, f"{username}: location of {case.privacy} case"
            elif kind == "cases":
                assert _all_cases(client, headers) == visible
            elif kind == "evaluation" and r.status_code == 200:
                _check_officer_rows(world, actor, list(_rows_with_officer(r.json())), url)
            elif kind == "evaluation-csv" and r.status_code == 200:
                rows = list(csv.reader(io.StringIO(r.text)))
                _check_export(world, actor, rows, url)
            elif kind == "evaluation-xlsx" and r.status_code == 200:
                sheet = load_workbook(io.BytesIO(body)).active
                assert sheet is not None
                rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
                _check_export(world, actor, rows, url)
            elif kind == "digest" and r.status_code == 200:
                assert actor.is_admin, f"{username} previews a digest"
    assert checked >= len(routes)


def _check_export(world: World, actor: Actor, rows: list[list[Any]], url: str) -> None:
    header = [str(h) for h in rows[0]]
    by_name = {f"Petugas {code}": oid for code, oid in world.officers.items()}
    keyed = []
    for row in _table_rows(header, rows[1:]):
        name = next((v for v in row.values() if str(v) in by_name), None)
        if name is None:
            continue
        keyed.append({"officer_id": by_name[str(name)], **row})
    assert keyed, f"{url}: no officer rows"
    _check_officer_rows(world, actor, keyed, url)


def _due_before(case: Case, moment: datetime) -> bool:
    return case.due_at is not None and case.due_at < moment


DIGEST_CASES = re.compile(r"(\d+) baru, (\d+) terbuka, (\d+) terlambat, (\d+) selesai")


def test_digests_and_reminders_count_only_what_the_recipient_may_open(
    world: World, engine: Engine, settings: Settings
) -> None:
    now = utcnow()
    week = IsoWeek.of(now.astimezone(settings.tz).date())
    lo, hi = local_day_bounds_utc(week.monday(), week.sunday(), settings.tz)
    for code in UNITS:
        with Session(engine) as s:
            unit_id = s.exec(select(Unit.id).where(Unit.code == code)).one()
        send_unit_digest(engine, unit_id or 0, week, settings.tz, 100, "test:1:1", now=now)
    send_reminders(engine, SlaPolicy(tz=settings.tz), now=now + timedelta(days=90))
    with Session(engine) as s:
        users = {telegram_chat_of(s, u): u for u in s.exec(select(AppUser)).all()}
        messages = s.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        citizens = {telegram_user_of(s, c): c.id for c in s.exec(select(Citizen)).all()}
    assert messages, "no digest or reminder was queued"
    readers = set()
    for message in messages:
        text = json.dumps(json.loads(message.params), ensure_ascii=False)
        user = users.get(chat_of(message))
        if user is None:  # a citizen: told only of their own reports
            own = citizens[chat_of(message)]
            for case in world.cases:
                if case.citizen_id != own:
                    assert case.reference not in text, f"citizen is told of {case.reference}"
            continue
        actor = _actor(engine, user.id or 0)
        visible = [c for c in world.cases if can_view_case(c, actor=actor)]
        for case in world.cases:
            if case not in visible:
                assert case.reference not in text, f"{user.username} is told of {case.reference}"
                assert world.marker[case.id or 0] not in text
        found = DIGEST_CASES.search(text)
        if found:
            readers.add(user.username)
            mine = [c for c in visible if c.unit_id in actor.unit_ids]
            expected = (
                sum(lo <= c.received_at < hi for c in mine),
                sum(c.status in OPEN_STATUSES for c in mine),
                sum(
                    c.status in OPEN_STATUSES and c.due_at is not None and c.due_at < hi
                    for c in mine
                ),
                sum(c.resolved_at is not None and lo <= c.resolved_at < hi for c in mine),
            )
            got = tuple(int(n) for n in found.groups())
            assert got == expected, f"{user.username}: digest counts {got} != {expected}"
        if "Petugas dengan pengaduan terbukti" in text:
            assert any(c.outcome == CaseOutcome.substantiated for c in visible), (
                f"{user.username} is told of a substantiated case they may not open"
            )
    assert readers >= {"unithead-a", "unithead-b"}
