"""Admin API login under attack: per (username, address) delays that double, tries reserved
atomically, alerts instead of locks, trusted proxies, and bounded password checks that hold
no transaction."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

import httpx
import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from admin_api import create_app
from core.people import login_limits as limits
from core.people import passwords as passwords
from core.people.models import AccessAudit, AuditAction, LoginThrottle, Role
from core.shared.config import CHEAP_ARGON2_ENV, ConfigError, Settings, load_settings
from tests.factories import PASSWORD, make_unit, make_user
from tests.waiting import eventually

PROXY = "10.9.0.1"  # the reverse proxy in front of the test API
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The API behind a trusted proxy at PROXY: X-Forwarded-For says who the client is."""
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil")
        make_user(s, "spv", Role.supervisor, [unit])
        make_user(s, "admin", Role.admin)
        s.commit()
    behind_proxy = settings.model_copy(update={"trusted_proxies": "10.9.0.0/24"})
    with TestClient(create_app(behind_proxy, engine), client=(PROXY, 40000)) as c:
        yield c


def login(
    c: TestClient, password: str, client_ip: str | None = None, username: str = "spv"
) -> httpx.Response:
    headers = {"X-Forwarded-For": client_ip} if client_ip else {}
    return c.post("/auth/token", data={"username": username, "password": password}, headers=headers)


class HeldChecks:
    """Replaces `passwords.check_now`: each check waits until released, and is counted."""

    def __init__(self, real: Callable[[str, str | None], bool]) -> None:
        self.real = real
        self.calls = 0
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, password: str, password_hash: str | None) -> bool:
        with self._lock:
            self.calls += 1
        assert self.release.wait(30)
        return self.real(password, password_hash)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldChecks]:
    fake = HeldChecks(passwords.check_now)
    monkeypatch.setattr(passwords, "check_now", fake)
    yield fake
    fake.release.set()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> HeldChecks:
    fake = HeldChecks(passwords.check_now)
    fake.release.set()
    monkeypatch.setattr(passwords, "check_now", fake)
    return fake


# Concurrency ---------------------------------------------------------------------------------


def test_concurrent_wrong_passwords_try_at_most_the_limit(
    client: TestClient, counted: HeldChecks
) -> None:
    start = threading.Barrier(40)

    def guess(i: int) -> int:
        start.wait()
        return login(client, f"guess number {i}", "198.51.100.7").status_code

    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(guess, range(40)))
    assert codes.count(401) == 5, codes
    assert codes.count(429) == 35, codes
    assert counted.calls == 5  # the other 35 passwords were never checked
    assert login(client, PASSWORD, "198.51.100.7").status_code == 429


def test_password_checks_are_bounded_and_queued(client: TestClient, held: HeldChecks) -> None:
    """PASSWORD_CHECKS_AT_ONCE (2 by default) checks at a time; the rest wait their turn."""
    with ThreadPoolExecutor(6) as pool:
        answers = [
            pool.submit(login, client, "wrong password", f"198.51.100.{i}", f"user{i}")
            for i in range(6)
        ]
        eventually(lambda: passwords.checks().running == 2 and passwords.checks().waiting == 4)
        assert held.calls == 2
        held.release.set()
        assert [a.result().status_code for a in answers] == [401] * 6
    assert held.calls == 6


def test_a_write_is_not_blocked_while_a_password_is_checked(
    client: TestClient, engine: Engine, held: HeldChecks
) -> None:
    """On SQLite a login used to hold the write lock (and the API's write turn) while argon2
    ran; now the password is checked with no transaction open."""
    held.release.set()
    token = login(client, PASSWORD, "203.0.113.1", "admin").json()["access_token"]
    held.release.clear()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(login, client, "wrong password", "198.51.100.7")
        eventually(lambda: held.calls == 2)
        assert engine.pool.checkedout() == 0  # no connection (so no transaction) held
        r = client.post(
            "/services",
            json={"unit_code": "dukcapil", "name": "KTP-el"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
        assert not pending.done()  # the login is still being checked
        held.release.set()
        assert pending.result().status_code == 401


def test_a_write_is_not_blocked_while_an_own_password_change_is_checked(
    client: TestClient, engine: Engine, held: HeldChecks
) -> None:
    """Changing one's own password checks the current one with no transaction open too."""
    held.release.set()
    admin = login(client, PASSWORD, "203.0.113.1", "admin").json()["access_token"]
    spv = login(client, PASSWORD, "203.0.113.2").json()["access_token"]
    held.release.clear()
    change = {"current_password": PASSWORD, "new_password": "Sasando dari Rote 2026"}
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(
            client.post,
            "/users/me/password",
            json=change,
            headers={"Authorization": f"Bearer {spv}"},
        )
        eventually(lambda: held.calls == 3)
        assert engine.pool.checkedout() == 0
        r = client.post(
            "/services",
            json={"unit_code": "dukcapil", "name": "KTP-el"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert r.status_code == 201, r.text
        assert not pending.done()
        held.release.set()
        answer = pending.result()
    assert answer.status_code == 200, answer.text
    assert login(client, change["new_password"], "203.0.113.2").status_code == 200
    old = client.get("/auth/me", headers={"Authorization": f"Bearer {spv}"})
    assert old.status_code == 401


# Per (username, address) --------------------------------------------------------------------


def test_right_password_from_another_address_while_one_is_delayed(client: TestClient) -> None:
    for _ in range(5):
        assert login(client, "guess", "198.51.100.7").status_code == 401
    delayed = login(client, PASSWORD, "198.51.100.7")
    assert delayed.status_code == 429
    assert 0 < int(delayed.headers["Retry-After"]) <= 60
    assert login(client, PASSWORD, "203.0.113.9").status_code == 200  # the owner, elsewhere
    assert login(client, PASSWORD, "198.51.100.7").status_code == 429  # still delayed there


def test_wrong_current_passwords_count_as_failed_logins(
    client: TestClient, counted: HeldChecks
) -> None:
    """Guessing the current password through POST /users/me/password is throttled like a
    login, on the same (username, address) count: a stolen token is no way around it."""
    token = login(client, PASSWORD, "203.0.113.2").json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}

    def change(current: str, client_ip: str) -> httpx.Response:
        body = {"current_password": current, "new_password": "Sasando dari Rote 2026"}
        return client.post(
            "/users/me/password", json=body, headers={**bearer, "X-Forwarded-For": client_ip}
        )

    checked = counted.calls
    assert [change(f"guess {i}", "198.51.100.7").status_code for i in range(5)] == [422] * 5
    refused = change(PASSWORD, "198.51.100.7")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "try again in" in refused.json()["detail"]
    assert counted.calls == checked + 5  # the refused try was never checked
    assert login(client, PASSWORD, "198.51.100.7").status_code == 429  # one count for both
    weak = client.post(  # a refused new password checks nothing and counts nothing
        "/users/me/password",
        json={"current_password": "guess", "new_password": "short"},
        headers={**bearer, "X-Forwarded-For": "203.0.113.2"},
    )
    assert weak.status_code == 422 and "at least 12 characters" in weak.json()["detail"]
    assert change(PASSWORD, "203.0.113.2").status_code == 200  # the owner, elsewhere


def test_delay_doubles_from_one_minute_up_to_fifteen(session: Session) -> None:
    policy = limits.LoginPolicy()
    pair = {"username": "spv", "address": "198.51.100.7"}

    def wrong_password(now: datetime) -> int:
        wait = limits.reserve(session, **pair, policy=policy, now=now)
        if wait == 0:
            limits.record_failure(session, "spv", policy, now=now)
        session.commit()
        return wait

    now = T0
    for _ in range(5):
        assert wrong_password(now) == 0
    waits = []
    for _ in range(7):
        wait = wrong_password(now)
        _, looked = limits.look(session, **pair, policy=policy, now=now)
        assert looked == wait
        assert wrong_password(now + timedelta(seconds=wait - 1)) > 0  # not a second early
        waits.append(wait)
        now += timedelta(seconds=wait)
        assert wrong_password(now) == 0  # one more try once the delay is over
    assert waits == [60, 120, 240, 480, 900, 900, 900]
    # A streak quiet for a day is forgotten: five free tries again.
    now += timedelta(days=1, seconds=1)
    for _ in range(5):
        assert wrong_password(now) == 0
    assert wrong_password(now) == 60


def test_the_right_password_clears_its_own_address_only(session: Session) -> None:
    policy = limits.LoginPolicy()
    for address in ("198.51.100.7", "203.0.113.9"):
        for _ in range(3):
            assert limits.reserve(session, "spv", address, policy, now=T0) == 0
    limits.record_success(session, "spv", "203.0.113.9")
    session.commit()
    rows = session.exec(select(LoginThrottle.address, LoginThrottle.failures)).all()
    assert rows == [("198.51.100.7", 3)]


def test_many_addresses_alert_the_admins_instead_of_locking(
    client: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    addresses = [f"198.51.100.{i}" for i in range(1, 8)]
    with caplog.at_level(logging.WARNING, logger="asn_feedback.login"):
        for address in addresses:  # 7 addresses, one wrong password each (alert at 5)
            assert login(client, "guess", address).status_code == 401
    alerts = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(alerts) == 1 and "spv" in alerts[0].getMessage()
    with Session(engine) as s:
        audit = s.exec(
            select(AccessAudit).where(AccessAudit.action == AuditAction.login_alert.value)
        ).all()
    assert len(audit) == 1  # once per hour, not once per failure
    assert audit[0].target_kind == "user" and audit[0].target_id is not None
    assert audit[0].detail is not None and audit[0].detail.startswith("spv: ")
    assert "5 addresses" in audit[0].detail
    # Not locked: the owner logs in, from a new address and from one of those.
    assert login(client, PASSWORD, "203.0.113.9").status_code == 200
    assert login(client, PASSWORD, addresses[0]).status_code == 200


def test_one_address_failing_for_many_usernames_is_refused(session: Session) -> None:
    policy = limits.LoginPolicy(spray_usernames=3)
    for name in ("ani", "budi", "citra"):
        assert limits.reserve(session, name, "198.51.100.7", policy, now=T0) == 0
    session.commit()
    _, wait = limits.look(session, "dewi", "198.51.100.7", policy, now=T0 + timedelta(minutes=1))
    assert wait == 14 * 60
    _, elsewhere = limits.look(session, "dewi", "203.0.113.9", policy, now=T0)
    assert elsewhere == 0


def test_unlock_clears_the_username_at_every_address(session: Session) -> None:
    policy = limits.LoginPolicy()
    for username, address in (
        ("spv", "198.51.100.7"),
        ("spv", "2001:db8:1:2::/64"),
        ("ani", "198.51.100.7"),
    ):
        for _ in range(6):
            limits.reserve(session, username, address, policy, now=T0)
    session.commit()
    # The failed logins it forgets, over both addresses (5 each; the 6th try was refused).
    assert limits.unlock(session, " SPV ") == 10
    session.commit()
    assert limits.reserve(session, "spv", "198.51.100.7", policy, now=T0) == 0
    assert limits.reserve(session, "ani", "198.51.100.7", policy, now=T0) == 60
    assert limits.unlock(session, "nobody") == 0


# Client address ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.7", ["203.0.113.9"], "198.51.100.7"),  # untrusted peer: header ignored
        ("10.9.0.1", [], "10.9.0.1"),  # the proxy itself
        ("10.9.0.1", ["203.0.113.9"], "203.0.113.9"),
        # The client may send its own X-Forwarded-For: the proxy appends what it saw.
        ("10.9.0.1", ["6.6.6.6, 203.0.113.9"], "203.0.113.9"),
        ("10.9.0.1", ["6.6.6.6", "203.0.113.9, 10.9.0.2"], "203.0.113.9"),  # two proxies
        ("10.9.0.1", ["10.9.0.3, 10.9.0.2"], "10.9.0.3"),  # only proxies: the furthest
        ("10.9.0.1", ["203.0.113.9, not-an-ip"], "10.9.0.1"),  # garbage: stop at the proxy
        ("10.9.0.1", ["203.0.113.9:5123"], "203.0.113.9"),
        ("10.9.0.1", ["[2001:db8:1:2::7]:443"], "2001:db8:1:2::/64"),
        ("2001:db8:1:2:aaaa::1", [], "2001:db8:1:2::/64"),  # IPv6 counts by its /64
        ("::ffff:198.51.100.7", [], "198.51.100.7"),
        ("testclient", ["203.0.113.9"], "testclient"),
    ],
)
def test_client_address(peer: str, forwarded: list[str], expected: str) -> None:
    trusted = (ip_network("10.9.0.0/24"),)
    assert limits.client_address(peer, forwarded, trusted) == expected


def test_failures_are_counted_under_the_forwarded_address_only_from_a_trusted_proxy(
    settings: Settings, client: TestClient, engine: Engine
) -> None:
    assert login(client, "guess", "6.6.6.6, 203.0.113.9").status_code == 401
    direct = create_app(settings.model_copy(update={"trusted_proxies": PROXY}), engine)
    with TestClient(direct, client=("198.51.100.3", 40000)) as outsider:
        assert login(outsider, "guess", "203.0.113.77").status_code == 401
    with Session(engine) as s:
        addresses = s.exec(select(LoginThrottle.address).order_by(col(LoginThrottle.address)))
        assert list(addresses) == ["198.51.100.3", "203.0.113.9"]


def test_a_reverse_proxy_missing_from_trusted_proxies_is_warned_about_once(
    settings: Settings,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind nginx on the same host with TRUSTED_PROXIES unset, every login counts under
    127.0.0.1: the operator is told, once, what to set."""
    from httpkit import logins  # where the warning is given, once per process

    monkeypatch.setattr(logins, "_proxy_warning_given", False)
    with Session(engine) as s:
        make_user(s, "spv", Role.supervisor, [make_unit(s, "dukcapil")])
        s.commit()
    caplog.set_level(logging.WARNING, logger="asn_feedback.login")
    with TestClient(create_app(settings, engine), client=("127.0.0.1", 40000)) as c:
        for ip in ("203.0.113.9", "198.51.100.7"):
            assert login(c, "a wrong guess", ip).status_code == 401
    warnings = [r.getMessage() for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "from 127.0.0.1" in warnings[0] and "add the reverse proxy" in warnings[0]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("127.0.0.1", ["203.0.113.9"], "", True),
        ("10.9.0.1", ["203.0.113.9"], "", True),
        ("10.9.0.1", ["203.0.113.9"], "10.9.0.0/24", False),  # listed
        ("127.0.0.1", [], "", False),  # no header: no proxy
        ("127.0.0.1", [" "], "", False),
        ("36.85.1.2", ["203.0.113.9"], "", False),  # a client on the internet
        ("testclient", ["203.0.113.9"], "", False),
    ],
)
def test_looks_like_an_unlisted_proxy(
    peer: str, forwarded: list[str], trusted: str, expected: bool
) -> None:
    nets = [ip_network(trusted)] if trusted else []
    assert limits.looks_like_an_unlisted_proxy(peer, forwarded, nets) is expected


def test_trusted_proxies_setting_is_checked_at_start(db_url: str) -> None:
    ok = load_settings(database_url=db_url, trusted_proxies="10.0.0.5, 10.1.0.0/16", _env_file=None)
    assert ok.trusted_proxy_networks == (ip_network("10.0.0.5/32"), ip_network("10.1.0.0/16"))
    with pytest.raises(ConfigError, match=r"^Configuration error: TRUSTED_PROXIES: .*'proxy'"):
        load_settings(database_url=db_url, trusted_proxies="10.0.0.5,proxy", _env_file=None)


# Hash parameters -----------------------------------------------------------------------------


def test_production_hashes_are_argon2id_with_64_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Measures the production parameters (the other tests hash cheaply)."""
    cost = passwords.cost_from_env({})
    assert cost == passwords.PRODUCTION_COST
    assert passwords.cost_from_env({CHEAP_ARGON2_ENV: "1"}) == passwords.CHEAP_COST
    hasher = Argon2Hasher(
        time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism
    )
    assert PasswordHash((hasher,)).hash("x").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", "p" * 48)
    monkeypatch.setenv("PSEUDONYM_KEY", "k" * 48)
    with pytest.raises(ConfigError, match=CHEAP_ARGON2_ENV):
        load_settings(_env_file=None)
