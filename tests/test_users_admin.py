"""Account administration through the real API (and the bot's /link throttle): every change
is admin-only, audited in the same transaction, and ends the account's tokens where it
changes who holds the account or what it may do. Plus the offline API docs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.access import actor_for
from core.cases.models import Case
from core.people import links as links
from core.people import users as users
from core.people.models import AccessAudit, AppUser, AuditAction, LoginThrottle, Role
from core.shared.config import Settings, load_settings
from tests.botkit import BotUnderTest
from tests.factories import PASSWORD, bearer, make_officer, make_unit, make_user

NEW_PASSWORD = "kopi hujan sepeda lampu"
OFFICER_NIP = "198504122010031007"
WITA_NOON = timedelta(hours=4)  # 12:00 WITA is 04:00 UTC


@dataclass
class Api:
    client: TestClient
    engine: Engine
    ids: dict[str, int]

    def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        return bearer(self.client, username, password)

    def login_status(self, username: str, password: str = PASSWORD) -> int:
        r = self.client.post("/auth/token", data={"username": username, "password": password})
        return r.status_code

    @property
    def admin(self) -> dict[str, str]:
        return self.login("admin")

    def audit(self, **params: Any) -> list[dict[str, Any]]:
        r = self.client.get("/audit/access", params=params, headers=self.admin)
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[Api]:
    with Session(engine) as s:
        dukcapil = make_unit(s, "dukcapil", "Dinas Dukcapil")
        pajak = make_unit(s, "pajak", "Badan Pajak")
        officer = make_officer(s, dukcapil, "Agustinus Tefa", nip=OFFICER_NIP)
        ids = {
            "admin": make_user(s, "admin", Role.admin).id,
            "spv": make_user(s, "spv", Role.supervisor, [dukcapil]).id,
            "kadis": make_user(s, "kadis", Role.unit_head, [dukcapil]).id,
            "dukcapil": dukcapil.id,
            "pajak": pajak.id,
            "officer": officer.id,
        }
        s.commit()
    with TestClient(create_app(settings, engine)) as client:
        yield Api(client, engine, {k: int(v or 0) for k, v in ids.items()})


# Creating, listing and changing accounts -----------------------------------------------------


def test_admin_creates_lists_and_changes_accounts(api: Api) -> None:
    c, admin = api.client, api.admin
    body = {
        "username": "Rina.F",
        "role": "viewer",
        "unit_codes": ["dukcapil"],
        "password": NEW_PASSWORD,
        "display_name": "  Rina   Fanggidae ",
    }
    r = c.post("/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    rina = r.json()
    assert (rina["username"], rina["display_name"], rina["role"]) == (
        "rina.f",
        "Rina Fanggidae",
        "viewer",
    )
    assert rina["unit_codes"] == ["dukcapil"] and rina["active"] is True
    me = c.get("/auth/me", headers=api.login("rina.f", NEW_PASSWORD)).json()
    assert me == {
        "id": rina["id"],
        "username": "rina.f",
        "display_name": "Rina Fanggidae",
        "role": "viewer",
        "unit_codes": ["dukcapil"],
    }

    again = c.post("/users", json=body, headers=admin)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    no_unit = c.post("/users", json={**body, "username": "x1x", "unit_codes": []}, headers=admin)
    assert no_unit.status_code == 422 and "needs at least one unit" in no_unit.json()["detail"]
    unknown = c.post(
        "/users", json={**body, "username": "x2x", "unit_codes": ["nope"]}, headers=admin
    )
    assert unknown.status_code == 404 and "unknown unit code(s): nope" in unknown.json()["detail"]
    bad_role = c.post("/users", json={**body, "username": "x3x", "role": "king"}, headers=admin)
    assert bad_role.status_code == 422 and "role" in bad_role.json()["detail"]

    changed = c.patch(
        f"/users/{rina['id']}",
        json={"role": "supervisor", "unit_codes": ["pajak", "dukcapil"]},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "supervisor"
    assert changed.json()["unit_codes"] == ["dukcapil", "pajak"]
    demoted = c.patch(f"/users/{rina['id']}", json={"role": "viewer"}, headers=admin)
    assert demoted.json()["unit_codes"] == ["dukcapil", "pajak"]  # units kept
    emptied = c.patch(f"/users/{rina['id']}", json={"unit_codes": []}, headers=admin)
    assert emptied.status_code == 422 and "needs at least one unit" in emptied.json()["detail"]
    assert c.get("/users/999999", headers=admin).status_code == 404

    names = [u["username"] for u in c.get("/users", headers=admin).json()]
    assert names == ["admin", "kadis", "rina.f", "spv"]
    viewers = c.get("/users", params={"role": "viewer"}, headers=admin).json()
    assert [u["username"] for u in viewers] == ["rina.f"]
    found = c.get("/users", params={"q": "fangg"}, headers=admin).json()
    assert [u["username"] for u in found] == ["rina.f"]

    audit = [e for e in api.audit() if e["target_label"] == "rina.f"]
    assert [e["action"] for e in audit] == [
        "user_role_changed",
        "user_units_changed",
        "user_role_changed",
        "user_created",
    ]
    assert {e["actor_username"] for e in audit} == {"admin"}
    assert audit[0]["detail"] == "role supervisor -> viewer"
    assert audit[1]["detail"] == "units dukcapil -> dukcapil, pajak"


ADMIN_ROUTES = [
    ("GET", "/users", None),
    ("POST", "/users", {"username": "zed", "role": "admin", "password": NEW_PASSWORD}),
    ("GET", "/users/{kadis}", None),
    ("PATCH", "/users/{kadis}", {"role": "viewer"}),
    ("POST", "/users/{kadis}/deactivate", None),
    ("POST", "/users/{kadis}/reactivate", None),
    ("POST", "/users/{kadis}/password", {"new_password": NEW_PASSWORD}),
    ("POST", "/users/{kadis}/unlock", None),
    ("PUT", "/users/{kadis}/officer", {"nip": OFFICER_NIP}),
    ("GET", "/audit/access", None),
]


def test_only_admins_manage_accounts(api: Api) -> None:
    for username in ("spv", "kadis"):
        headers = api.login(username)
        for method, template, body in ADMIN_ROUTES:
            path = template.format(kadis=api.ids["kadis"])
            r = api.client.request(method, path, json=body, headers=headers)
            assert r.status_code == 403, (username, method, path, r.text)
            anonymous = api.client.request(method, path, json=body)
            assert anonymous.status_code == 401, (method, path)
    with Session(api.engine) as s:  # nothing changed, nothing audited
        kadis = s.get(AppUser, api.ids["kadis"])
        assert kadis is not None and kadis.role == "unit_head" and kadis.officer_id is None
        assert s.exec(select(AccessAudit).where(AccessAudit.actor_user_id != None)).all() == []  # noqa: E711


# Tokens end at once ---------------------------------------------------------------------------


CHANGES = {
    "deactivate": ("POST", "/users/{id}/deactivate", None),
    "password_reset": ("POST", "/users/{id}/password", {"new_password": NEW_PASSWORD}),
    "role": ("PATCH", "/users/{id}", {"role": "viewer"}),
    "units": ("PATCH", "/users/{id}", {"unit_codes": ["pajak"]}),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_change_ends_the_accounts_tokens_at_once(api: Api, change: str) -> None:
    c = api.client
    token = api.login("spv")
    other = api.login("kadis")
    assert c.get("/auth/me", headers=token).status_code == 200
    method, template, body = CHANGES[change]
    r = c.request(method, template.format(id=api.ids["spv"]), json=body, headers=api.admin)
    assert r.status_code == 200, r.text
    refused = c.get("/auth/me", headers=token)
    assert refused.status_code == 401
    assert "log in again" in refused.json()["detail"]
    assert c.get("/auth/me", headers=other).status_code == 200  # other accounts keep theirs
    if change == "deactivate":
        assert api.login_status("spv") == 401
        assert c.post(f"/users/{api.ids['spv']}/reactivate", headers=api.admin).status_code == 200
        assert c.get("/auth/me", headers=token).status_code == 401  # old tokens stay dead
        assert api.login_status("spv") == 200
    elif change == "password_reset":
        assert api.login_status("spv", PASSWORD) == 401
        assert api.login_status("spv", NEW_PASSWORD) == 200
    else:
        me = c.get("/auth/me", headers=api.login("spv")).json()
        assert (me["role"], me["unit_codes"]) == (
            ("viewer", ["dukcapil"]) if change == "role" else ("supervisor", ["pajak"])
        )


def test_a_change_that_grants_nothing_keeps_the_tokens(api: Api) -> None:
    token = api.login("spv")
    same = {"role": "supervisor", "unit_codes": ["dukcapil"], "display_name": "Siti Bano"}
    r = api.client.patch(f"/users/{api.ids['spv']}", json=same, headers=api.admin)
    assert r.status_code == 200 and r.json()["display_name"] == "Siti Bano"
    assert api.client.get("/auth/me", headers=token).json()["display_name"] == "Siti Bano"
    assert [e["action"] for e in api.audit(action="user_changed")] == ["user_changed"]
    assert api.audit(action="user_role_changed") == []


def test_users_change_their_own_password_with_the_current_one(api: Api) -> None:
    c = api.client
    token = api.login("kadis")
    url = "/users/me/password"
    wrong = c.post(
        url, json={"current_password": "not it", "new_password": NEW_PASSWORD}, headers=token
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"] == (
        "the current password is wrong; enter the password you log in with"
    )
    weak = c.post(
        url, json={"current_password": PASSWORD, "new_password": "Password1234"}, headers=token
    )
    assert weak.status_code == 422 and "most common passwords" in weak.json()["detail"]
    assert c.get("/auth/me", headers=token).status_code == 200  # a refused change ends nothing
    ok = c.post(
        url, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=token
    )
    assert ok.status_code == 200, ok.text
    assert c.get("/auth/me", headers=token).status_code == 401
    fresh = {"Authorization": f"Bearer {ok.json()['access_token']}"}
    assert c.get("/auth/me", headers=fresh).json()["username"] == "kadis"
    assert api.login_status("kadis", PASSWORD) == 401
    assert api.login_status("kadis", NEW_PASSWORD) == 200
    [entry] = api.audit(action="user_password_changed")
    assert (entry["actor_username"], entry["target_label"]) == ("kadis", "kadis")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "at least 12 characters long"),
        (" " * 14, "must not be empty or only spaces"),
        ("password1234", "on a list of the most common passwords"),
        ("Sunshine2024!!", "on a list of the most common passwords"),
        ("Qwertyuiop12", "on a list of the most common passwords"),
        ("Budi.Santoso", "must not be the username"),
        ("budi.santoso2024", "must not be the username"),
        ("aaaaaaaaaaaa", "must not be a few characters repeated"),
        ("kupangkupang", "must not be a few characters repeated"),
        ("123456789012", "or a run such as 1234"),
        ("ZYXWVUTSRQPO!!", "or a run such as 1234"),
        ("x" * 129, "at most 128 characters"),
    ],
)
def test_weak_passwords_are_refused_with_what_to_do(api: Api, password: str, message: str) -> None:
    body = {"username": "budi.santoso", "role": "admin", "password": password}
    r = api.client.post("/users", json=body, headers=api.admin)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert message in r.json()["detail"]
    reset = api.client.post(
        f"/users/{api.ids['kadis']}/password", json={"new_password": password}, headers=api.admin
    )
    assert reset.status_code == (200 if "username" in message else 422)  # kadis's own rule


def test_the_common_password_list_ships_with_the_code() -> None:
    assert users.COMMON_PASSWORDS_FILE.is_file()
    assert (users.COMMON_PASSWORDS_FILE.parent / "COMMON-PASSWORDS-LICENSE").is_file()
    assert len(users.common_passwords()) > 19_000
    assert users.password_problem(NEW_PASSWORD) is None
    assert users.password_problem(PASSWORD) is None


def test_the_last_admin_and_ones_own_account_are_protected(api: Api) -> None:
    c, admin = api.client, api.admin
    me = api.ids["admin"]
    own = c.post(f"/users/{me}/deactivate", headers=admin)
    assert own.status_code == 409 and "ask another admin" in own.json()["detail"]
    last = c.patch(f"/users/{me}", json={"role": "viewer", "unit_codes": ["pajak"]}, headers=admin)
    assert last.status_code == 409
    assert "last active admin: make another account admin" in last.json()["detail"]
    reset = c.post(f"/users/{me}/password", json={"new_password": NEW_PASSWORD}, headers=admin)
    assert reset.status_code == 409 and "current password" in reset.json()["detail"]
    promoted = c.patch(f"/users/{api.ids['spv']}", json={"role": "admin"}, headers=admin)
    assert promoted.status_code == 200
    assert c.patch(f"/users/{me}", json={"role": "viewer"}, headers=admin).status_code == 422
    assert (
        c.patch(
            f"/users/{me}", json={"role": "viewer", "unit_codes": ["pajak"]}, headers=admin
        ).status_code
        == 200
    )
    assert c.get("/auth/me", headers=admin).status_code == 401  # demoted: token ended


def test_accounts_are_linked_to_their_officer_by_nip(api: Api) -> None:
    c, admin = api.client, api.admin
    with Session(api.engine) as s:
        now = datetime.now(UTC)
        case = Case(
            reference="KPG-2611-0001",
            unit_id=api.ids["dukcapil"],
            officer_id=api.ids["officer"],
            category="lainnya",
            description="Petugas meminta biaya tambahan di loket.",
            status="received",
            verify_due_at=now,
            resolve_due_at=now,
        )
        s.add(case)
        s.commit()
        case_id = case.id
    spv = api.login("spv")
    assert c.get(f"/cases/{case_id}", headers=spv).status_code == 200
    url = f"/users/{api.ids['spv']}/officer"
    r = c.put(url, json={"nip": "1985 0412 2010 0310 07"}, headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["officer_nip"], r.json()["officer_name"]) == (OFFICER_NIP, "Agustinus Tefa")
    # The account no longer sees the case that names its own officer (same token).
    assert c.get(f"/cases/{case_id}", headers=spv).status_code == 404

    taken = c.put(f"/users/{api.ids['kadis']}/officer", json={"nip": OFFICER_NIP}, headers=admin)
    assert taken.status_code == 409
    assert "already linked to account spv" in taken.json()["detail"]
    unknown = c.put(url, json={"nip": "199001012015011001"}, headers=admin)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no officer with NIP 199001012015011001"
    malformed = c.put(url, json={"nip": "12345"}, headers=admin)
    assert malformed.status_code == 422 and "18 digits" in malformed.json()["detail"]

    unlinked = c.put(url, json={"nip": None}, headers=admin)
    assert unlinked.status_code == 200 and unlinked.json()["officer_nip"] is None
    assert c.get(f"/cases/{case_id}", headers=spv).status_code == 200
    details = [e["detail"] for e in api.audit(action="user_officer_linked")]
    assert details == [
        f"officer link removed (was NIP {OFFICER_NIP})",
        f"linked to officer NIP {OFFICER_NIP}, Agustinus Tefa",
    ]


def test_unlock_lets_a_locked_out_account_log_in_at_once(api: Api) -> None:
    for _ in range(30):
        if api.login_status("kadis", "a wrong guess") == 429:
            break
    assert api.login_status("kadis") == 429
    r = api.client.post(f"/users/{api.ids['kadis']}/unlock", headers=api.admin)
    assert r.status_code == 200, r.text
    assert r.json()["cleared_failed_logins"] == 5  # the wrong passwords, not the addresses
    assert api.login_status("kadis") == 200
    [entry] = api.audit(action="user_unlocked")
    assert entry["target_label"] == "kadis" and entry["actor_username"] == "admin"
    assert entry["detail"] == "5 failed login(s) cleared"


# The access audit -----------------------------------------------------------------------------


def test_access_audit_is_filtered_by_action_and_day_newest_first_and_paged(api: Api) -> None:
    day = date(2026, 11, 16)
    with Session(api.engine) as s:
        admin = actor_for(s, api.ids["admin"])
        assert admin is not None
        for offset, username in enumerate(("ani", "budi", "citra")):
            at = datetime(2026, 11, 16 + offset, tzinfo=UTC) + WITA_NOON
            users.create_user(s, username, Role.admin, NEW_PASSWORD, actor=admin, now=at)
        at = datetime(2026, 11, 17, tzinfo=UTC) + WITA_NOON + timedelta(minutes=5)
        users.set_active(s, users.get_user_id(s, "ani"), False, actor=admin, now=at)
        now = datetime(2026, 11, 18, tzinfo=UTC)
        case = Case(
            reference="KPG-2611-0042",
            unit_id=api.ids["dukcapil"],
            category="lainnya",
            description="Antrean tidak tertib.",
            status="received",
            privacy="rahasia",
            verify_due_at=now,
            resolve_due_at=now,
        )
        s.add(case)
        s.flush()
        # A row of the kind the case routes write: listed with the others.
        s.add(
            AccessAudit(
                at=now + WITA_NOON + timedelta(minutes=1),
                actor_user_id=api.ids["spv"],
                action=AuditAction.case_read_confidential.value,
                target_kind="case",
                target_id=case.id,
            )
        )
        s.commit()
    window = {"start": "2026-11-16", "end": "2026-11-18"}
    everything = api.audit(**window)
    assert [(e["action"], e["target_label"]) for e in everything] == [
        ("case_read_confidential", "KPG-2611-0042"),
        ("user_created", "citra"),
        ("user_deactivated", "ani"),
        ("user_created", "budi"),
        ("user_created", "ani"),
    ]
    assert everything[0]["actor_username"] == "spv"
    created = api.audit(action="user_created", start="2026-11-17", end="2026-11-18")
    assert [e["target_label"] for e in created] == ["citra", "budi"]
    one_day = api.audit(start="2026-11-17", end="2026-11-17")
    assert [e["target_label"] for e in one_day] == ["ani", "budi"]
    assert api.audit(end=str(day - timedelta(days=1))) == []

    pages: list[str] = []
    cursor = None
    for _ in range(5):
        params = {**window, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/audit/access", params=params, headers=api.admin).json()
        pages += [f"{e['action']}:{e['target_label']}" for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [f"{e['action']}:{e['target_label']}" for e in everything]
    # A cursor pasted into the URL as it is (no encoding) still finds the next page.
    query = "/audit/access?start=2026-11-16&end=2026-11-18&limit=1"
    first = api.client.get(query, headers=api.admin).json()
    second = api.client.get(f"{query}&cursor={first['next_cursor']}", headers=api.admin)
    assert second.status_code == 200, second.text
    assert second.json()["items"] == everything[1:2]

    c, admin = api.client, api.admin
    assert c.get("/audit/access", params={"action": "nope"}, headers=admin).status_code == 422
    bad = c.get("/audit/access", params={"cursor": "garbage"}, headers=admin)
    assert bad.status_code == 422 and "next_cursor" in bad.json()["detail"]
    backwards = c.get(
        "/audit/access", params={"start": "2026-11-18", "end": "2026-11-17"}, headers=admin
    )
    assert backwards.status_code == 422 and "end must not be before start" in backwards.text


# API docs offline -----------------------------------------------------------------------------


def _asset_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(
        r"""url: ?['"]([^'"]+)['"]""", html
    )


def test_docs_and_redoc_load_only_assets_served_by_the_api(api: Api) -> None:
    c = api.client
    for page in ("/docs", "/redoc"):
        r = c.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "://" not in r.text, page  # nothing from a CDN or Google Fonts
        urls = _asset_urls(r.text)
        assert len(urls) >= 2, urls
        for url in urls:
            assert url.startswith("/"), url
            assert c.get(url).status_code == 200, url
    assert c.get("/openapi.json").json()["paths"]["/users"]
    assert c.get("/docs/oauth2-redirect").status_code == 200
    js = c.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"] and len(js.content) > 500_000


def test_docs_can_be_turned_off(settings: Settings, engine: Engine) -> None:
    off = load_settings(**{**settings.model_dump(), "api_docs_enabled": False}, _env_file=None)
    with TestClient(create_app(off, engine)) as c:
        for path in ("/docs", "/redoc", "/openapi.json", "/static/redoc/redoc.standalone.js"):
            assert c.get(path).status_code == 404, path
        assert c.get("/units").status_code == 401  # the API itself still answers


# /link CODE in the bot: throttled per chat ----------------------------------------------------


async def test_wrong_link_codes_are_throttled_per_chat(bot: BotUnderTest, engine: Engine) -> None:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil")
        kadis = make_user(s, "kadis", Role.unit_head, [unit])
        admin = actor_for(s, make_user(s, "admin", Role.admin).id or 0)
        assert admin is not None and kadis.id is not None
        code, _ = links.create_link_code(s, kadis.id, actor=admin)
        s.commit()
    guesser = bot.chat(5150)
    for n in range(links.LINK_ATTEMPTS):
        await guesser.say(f"/link WRNG-{n}ABC")
        assert "tidak dikenal" in guesser.screen().text
    await guesser.say(f"/link {code}")  # even the right code waits now
    text = guesser.screen().text
    assert "Terlalu banyak kode penghubung yang salah dari obrolan ini" in text
    found = re.search(r"coba lagi dalam (\d+) menit", text)
    assert found is not None and int(found.group(1)) == 60

    other = bot.chat(6160)  # another chat is not held back
    await other.say("/link WRNG-XABC")
    assert "tidak dikenal" in other.screen().text

    with Session(engine) as s:  # the hour passes
        for row in s.exec(select(LoginThrottle)).all():
            if row.locked_until is not None:
                row.locked_until -= links.LINK_WINDOW
                s.add(row)
        s.commit()
    await guesser.say(f"/link {code}")
    assert "Akun kadis terhubung" in guesser.screen().text
    with Session(engine) as s:  # a success forgets the chat's streak
        assert [r.username for r in s.exec(select(LoginThrottle)).all()] == ["link:telegram:6160"]
