"""Cases through the admin API: role x route x unit scope x privacy, anonymity, filters,
pagination and problem details."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.access import Actor
from core.cases import service as svc
from core.cases.models import Case, CaseEvent, CaseOutcome, CaseStatus, Privacy
from core.cases.sla import SlaPolicy
from core.masterdata.models import Unit
from core.people.models import AppUser, Role
from core.shared import db as db
from core.shared.config import Settings
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, make_officer, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
POLICY = svc.CasePolicy(sla=SlaPolicy(tz=WITA))
ROLES = ("admin", "supervisor", "unit_head", "viewer")
REPORTER_ID = 777_000_111
REPORTER_CONTACTS = [{"channel": "telegram", "address": str(REPORTER_ID)}]
DESC = "Petugas tidak ada di loket selama dua jam pada jam kerja."


@dataclass
class Api:
    client: TestClient
    engine: Engine
    units: dict[str, Unit]
    tokens: dict[str, str]
    admin: Actor

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[Api]:
    with Session(engine, expire_on_commit=False) as s:
        a = make_unit(s, "unit-a", "Unit A")
        b = make_unit(s, "unit-b", "Unit B")
        admin = make_user(s, "admin", Role.admin)
        for role in ("supervisor", "unit_head", "viewer"):
            make_user(s, role, Role(role), [a])
        telegram_citizen(s, REPORTER_ID)
        s.commit()
    with TestClient(create_app(settings, engine)) as client:
        tokens = {}
        for role in ROLES:
            r = client.post("/auth/token", data={"username": role, "password": PASSWORD})
            tokens[role] = r.json()["access_token"]
        actor = Actor(admin.id or 0, "admin", Role.admin)
        yield Api(client, engine, {"a": a, "b": b}, tokens, actor)


def make_case(api: Api, unit: str, privacy: Privacy, status: CaseStatus) -> Case:
    """A case brought to `status` through the real transitions."""
    with Session(api.engine, expire_on_commit=False) as s:
        citizen = telegram_citizen(s, REPORTER_ID)
        draft = svc.ComplaintDraft(
            unit_id=api.units[unit].id or 0,
            category="tidak_patut",
            description=DESC,
            privacy=privacy,
        )
        case = svc.file_complaint(
            s, citizen, draft, svc.CasePolicy(sla=POLICY.sla, complaints_per_day=10_000)
        )
        steps: list[Callable[[Case], object]] = []
        if status != CaseStatus.received:
            steps.append(lambda c: svc.verify(s, c, POLICY, actor=api.admin))
        if status in (CaseStatus.in_progress, CaseStatus.resolved):
            steps.append(lambda c: svc.assign(s, c, actor=api.admin, assignee_id=api.admin.user_id))
        if status == CaseStatus.resolved:
            steps.append(
                lambda c: svc.resolve(s, c, CaseOutcome.partly, "Sebagian.", actor=api.admin)
            )
        for step in steps:
            step(case)
        s.commit()
        return case


# route: (method, path suffix, body, status the case needs, success code)
ROUTES: dict[str, tuple[str, str, dict[str, Any] | None, CaseStatus, int]] = {
    "detail": ("GET", "", None, CaseStatus.received, 200),
    "verify": ("POST", "/verify", None, CaseStatus.received, 200),
    "reject": ("POST", "/reject", {"reason": "Bukan kewenangan kami"}, CaseStatus.received, 200),
    "assign": ("POST", "/assign", {"unit_code": "unit-a"}, CaseStatus.verified, 200),
    "request-info": ("POST", "/request-info", {"question": "Kapan?"}, CaseStatus.in_progress, 200),
    "resolve": (
        "POST",
        "/resolve",
        {"outcome": "substantiated", "resolution": "Ditegur."},
        CaseStatus.in_progress,
        200,
    ),
    "close": ("POST", "/close", None, CaseStatus.resolved, 200),
    "reopen": ("POST", "/reopen", {"reason": "Keberatan baru"}, CaseStatus.resolved, 200),
    "notes": ("POST", "/notes", {"body": "Catatan internal"}, CaseStatus.in_progress, 201),
}


def visible(role: str, unit: str, privacy: Privacy) -> bool:
    if role == "admin":
        return True
    if unit != "a":
        return False
    return privacy != Privacy.rahasia or role == "supervisor"


def expected(role: str, route: str, unit: str, privacy: Privacy) -> int:
    if not visible(role, unit, privacy):
        return 404  # never reveals that the case exists
    if route == "detail":
        return 200
    if role == "viewer":
        return 403
    if route == "reopen" and role != "admin":
        return 403
    return ROUTES[route][4]


@pytest.mark.parametrize("role", ROLES)
def test_role_route_scope_privacy_matrix(api: Api, role: str) -> None:
    failures = []
    for route, (method, suffix, body, needs, _) in ROUTES.items():
        for unit in ("a", "b"):
            for privacy in Privacy:
                case = make_case(api, unit, privacy, needs)
                r = api.client.request(
                    method, f"/cases/{case.id}{suffix}", headers=api.h(role), json=body
                )
                want = expected(role, route, unit, privacy)
                if r.status_code != want:
                    failures.append(f"{route} {unit}/{privacy.value}: {r.status_code} != {want}")
                if r.status_code >= 400:
                    assert r.headers["content-type"] == "application/problem+json"
    assert failures == []


def test_lists_show_only_what_each_role_may_see(api: Api) -> None:
    made = {(u, p): make_case(api, u, p, CaseStatus.received) for u in "ab" for p in Privacy}
    for role in ROLES:
        r = api.client.get("/cases", headers=api.h(role))
        got = {item["id"] for item in r.json()["items"]}
        want = {c.id for (u, p), c in made.items() if visible(role, u, p)}
        assert got == want, role


def test_anonymous_reporter_never_reaches_a_non_admin(api: Api) -> None:
    anon = make_case(api, "a", Privacy.anonim, CaseStatus.in_progress)
    plain = make_case(api, "a", Privacy.biasa, CaseStatus.in_progress)
    needle = str(REPORTER_ID)
    for role in ("supervisor", "unit_head", "viewer"):
        bodies = [
            api.client.get("/cases", headers=api.h(role)).text,
            api.client.get(f"/cases/{anon.id}", headers=api.h(role)).text,
            api.client.get("/cases?q=petugas", headers=api.h(role)).text,
        ]
        assert all(needle not in body for body in bodies), role
        detail = api.client.get(f"/cases/{plain.id}", headers=api.h(role)).json()
        assert detail["case"]["reporter"]["contacts"] == REPORTER_CONTACTS  # biasa: staff see
    note = api.client.post(
        f"/cases/{anon.id}/notes", headers=api.h("supervisor"), json={"body": "cek"}
    )
    assert needle not in note.text
    admin_view = api.client.get(f"/cases/{anon.id}", headers=api.h("admin")).json()
    assert admin_view["case"]["reporter"]["contacts"] == REPORTER_CONTACTS


def test_detail_has_the_audit_trail_with_internal_notes_for_staff(api: Api) -> None:
    case = make_case(api, "a", Privacy.biasa, CaseStatus.in_progress)
    api.client.post(
        f"/cases/{case.id}/notes", headers=api.h("supervisor"), json={"body": "rahasia"}
    )
    spv = api.client.get(f"/cases/{case.id}", headers=api.h("supervisor")).json()
    assert [e["kind"] for e in spv["events"]] == ["created", "verified", "assigned", "note"]
    assert spv["events"][3]["actor"] == "supervisor" and spv["events"][0]["actor"] == "citizen"
    viewer = api.client.get(f"/cases/{case.id}", headers=api.h("viewer")).json()
    assert viewer["events"][3]["visibility"] == "internal"


def test_problem_details_for_illegal_and_bad_requests(api: Api) -> None:
    case = make_case(api, "a", Privacy.biasa, CaseStatus.received)
    h = api.h("supervisor")
    assert api.client.post(f"/cases/{case.id}/verify", headers=h).status_code == 200
    again = api.client.post(f"/cases/{case.id}/verify", headers=h)
    assert again.status_code == 409
    assert again.json()["detail"] == (
        "cannot verify a case that is verified; only a case that is received"
    )
    bad = api.client.post(
        f"/cases/{case.id}/resolve", headers=h, json={"outcome": "great", "resolution": "x"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["location"] == "body.outcome"
    assert api.client.get("/cases/999999", headers=h).status_code == 404
    assert api.client.get("/cases?category=nope", headers=h).status_code == 422
    assert api.client.get("/cases?cursor=zzz", headers=h).status_code == 422
    fwd = api.client.post(f"/cases/{case.id}/assign", headers=h, json={"unit_code": "unit-b"})
    nowhere = api.client.post(f"/cases/{case.id}/assign", headers=h, json={"unit_code": "zz"})
    # A supervisor cannot forward outside their scope, and learns nothing of other units:
    # an existing unit elsewhere is answered as a unit that does not exist.
    assert fwd.status_code == nowhere.status_code == 422
    assert fwd.json()["detail"].replace("unit-b", "zz") == nowhere.json()["detail"]


def test_duplicate_hints_in_detail(api: Api) -> None:
    first = make_case(api, "a", Privacy.biasa, CaseStatus.received)
    second = make_case(api, "a", Privacy.biasa, CaseStatus.received)
    detail = api.client.get(f"/cases/{second.id}", headers=api.h("supervisor")).json()
    assert [h["reference"] for h in detail["duplicate_hints"]] == [first.reference]


def test_filters_and_pagination_over_thousands_of_cases(api: Api) -> None:
    rng = random.Random(3)
    now = datetime.now(UTC)
    with Session(api.engine, expire_on_commit=False) as s:
        officer = make_officer(s, api.units["a"], "Yohanes")
        spv = s.exec(select(AppUser).where(AppUser.username == "supervisor")).one()
        rows = []
        for i in range(3000):
            unit = api.units["a" if i % 3 else "b"]
            received = now - timedelta(hours=rng.randrange(0, 24 * 90))
            status = rng.choice(["received", "verified", "in_progress", "resolved", "closed"])
            due = received + timedelta(days=rng.choice([2, 5, 40])) if status != "closed" else None
            rows.append(
                Case(
                    reference=f"TST-{i:05d}",
                    unit_id=unit.id or 0,
                    category=rng.choice(["pungli", "tidak_patut", "penundaan_berlarut"]),
                    officer_id=officer.id if i % 5 == 0 and unit.code == "unit-a" else None,
                    description=("antre lama " if i % 7 == 0 else "") + DESC,
                    status=status,
                    received_at=received,
                    verify_due_at=received,
                    resolve_due_at=received,
                    due_at=due,
                    privacy="anonim" if i % 11 == 0 else "biasa",
                    assignee_id=spv.id if i % 4 == 0 else None,
                    misdirected_at=received if i % 13 == 0 else None,
                )
            )
        s.add_all(rows)
        s.commit()
    h = api.h("supervisor")

    def walk(query: str, limit: int = 200) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(100):
            r = api.client.get(f"/cases?{query}&limit={limit}{cursor}", headers=h)
            assert r.status_code == 200, r.text
            body = r.json()
            items.extend(body["items"])
            if not body["next_cursor"]:
                return items
            cursor = f"&cursor={body['next_cursor']}"
        raise AssertionError("pagination did not end")

    def expect(pred: Callable[[Case], bool]) -> set[str]:
        return {c.reference for c in rows if c.unit_id == api.units["a"].id and pred(c)}

    everything = walk("sort=newest")
    assert len(everything) == len({i["id"] for i in everything}) == len(expect(lambda c: True))
    times = [i["received_at"] for i in everything]
    assert times == sorted(times, reverse=True)
    cases = [
        ("status=received&status=verified", lambda c: c.status in ("received", "verified")),
        ("category=pungli", lambda c: c.category == "pungli"),
        (f"officer_id={officer.id}", lambda c: c.officer_id == officer.id),
        ("q=ANTRE", lambda c: "antre lama" in c.description),
        ("overdue=true", lambda c: c.due_at is not None and c.due_at < datetime.now(UTC)),
        ("privacy=anonim", lambda c: c.privacy == "anonim"),
        (f"assignee_id={spv.id}", lambda c: c.assignee_id == spv.id),
        ("misdirected=true", lambda c: c.misdirected_at is not None),
        ("view=verify", lambda c: c.status == "received"),
        (
            "view=mine",
            lambda c: (
                c.assignee_id == spv.id and c.status in ("received", "verified", "in_progress")
            ),
        ),
    ]
    for query, pred in cases:
        got = {i["reference"] for i in walk(query, limit=97)}
        assert got == expect(pred), query
    start = (now - timedelta(days=30)).astimezone(WITA).date()
    recent = {i["reference"] for i in walk(f"received_from={start.isoformat()}")}
    assert recent == expect(lambda c: c.received_at.astimezone(WITA).date() >= start)
    by_due = walk("sort=due", limit=150)
    dues = [i["due_at"] for i in by_due]
    assert dues == sorted(dues) and None not in dues
    assert api.client.get("/cases?unit=unit-b", headers=h).status_code == 404
    mine = [i["due_at"] for i in walk("view=mine", limit=60)]  # the view's order: urgent first
    assert mine == sorted(mine, key=lambda due: (due is None, due or ""))
    # "Perlu dialihkan" is the admins' view; a supervisor is told so.
    refused = api.client.get("/cases?view=misdirected", headers=h)
    assert refused.status_code == 422 and "not offered" in refused.json()["detail"]
    assert api.client.get("/cases?privacy=secret", headers=h).status_code == 422


def test_attachment_download_for_authorised_users_only(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    import io

    from PIL import Image

    from core.cases.attachments import store_photo
    from core.cases.models import Attachment
    from core.shared.config import load_settings

    cfg = load_settings(
        database_url=settings.database_url,
        environment="test",
        attachments_dir=str(tmp_path),
        _env_file=None,
    )
    with Session(engine, expire_on_commit=False) as s:
        a = make_unit(s, "unit-a", "Unit A")
        b = make_unit(s, "unit-b", "Unit B")
        make_user(s, "spv-a", Role.supervisor, [a])
        make_user(s, "spv-b", Role.supervisor, [b])
        citizen = telegram_citizen(s, REPORTER_ID)
        case = svc.file_complaint(
            s,
            citizen,
            svc.ComplaintDraft(
                unit_id=a.id or 0, category="lainnya", description=DESC, photos=("f1", "f2")
            ),
            POLICY,
        )
        stored, pending = s.exec(select(Attachment).order_by(Attachment.id)).all()
        buf = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buf, "PNG")
        store_photo(s, stored, buf.getvalue(), tmp_path, 1_000_000)
        s.commit()
    with TestClient(create_app(cfg, engine)) as client:

        def h(user: str) -> dict[str, str]:
            r = client.post("/auth/token", data={"username": user, "password": PASSWORD})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        url = f"/cases/{case.id}/attachments"
        ok = client.get(f"{url}/{stored.id}", headers=h("spv-a"))
        assert ok.status_code == 200 and ok.headers["content-type"] == "image/jpeg"
        assert ok.content[:2] == b"\xff\xd8"
        assert client.get(f"{url}/{stored.id}", headers=h("spv-b")).status_code == 404
        assert client.get(f"{url}/{stored.id}").status_code == 401
        waiting = client.get(f"{url}/{pending.id}", headers=h("spv-a"))
        assert waiting.status_code == 404 and "not been downloaded" in waiting.json()["detail"]
        detail = client.get(f"/cases/{case.id}", headers=h("spv-a")).json()
        assert [x["status"] for x in detail["attachments"]] == ["stored", "pending"]


def test_supervisors_writing_at_the_same_moment_all_succeed(api: Api) -> None:
    """Twenty notes posted at once on SQLite: each request that will write waits its turn
    for the write lock (BEGIN IMMEDIATE) instead of failing with "database is locked"."""
    cases = [make_case(api, "a", Privacy.biasa, CaseStatus.in_progress) for _ in range(4)]
    headers = api.h("supervisor")

    def post(n: int) -> int:
        case = cases[n % len(cases)]
        body = {"body": f"Catatan {n}"}
        return api.client.post(f"/cases/{case.id}/notes", headers=headers, json=body).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(post, range(60)))
    assert codes == [201] * 60
    with Session(api.engine) as s:
        notes = s.exec(select(CaseEvent).where(CaseEvent.kind == "note")).all()
    assert len(notes) == 60


def test_a_write_that_finds_the_database_locked_gets_503_with_retry_after(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds SQLite's write lock past the busy timeout: the supervisor is
    told to try again (503, Retry-After), not shown a server error."""
    if api.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite has a single write lock")
    case = make_case(api, "a", Privacy.biasa, CaseStatus.in_progress)
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    engine = db.make_engine(str(api.engine.url))
    other = sqlite3.connect(str(api.engine.url.database), isolation_level=None)
    try:
        with TestClient(create_app(settings, engine)) as client:
            token = client.post(
                "/auth/token", data={"username": "supervisor", "password": PASSWORD}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            other.execute("BEGIN IMMEDIATE")  # another process is writing
            r = client.post(f"/cases/{case.id}/notes", headers=headers, json={"body": "cek"})
            assert r.status_code == 503
            assert r.headers["retry-after"] == "2"
            assert "try again" in r.json()["detail"]
            other.execute("COMMIT")
            r = client.post(f"/cases/{case.id}/notes", headers=headers, json={"body": "cek"})
            assert r.status_code == 201
    finally:
        other.close()
        engine.dispose()
