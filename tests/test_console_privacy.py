"""Privacy is a rule of every console page: after reports of every privacy level in two
units, every GET page of the console, for every role of each unit and for a supervisor
linked to the officer the reports name, shows only the reports that actor may open, and a
reporter only where the rules allow (core.access.can_view_case, can_see_reporter).

The GET pages are taken from the console itself: a page this test does not list fails it,
so a new page must say how it is checked before it can land."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.site import create_site
from console import create_console
from core.access import actor_for, can_see_reporter, can_view_case
from core.cases import service as svc
from core.cases.models import Case, Privacy
from core.evaluations import service as ev
from core.people.models import Role
from core.policies import build
from core.shared.config import Settings
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, make_officer, make_unit, make_user, record_running_bot
from tests.test_privacy_figures import get_paths

# How each GET page is filled in: {reference} takes every report's reference in turn.
PAGES: dict[str, str] = {
    "/login": "open",
    "/password": "page",
    "/": "page",
    "/inbox/views": "page",
    "/cases/{reference}": "case",
    "/cases/{reference}/photos/{attachment_id}": "photo",
    "/intake": "page",
    "/canned": "page",
    "/calendar": "page",
    "/scores": "page",
    "/scores/{code}": "unit",
    "/scores/{code}/report.xlsx": "unit",
    "/scores/{code}/report.pdf": "unit",
    "/evaluations": "page",
    "/evaluations/{period_id}": "period",
    "/evaluations/{period_id}/finalize": "period",
    "/evaluations/{period_id}/export.csv": "period",
    "/evaluations/{period_id}/export.xlsx": "period",
    "/users": "page",
    "/telegram": "page",
    "/units": "page",
    "/units/qr-sheet.pdf": "page",
    "/units-import": "page",
    "/officers/import": "page",
    "/units/{code}": "unit",
    "/units/{code}/qr.{kind}": "unit",
    "/units/{code}/qr-sheet.pdf": "unit",
    "/digests": "page",
    "/digests/{code}/{week}/chart.png": "unit",
    "/officers/{officer_ref}": "officer",
    "/paper": "page",
    "/paper/import": "page",
    "/me/evaluations": "page",
    "/me/evaluations/{period_id}": "period",
    "/audit": "page",
    "/backup": "page",
    "/qr": "page",
    "/units/{code}/qr": "unit",
    "/recap": "page",
    "/recap.xlsx": "page",
    "/recap.pdf": "page",
}
# What the other parts of a page's path are filled with (a unit's pages: each unit in turn).
FILL = {"{kind}": "svg", "{week}": "2026-W47"}
USERS = ("admin", "spv-a", "head-a", "viewer-a", "spv-b", "linked-a", "officer-a")


@dataclass
class Report:
    case: Case
    description: str
    reporter: str  # the Telegram chat id: the contact shown to those who may see it


@dataclass
class World:
    client: TestClient
    reports: list[Report]
    engine: Engine
    period_id: int
    officer_id: int


@pytest.fixture
def world(settings: Settings, engine: Engine) -> World:
    policies = build(settings, engine)
    reports: list[Report] = []
    with Session(engine, expire_on_commit=False) as s:
        a, b = make_unit(s, "unit-a"), make_unit(s, "unit-b")
        yohanes = make_officer(s, a, "Yohanes Ndun")
        make_user(s, "admin", Role.admin)
        record_running_bot(s)
        for name, role, unit in (
            ("spv-a", Role.supervisor, a),
            ("head-a", Role.unit_head, a),
            ("viewer-a", Role.viewer, a),
            ("spv-b", Role.supervisor, b),
        ):
            make_user(s, name, role, [unit])
        linked = make_user(s, "linked-a", Role.supervisor, [a])
        linked.officer_id = yohanes.id
        s.add(linked)
        # A front-line officer's account (their own evaluation only), named by a report.
        maria = make_officer(s, a, "Maria Bria")
        officer = make_user(s, "officer-a", Role.officer)
        officer.officer_id = maria.id
        s.add(officer)
        s.flush()
        for n, (unit, privacy, officer) in enumerate(
            [
                (a, Privacy.biasa, yohanes),
                (a, Privacy.anonim, maria),
                (a, Privacy.rahasia, None),
                (b, Privacy.biasa, None),
            ]
        ):
            assert unit.id is not None
            chat = 880_000 + n
            text = f"Laporan nomor {n} {privacy.value} xq{n}zz tentang loket yang tutup."
            citizen = telegram_citizen(s, chat)
            citizen.phone = f"+62812000077{n}"  # left for a call-back: the reporter's too
            case = svc.file_complaint(
                s,
                citizen,
                svc.ComplaintDraft(
                    unit_id=unit.id,
                    category="lainnya",
                    description=text,
                    privacy=privacy,
                    officer_id=officer.id if officer else None,
                ),
                policies.cases,
            )
            reports.append(Report(case, f"xq{n}zz", str(chat)))
        # An evaluation period of unit-a, computed over these reports (the rahasia one too).
        admin = actor_for(s, _ids(s)["admin"])
        assert admin is not None
        period = ev.create_period(s, "quarterly", date(2026, 10, 1), ["unit-a"], actor=admin)
        ev.compute_period(s, period, ev.EvaluationPolicy(), settings.tz, actor=admin)
        assert period.id is not None
        s.commit()
    assert yohanes.id is not None
    return World(TestClient(create_site(policies)), reports, engine, period.id, yohanes.id)


def _log_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    form = client.get("/staff/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    r = client.post(
        "/staff/login",
        data={"username": username, "password": PASSWORD, "csrf": csrf.group(1), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def _console_pages(settings: Settings, engine: Engine) -> set[str]:
    console = create_console(build(settings, engine))
    return set(get_paths(console.routes)) - {"", "/static"}


def test_every_console_page_is_listed(settings: Settings, engine: Engine) -> None:
    pages = _console_pages(settings, engine)
    assert {"/", "/cases/{reference}"} <= pages
    assert sorted(pages - set(PAGES)) == [], "list these pages in PAGES"


@pytest.mark.parametrize("username", USERS)
def test_every_page_shows_only_what_the_user_may_open(world: World, username: str) -> None:
    client = world.client
    _log_in(client, username)
    with Session(world.engine) as s:
        user_id = {u: i for u, i in _ids(s).items()}[username]
        actor = actor_for(s, user_id)
        assert actor is not None
    hidden = [r for r in world.reports if not can_view_case(r.case, actor=actor)]
    unnamed = [r for r in world.reports if not can_see_reporter(r.case, actor=actor)]
    bodies: list[tuple[str, str]] = []
    for page, kind in PAGES.items():
        if kind in ("open", "page"):
            for query in ("", "?view=all", "?view=all&q=loket", "?view=overdue"):
                r = client.get(f"/staff{page}{query}")
                assert r.status_code in (200, 403), f"{page}{query}: {r.status_code}"
                bodies.append((f"{page}{query}", r.text))
        elif kind in ("unit", "period", "officer"):
            targets = {
                "unit": ["unit-a", "unit-b"],
                "period": [str(world.period_id)],
                "officer": [str(world.officer_id)],
            }[kind]
            for target in targets:
                path = page.replace("{code}", target).replace("{period_id}", target)
                path = path.replace("{officer_ref}", target)
                for part, value in FILL.items():
                    path = path.replace(part, value)
                r = client.get(f"/staff{path}")
                assert r.status_code in (200, 403, 404, 409), f"{path}: {r.status_code}"
                if r.headers.get("content-type", "").startswith(("text/", "application/json")):
                    bodies.append((path, r.text))
        elif kind == "case":
            for report in world.reports:
                r = client.get(f"/staff/cases/{report.case.reference}")
                if report in hidden:
                    assert r.status_code == 404, f"{username} opened {report.case.reference}"
                else:
                    assert r.status_code == 200
                bodies.append((report.case.reference, r.text))
    listed = dict(bodies)["/?view=all"]
    for report in world.reports:  # the pages looked at really list what the user may open
        if report not in hidden:
            assert report.case.reference in listed, f"{username} misses {report.case.reference}"
    for where, body in bodies:
        for report in hidden:
            assert report.case.reference not in body, f"{where} names {report.case.reference}"
            assert report.description not in body, f"{where} shows {report.case.reference}"
        for report in unnamed:
            assert report.reporter not in body, f"{where} shows the reporter of a report"
            phone = f"+62812000077{world.reports.index(report)}"
            assert phone not in body, f"{where} shows the phone of a hidden reporter"
    for report in world.reports:  # and the number is there for those who may see it
        if report not in unnamed:
            page = dict(bodies)[report.case.reference]
            assert f"+62812000077{world.reports.index(report)}" in page


def _ids(s: Session) -> dict[str, int]:
    from sqlmodel import select

    from core.people.models import AppUser

    return {u.username: u.id or 0 for u in s.exec(select(AppUser)).all()}


def test_odd_ids_and_numbers_get_an_answer_not_an_error(world: World) -> None:
    client = world.client
    _log_in(client, "admin")
    ref = world.reports[0].case.reference
    for path in (
        "/staff/?unit=%C2%B2",  # a superscript two: a digit to str.isdigit, not to int()
        "/staff/?unit=99999999999999999",
        "/staff/inbox/views?unit=%C2%B2",
        f"/staff/cases/{ref}?canned=%C2%B2",
        f"/staff/cases/{ref}?canned=999999999999",
        f"/staff/cases/{ref}/photos/99999999999999999999999",
        f"/staff/cases/{ref}/photos/0",
    ):
        r = client.get(path)
        assert r.status_code in (200, 400, 404, 422), f"{path}: {r.status_code}"
        assert "Content-Security-Policy" in r.headers, path
    form = client.get("/staff/intake").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    for unit in ("\u00b2", "99999999999"):
        r = client.post("/staff/intake", data={"csrf": csrf.group(1), "unit": unit})
        assert r.status_code == 400, unit  # the form again, saying what to fix


def test_logging_in_on_a_browser_signs_out_whoever_was_signed_in(world: World) -> None:
    client = world.client
    _log_in(client, "admin")
    admin_cookie = client.cookies.get("asnfb_staff")
    assert admin_cookie
    form = client.get("/staff/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    r = client.post(
        "/staff/login",
        data={"username": "spv-b", "password": PASSWORD, "csrf": csrf.group(1), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    stolen = TestClient(client.app, cookies={"asnfb_staff": admin_cookie})
    assert stolen.get("/staff/", follow_redirects=False).status_code == 303  # to the login


def test_a_reject_naming_an_unknown_or_hidden_original_keeps_the_form(world: World) -> None:
    """The original named as duplicate is looked up as the user: a report they may not open
    is answered like no report, on the form, with what they typed kept."""
    client = world.client
    _log_in(client, "head-a")
    ordinary = world.reports[0].case.reference
    secret = world.reports[2].case.reference  # rahasia: hidden from the unit head
    page = client.get(f"/staff/cases/{ordinary}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    answers = []
    for original in (secret, "KPG-0000-0000"):
        r = client.post(
            f"/staff/cases/{ordinary}/reject",
            data={
                "csrf": csrf.group(1),
                "reason": "Sama dengan laporan lain.",
                "duplicate_of": original,
            },
        )
        assert r.status_code == 400
        assert "Tidak ada laporan dengan nomor tersebut yang dapat Anda buka" in r.text
        assert "Sama dengan laporan lain." in r.text  # what was typed is kept
        answers.append(r.text.replace(original, "REF"))
    assert world.reports[2].description not in answers[0]
