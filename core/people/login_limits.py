"""Login throttling per (username, client address), shared by every API worker through the
database (table `login_throttle`).

- A pair gets `free_failures` wrong passwords; after that each further try waits a delay
  that doubles from 1 minute up to 15 minutes. The right password from another address is
  not held back, so a guesser cannot lock the owner out; the right password clears the pair.
- A try is reserved before its password is checked, by one UPDATE that counts it only while
  the pair may try (`reserve`), so concurrent guesses cannot overrun the limit on either
  engine: a try in flight counts as a failure until it succeeds.
- Wrong passwords for one username from many addresses alert the admins (a WARNING log line
  and an `access_audit` row, `login_alert`) instead of locking the account.
- One address failing for many usernames (spraying one password) is refused for a while.
- A streak quiet for a day is forgotten; an admin can `unlock` a username.

A login is three short steps (admin_api.routes_auth): `look` (a read: may the pair try, and
the account), `reserve` (a write), then, with no transaction open, the password check, then
`record_success` or `record_failure` (a write).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any, cast

from sqlalchemy import CursorResult, case, delete, func, literal, null, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select
from sqlmodel.sql.sqltypes import UTCDateTime

from core.people.models import AccessAudit, AppUser, AuditAction, LoginThrottle
from core.shared.config import Settings

log = logging.getLogger("asn_feedback.login")

IPNetwork = IPv4Network | IPv6Network
MAX_KEY = 64  # column width of username and address


@dataclass(frozen=True)
class LoginPolicy:
    free_failures: int = 5
    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(minutes=15)
    # Wrong passwords for one username from this many addresses within `alert_window`.
    alert_addresses: int = 5
    alert_window: timedelta = timedelta(hours=1)
    # One address failing for this many usernames within `spray_window` is refused.
    spray_usernames: int = 100
    spray_window: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(days=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(alert_addresses=settings.login_alert_addresses)

    def delay(self, failures: int) -> timedelta | None:
        """The wait after `failures` wrong passwords in a row (None: none yet)."""
        if failures < self.free_failures:
            return None
        doublings = min(failures - self.free_failures, 30)
        return min(self.max_delay, self.first_delay * (1 << doublings))


@dataclass(frozen=True)
class Account:
    """What a login needs of the account, read before its password is checked."""

    user_id: int | None  # None: no such username (checked against a dummy hash)
    password_hash: str | None
    active: bool
    token_version: int


NO_ACCOUNT = Account(user_id=None, password_hash=None, active=False, token_version=0)


def normalise_username(username: str) -> str:
    return username.strip().lower()[:MAX_KEY]


# Client address ------------------------------------------------------------------------------


def _parse_ip(text: str | None) -> IPv4Address | IPv6Address | None:
    """An address from a peer or an X-Forwarded-For entry ('1.2.3.4', '1.2.3.4:5678',
    '[2001:db8::1]:443', '2001:db8::1'), or None."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        found = ip_address(text)
    except ValueError:
        return None
    if isinstance(found, IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _trusted(address: IPv4Address | IPv6Address, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def address_key(address: IPv4Address | IPv6Address) -> str:
    """How an address is counted: IPv4 as itself, IPv6 by its /64 (one subscriber's)."""
    if isinstance(address, IPv6Address):
        return str(IPv6Network((address, 64), strict=False))
    return str(address)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str:
    """The address a login is counted under. X-Forwarded-For (all its headers, in order) is
    believed only when the direct peer is a trusted proxy; then the client is the right-most
    entry that is not itself a trusted proxy (entries to its left are the client's to forge).
    An entry that is no address stops the walk at the last proxy passed."""
    peer_ip = _parse_ip(peer)
    if peer_ip is None:
        return (peer or "unknown")[:MAX_KEY]
    client = peer_ip
    if _trusted(peer_ip, trusted):
        hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
        for hop in reversed(hops):
            hop_ip = _parse_ip(hop)
            if hop_ip is None:
                break
            client = hop_ip
            if not _trusted(hop_ip, trusted):
                break
    return address_key(client)


def looks_like_an_unlisted_proxy(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> bool:
    """X-Forwarded-For from a loopback or private peer that TRUSTED_PROXIES does not list:
    most likely the site's own reverse proxy, under whose address every login is then
    counted (one guesser delays everyone's logins for that username)."""
    peer_ip = _parse_ip(peer)
    if peer_ip is None or not any(h.strip() for h in forwarded_for):
        return False
    return (peer_ip.is_loopback or peer_ip.is_private) and not _trusted(peer_ip, trusted)


# The three steps of a login ------------------------------------------------------------------


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def look(
    session: Session, username: str, address: str, policy: LoginPolicy, *, now: datetime
) -> tuple[Account, int]:
    """A read: the account, and the seconds before this pair may try (0: now)."""
    wait = 0
    row = session.get(LoginThrottle, (username, address))
    if (
        row is not None
        and row.locked_until is not None
        and row.locked_until > now
        and row.updated_at >= now - policy.forget_after
    ):
        wait = _seconds_until(row.locked_until, now)
    failing, oldest = session.exec(
        select(func.count(), func.min(LoginThrottle.updated_at)).where(
            LoginThrottle.address == address,
            col(LoginThrottle.failures) > 0,
            col(LoginThrottle.updated_at) >= now - policy.spray_window,
        )
    ).one()
    if failing >= policy.spray_usernames and oldest is not None:
        wait = max(wait, _seconds_until(oldest + policy.spray_window, now))
    user = session.exec(select(AppUser).where(AppUser.username == username)).first()
    if user is None:
        return NO_ACCOUNT, wait
    account = Account(
        user_id=user.id,
        password_hash=user.password_hash,
        active=user.active,
        token_version=user.token_version,
    )
    return account, wait


def _pair(username: str, address: str) -> Any:
    return (col(LoginThrottle.username) == username) & (col(LoginThrottle.address) == address)


def _insert_absent(session: Session, username: str, address: str, now: datetime) -> None:
    values = {"username": username, "address": address, "failures": 0, "updated_at": now}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(pg_insert(LoginThrottle).values(**values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(LoginThrottle).values(**values).on_conflict_do_nothing())


def reserve(
    session: Session, username: str, address: str, policy: LoginPolicy, *, now: datetime
) -> int:
    """A write: count one try for the pair if it may try now. 0 when counted, else the
    seconds to wait. Of any number of concurrent calls only as many succeed as the pair may
    try: the UPDATE's condition is checked on the row it changes (SQLite has one writer;
    PostgreSQL re-checks it on the latest row version after waiting for the row lock)."""
    session.execute(
        delete(LoginThrottle).where(
            _pair(username, address), col(LoginThrottle.updated_at) < now - policy.forget_after
        )
    )
    _insert_absent(session, username, address, now)
    tries = col(LoginThrottle.failures) + 1
    # The lock this try leaves behind if it fails (cleared if it succeeds).
    whens: list[tuple[Any, Any]] = [(tries < policy.free_failures, null())]
    n = policy.free_failures
    while (delay := policy.delay(n)) is not None and delay < policy.max_delay:
        whens.append((tries == n, literal(now + delay, UTCDateTime())))
        n += 1
    counted = session.execute(
        update(LoginThrottle)
        .where(
            _pair(username, address),
            or_(
                col(LoginThrottle.failures) < policy.free_failures,
                col(LoginThrottle.locked_until) <= now,
            ),
        )
        .values(
            failures=tries,
            locked_until=case(*whens, else_=literal(now + policy.max_delay, UTCDateTime())),
            updated_at=now,
        )
    )
    if cast(CursorResult[Any], counted).rowcount == 1:
        return 0
    locked_until = session.exec(
        select(LoginThrottle.locked_until).where(_pair(username, address))
    ).first()
    return _seconds_until(locked_until, now) if locked_until is not None else 1


def record_success(session: Session, username: str, address: str) -> None:
    """A write: the right password clears the pair (other addresses keep their delays)."""
    session.execute(delete(LoginThrottle).where(_pair(username, address)))


def record_failure(
    session: Session,
    username: str,
    policy: LoginPolicy,
    *,
    now: datetime,
    user_id: int | None = None,
) -> bool:
    """A write after a wrong password (`reserve` has counted it): forget day-old streaks,
    and alert the admins when the username gets wrong passwords from `alert_addresses`
    addresses within `alert_window`, once per window. True when this raised an alert."""
    session.execute(
        delete(LoginThrottle).where(col(LoginThrottle.updated_at) < now - policy.forget_after)
    )
    since = now - policy.alert_window
    addresses = session.exec(
        select(func.count()).where(
            LoginThrottle.username == username,
            col(LoginThrottle.failures) > 0,
            col(LoginThrottle.updated_at) >= since,
        )
    ).one()
    if addresses < policy.alert_addresses:
        return False
    already = session.exec(
        select(AccessAudit.id)
        .where(
            AccessAudit.action == AuditAction.login_alert.value,
            col(AccessAudit.at) >= since,
            col(AccessAudit.detail).startswith(f"{username}:", autoescape=True),
        )
        .limit(1)
    ).first()
    if already is not None:
        return False
    minutes = int(policy.alert_window.total_seconds() // 60)
    detail = (
        f"{username}: wrong passwords from {addresses} addresses within {minutes} minutes; "
        "the account is not locked, each address is slowed down"
    )
    session.add(
        AccessAudit(
            at=now,
            action=AuditAction.login_alert.value,
            target_kind="user",
            target_id=user_id,
            detail=detail,
        )
    )
    log.warning("login alert: %s", detail)
    return True


def unlock(session: Session, username: str) -> int:
    """Clear the username's throttle state at every address; how many failed logins (over
    all addresses) it forgot."""
    mine = col(LoginThrottle.username) == normalise_username(username)
    failures = session.exec(select(func.coalesce(func.sum(LoginThrottle.failures), 0)).where(mine))
    cleared = int(failures.one())
    session.execute(delete(LoginThrottle).where(mine))
    return cleared


def locked_usernames(session: Session, policy: LoginPolicy, *, now: datetime) -> set[str]:
    """The usernames that wait before their next try from some address (shown to admins,
    who may `unlock` them)."""
    rows = session.exec(
        select(LoginThrottle.username)
        .where(
            col(LoginThrottle.locked_until) > now,
            col(LoginThrottle.updated_at) >= now - policy.forget_after,
        )
        .distinct()
    ).all()
    return set(rows)
