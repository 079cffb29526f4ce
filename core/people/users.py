"""Admin API accounts: argon2 password hashes, roles, unit scope, and their administration.

Every change to an account (created, role, units, activation, password, unlock, officer link)
writes an `AccessAudit` row in the same transaction, and every change that alters what the
account may do or who holds it (deactivation, password, role, units) raises its token version,
so the tokens issued before stop working at once.
"""

from __future__ import annotations

import functools
import gzip
import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.access import Actor, Permission
from core.cases.models import Case
from core.masterdata.models import Officer, Unit
from core.masterdata.nip import InvalidNip, validate_nip
from core.masterdata.service import clean_text
from core.outbox.addresses import has_staff_contact, staff_address
from core.people import login_limits as login_limits
from core.people import passwords as passwords
from core.people.models import AccessAudit, AppUser, AuditAction, Role, UserUnit
from core.shared.clock import local_day_bounds_utc, utcnow
from core.shared.errors import Conflict, InvalidInput, NotFound

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# The roles whose rights are held on their units: an account of one needs at least one unit.
UNIT_ROLES = frozenset({Role.supervisor, Role.unit_head, Role.viewer})
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
# Django's list of the 20,000 most common passwords (BSD licence, see wordlists/).
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "wordlists" / "common-passwords.txt.gz"
_PADDING = string.digits + string.punctuation + string.whitespace
# Runs of consecutive characters, forwards or backwards ("123456789012", "zyxwvutsrqpo").
_RUNS = ("0123456789" * 13, string.ascii_lowercase)
_REPEATED = re.compile(r"(.{1,6})\1+", re.DOTALL)  # "aaaaaaaaaaaa", "kupangkupang"


def hash_password(password: str) -> str:
    return passwords.hash_password(password)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The vendored list, read once (lowercase entries)."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def password_refusal(password: str, username: str = "") -> tuple[str, str] | None:
    """Why `password` may not be a new password: (a stable key of the rule, words that say
    what to do); None if fine."""
    if not password.strip():
        return "password.empty", (
            "the password must not be empty or only spaces; "
            f"choose at least {MIN_PASSWORD_LENGTH} characters, e.g. a few unrelated words"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        return "password.too_short", (
            f"the password must be at least {MIN_PASSWORD_LENGTH} characters long; "
            "a few unrelated words make one that is strong and easy to remember"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return "password.too_long", (
            f"the password must be at most {MAX_PASSWORD_LENGTH} characters long"
        )
    lowered = password.lower().strip()
    # "Sunshine2024!" is "sunshine" with the digits attackers append first.
    stem = lowered.strip(_PADDING)
    if username and username.strip().lower() in (lowered, stem):
        return "password.username", (
            "the password must not be the username (with or without digits or symbols "
            "around it); choose something else"
        )
    if _monotonous(lowered) or (len(stem) >= 6 and _monotonous(stem)):
        return "password.monotonous", (
            "the password must not be a few characters repeated or a run such as 1234... "
            "or abcd...; a few unrelated words make one that is strong and easy to remember"
        )
    common = common_passwords()
    if lowered in common or (stem and stem in common):
        return "password.common", (
            "this password is on a list of the most common passwords, which attackers try "
            "first; choose another, e.g. a few unrelated words"
        )
    return None


def password_problem(password: str, username: str = "") -> str | None:
    """Why `password` may not be a new password, in words that say what to do; None if fine."""
    refusal = password_refusal(password, username)
    return None if refusal is None else refusal[1]


def _monotonous(password: str) -> bool:
    """One short piece repeated, or a run of consecutive letters or digits."""
    if _REPEATED.fullmatch(password):
        return True
    return any(password in run or password in run[::-1] for run in _RUNS)


def check_password_strength(password: str, username: str = "") -> None:
    refusal = password_refusal(password, username)
    if refusal is not None:
        why, message = refusal
        raise InvalidInput(message, why=why, min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)


# An initial or reset password an admin hands over: 4 groups of 5 (about 99 bits), no
# look-alike characters, easy to read out and type.
_GENERATED_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def generate_password() -> str:
    """A random password that passes every rule of `password_refusal`."""
    while True:
        groups = ("".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(5)) for _ in range(4))
        password = "-".join(groups)
        if password_refusal(password) is None:
            return password


def parse_role(value: str) -> Role:
    """A role as a form names it."""
    try:
        return Role(value.strip())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput(f"role: one of {roles}", why="users.role") from None


def create_user(
    session: Session,
    username: str,
    role: Role,
    password: str,
    unit_codes: Iterable[str] = (),
    *,
    password_hash: str | None = None,
    display_name: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> AppUser:
    """Create an account; `password_hash` (argon2) is for accounts moved from elsewhere.

    `actor` is the admin creating it (None: the system, e.g. the demo data)."""
    if actor is not None:
        actor.require(Permission.MANAGE_USERS)
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise InvalidInput(
            "username: 3-64 lowercase letters, digits, '.', '_' or '-'", why="users.username"
        )
    if password_hash is None:
        check_password_strength(password, username)
    elif not password_hash.startswith("$argon2"):
        raise InvalidInput("only argon2 password hashes can be imported")
    codes = _normalise_codes(unit_codes)
    if role in UNIT_ROLES and not codes:
        raise InvalidInput(
            f"a {role.value} needs at least one unit: give its unit code(s)", why="users.no_unit"
        )
    if session.exec(select(AppUser).where(AppUser.username == username)).first():
        raise Conflict(f"user {username!r} already exists", why="users.taken")
    units = _units(session, actor, codes)
    user = AppUser(
        username=username,
        password_hash=password_hash or hash_password(password),
        role=role.value,
        display_name=clean_text(display_name)[:200],
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    for unit in units:
        assert unit.id is not None
        session.add(UserUnit(user_id=user.id, unit_id=unit.id))
    scope = f", units {', '.join(codes)}" if codes else ""
    _audit(session, actor, AuditAction.user_created, user, f"role {role.value}{scope}", now)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> AppUser | None:
    """The active account if `password` is its password (an unknown username costs the same
    check). Not throttled: the API's login (core.people.login_limits) is, and it checks the
    password with no transaction open."""
    user = session.exec(select(AppUser).where(AppUser.username == username.strip().lower())).first()
    ok = passwords.verify(password, user.password_hash if user is not None else None)
    if user is None or not ok or not user.active:
        return None
    return user


# Administration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UserView:
    """An account as admins see it."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    unit_codes: list[str]
    telegram_linked: bool
    officer_id: int | None
    officer_nip: str | None
    officer_name: str | None
    created_at: datetime


def _normalise_codes(codes: Iterable[str]) -> list[str]:
    return sorted({c.strip().lower() for c in codes if c.strip()})


def _units(session: Session, actor: Actor | None, codes: list[str]) -> list[Unit]:
    """The units of `codes`; a code unknown or outside the actor's reach is unknown."""
    units = session.exec(select(Unit).where(col(Unit.code).in_(codes))).all() if codes else []
    if actor is not None:
        units = [u for u in units if actor.may(Permission.MANAGE_USERS, u.id)]
    unknown = sorted(set(codes) - {u.code for u in units})
    if unknown:
        names = ", ".join(unknown)
        raise NotFound(f"unknown unit code(s): {names}", why="users.unknown_units", names=names)
    return list(units)


def _audit(
    session: Session,
    actor: Actor | None,
    action: AuditAction,
    user: AppUser,
    detail: str,
    now: datetime | None,
) -> None:
    """One access audit row for a change to `user`, in the caller's transaction. A change
    made by no person (the command line, the system) says so in the detail."""
    actor_user_id = actor.user_id if actor is not None and actor.user_id > 0 else None
    if actor_user_id is None:
        detail = f"{detail} (by {actor.username if actor is not None else 'system'})"
    session.add(
        AccessAudit(
            at=now or utcnow(),
            actor_user_id=actor_user_id,
            action=action.value,
            target_kind="user",
            target_id=user.id,
            detail=detail,
        )
    )


def audit_account_change(
    session: Session,
    user: AppUser,
    detail: str,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> None:
    """The access audit row of a change to `user` made outside this module (its Telegram link
    removed, core.people.links), as `user_changed`, in the caller's transaction."""
    _audit(session, actor, AuditAction.user_changed, user, detail, now)


def _load(session: Session, actor: Actor, user_id: int) -> AppUser:
    actor.require(Permission.MANAGE_USERS)
    user = session.get(AppUser, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def _unit_codes_of(session: Session, user_id: int) -> list[str]:
    codes = session.exec(
        select(Unit.code)
        .join(UserUnit, col(UserUnit.unit_id) == col(Unit.id))
        .where(UserUnit.user_id == user_id)
    ).all()
    return sorted(codes)


def _ensure_another_admin(session: Session, user: AppUser, doing: str) -> None:
    """Refuse to leave the system without an active admin (rows locked on PostgreSQL)."""
    if user.role != Role.admin.value or not user.active:
        return
    admins = session.exec(
        select(AppUser.id)
        .where(AppUser.role == Role.admin.value, col(AppUser.active).is_(True))
        .with_for_update()
    ).all()
    if not set(admins) - {user.id}:
        raise Conflict(
            f"{user.username} is the last active admin: make another account admin "
            f"before you {doing} it",
            why="users.last_admin",
        )


def get_user_id(session: Session, username: str) -> int:
    """The id of the account named `username` (the command line names accounts)."""
    user_id = session.exec(
        select(AppUser.id).where(AppUser.username == username.strip().lower())
    ).first()
    if user_id is None:
        raise NotFound(f"no user named {username.strip().lower()!r}")
    return user_id


def list_users(
    session: Session,
    *,
    actor: Actor,
    role: Role | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> list[UserView]:
    """Accounts ordered by username, with their units and linked officer."""
    actor.require(Permission.MANAGE_USERS)
    query = (
        select(AppUser, Officer, has_staff_contact().label("linked"))
        .outerjoin(Officer, col(Officer.id) == col(AppUser.officer_id))
        .order_by(col(AppUser.username))
    )
    if role is not None:
        query = query.where(AppUser.role == role.value)
    if active is not None:
        query = query.where(AppUser.active == active)
    if q:
        pattern = f"%{q.strip().lower()}%"
        query = query.where(
            or_(
                col(AppUser.username).like(pattern),
                func.lower(col(AppUser.display_name)).like(pattern),
            )
        )
    rows = session.exec(query).all()
    codes: dict[int, list[str]] = {}
    for user_id, code in session.exec(
        select(UserUnit.user_id, Unit.code).join(Unit, col(Unit.id) == col(UserUnit.unit_id))
    ).all():
        codes.setdefault(user_id, []).append(code)
    return [
        _view(user, officer, sorted(codes.get(user.id or 0, [])), linked=bool(linked))
        for user, officer, linked in rows
    ]


def _view(
    user: AppUser, officer: Officer | None, unit_codes: list[str], *, linked: bool
) -> UserView:
    assert user.id is not None
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        unit_codes=unit_codes,
        telegram_linked=linked,
        officer_id=officer.id if officer else None,
        officer_nip=officer.nip if officer else None,
        officer_name=officer.name if officer else None,
        created_at=user.created_at,
    )


def describe_user(session: Session, user_id: int) -> UserView:
    """One account as a UserView (for its owner's /auth/me, or after an admin's change)."""
    user = session.get(AppUser, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    officer = session.get(Officer, user.officer_id) if user.officer_id is not None else None
    linked = staff_address(session, user_id) is not None
    return _view(user, officer, _unit_codes_of(session, user_id), linked=linked)


def get_user(session: Session, user_id: int, *, actor: Actor) -> UserView:
    _load(session, actor, user_id)
    return describe_user(session, user_id)


def update_user(
    session: Session,
    user_id: int,
    *,
    actor: Actor,
    role: Role | None = None,
    unit_codes: Iterable[str] | None = None,
    display_name: str | None = None,
    now: datetime | None = None,
) -> AppUser:
    """Change an account's role, units and/or display name (each change audited)."""
    user = _load(session, actor, user_id)
    assert user.id is not None
    old_codes = _unit_codes_of(session, user.id)
    new_role = role or Role(user.role)
    new_codes = old_codes if unit_codes is None else _normalise_codes(unit_codes)
    if new_role in UNIT_ROLES and not new_codes:
        raise InvalidInput(
            f"a {new_role.value} needs at least one unit: give its unit code(s)",
            why="users.no_unit",
        )
    units = _units(session, actor, new_codes) if new_codes != old_codes else []
    rights_changed = False
    if new_role.value != user.role:
        if new_role is not Role.admin:
            _ensure_another_admin(session, user, "change the role of")
        detail = f"role {user.role} -> {new_role.value}"
        _audit(session, actor, AuditAction.user_role_changed, user, detail, now)
        user.role = new_role.value
        rights_changed = True
    if new_codes != old_codes:
        for link in session.exec(select(UserUnit).where(UserUnit.user_id == user.id)).all():
            session.delete(link)
        session.flush()
        for unit in units:
            assert unit.id is not None
            session.add(UserUnit(user_id=user.id, unit_id=unit.id))
        detail = f"units {', '.join(old_codes) or '-'} -> {', '.join(new_codes) or '-'}"
        _audit(session, actor, AuditAction.user_units_changed, user, detail, now)
        rights_changed = True
    if rights_changed:  # tokens issued under the old rights stop working
        user.token_version += 1
    new_name = None if display_name is None else clean_text(display_name)[:200]
    if new_name is not None and new_name != user.display_name:
        detail = f"display name {user.display_name!r} -> {new_name!r}"
        _audit(session, actor, AuditAction.user_changed, user, detail, now)
        user.display_name = new_name
    session.add(user)
    session.flush()
    return user


def set_active(
    session: Session, user_id: int, active: bool, *, actor: Actor, now: datetime | None = None
) -> AppUser:
    """Deactivate (its tokens stop working at once) or reactivate an account."""
    user = _load(session, actor, user_id)
    if user.active == active:
        return user
    if not active:
        if user.id == actor.user_id:
            raise Conflict(
                "you cannot deactivate your own account; ask another admin",
                why="users.self_deactivate",
            )
        _ensure_another_admin(session, user, "deactivate")
        user.token_version += 1
    user.active = active
    action = AuditAction.user_reactivated if active else AuditAction.user_deactivated
    _audit(
        session,
        actor,
        action,
        user,
        "account reactivated" if active else "account deactivated",
        now,
    )
    session.add(user)
    session.flush()
    return user


def _set_password(user: AppUser, password: str) -> None:
    check_password_strength(password, user.username)
    user.password_hash = hash_password(password)
    user.token_version += 1


def reset_password(
    session: Session, user_id: int, new_password: str, *, actor: Actor, now: datetime | None = None
) -> AppUser:
    """An admin sets another account's password (its tokens stop working)."""
    user = _load(session, actor, user_id)
    if user.id == actor.user_id:
        raise Conflict(
            "you cannot reset your own password; change it with your current password instead",
            why="users.self_reset",
        )
    _set_password(user, new_password)
    _audit(session, actor, AuditAction.user_password_reset, user, "password reset", now)
    session.add(user)
    session.flush()
    return user


def own_password_hash(session: Session, *, actor: Actor) -> str:
    """The stored hash of the actor's own password (read before a change)."""
    user = session.get(AppUser, actor.user_id)
    if user is None or not user.active:
        raise NotFound("your account does not exist or is inactive")
    return user.password_hash


class WrongCurrentPassword(InvalidInput):
    """The current password given with a change of one's own password is wrong (a failed
    login, for the throttle)."""


def check_new_own_password(current_password: str, new_password: str, *, actor: Actor) -> None:
    """The cheap checks of a change of one's own password (no argon2): the new one differs
    and is strong enough."""
    if new_password == current_password:
        raise InvalidInput(
            "the new password must differ from the current one", why="password.unchanged"
        )
    check_password_strength(new_password, actor.username)


def new_own_password_hash(
    stored_hash: str, current_password: str, new_password: str, *, actor: Actor
) -> str:
    """Check the current password and hash the new one, after `check_new_own_password`. Slow
    (argon2) and touches no database: callers run it outside any transaction, between
    `own_password_hash` and `store_own_password`. A wrong current password raises
    `WrongCurrentPassword`."""
    if not passwords.verify(current_password[:1024], stored_hash):
        raise WrongCurrentPassword(
            "the current password is wrong; enter the password you log in with"
        )
    return hash_password(new_password)


def store_own_password(
    session: Session,
    new_hash: str,
    replaces_hash: str,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> AppUser:
    """Store the new hash (every older token dies), unless the password changed meanwhile."""
    user = session.get(AppUser, actor.user_id)
    if user is None or not user.active:
        raise NotFound("your account does not exist or is inactive")
    if user.password_hash != replaces_hash:
        raise Conflict("your password was changed meanwhile; log in again and retry")
    user.password_hash = new_hash
    user.token_version += 1
    _audit(session, actor, AuditAction.user_password_changed, user, "own password changed", now)
    session.add(user)
    session.flush()
    return user


def unlock_user(
    session: Session, user_id: int, *, actor: Actor, now: datetime | None = None
) -> int:
    """Clear the account's failed logins, so it may log in again at once; returns how many."""
    user = _load(session, actor, user_id)
    cleared = login_limits.unlock(session, user.username)
    _audit(
        session, actor, AuditAction.user_unlocked, user, f"{cleared} failed login(s) cleared", now
    )
    session.flush()
    return cleared


def link_officer(
    session: Session,
    user_id: int,
    nip: str | None,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> AppUser:
    """Link the account to the officer (ASN) it belongs to, by NIP; None removes the link.

    Cases naming that officer are then hidden from the account (conflict of interest). An
    officer belongs to one account at most. A NIP outside the actor's reach is unknown."""
    user = _load(session, actor, user_id)
    current = session.get(Officer, user.officer_id) if user.officer_id is not None else None
    if nip is None:
        if current is None:
            return user
        user.officer_id = None
        detail = f"officer link removed (was NIP {current.nip})"
    else:
        try:
            clean_nip = validate_nip(nip)
        except InvalidNip as exc:
            raise InvalidInput(str(exc), why="users.officer_nip_invalid") from None
        officer = session.exec(select(Officer).where(Officer.nip == clean_nip)).first()
        if officer is None or not actor.may(Permission.MANAGE_USERS, officer.unit_id):
            raise NotFound(f"no officer with NIP {clean_nip}", why="users.officer_unknown")
        if current is not None and current.id == officer.id:
            return user
        holder = session.exec(
            select(AppUser.username).where(AppUser.officer_id == officer.id, AppUser.id != user.id)
        ).first()
        if holder is not None:
            raise Conflict(
                f"officer {clean_nip} is already linked to account {holder}; "
                "remove that link first",
                why="users.officer_taken",
                names=holder,
            )
        user.officer_id = officer.id
        was = f" (was NIP {current.nip})" if current is not None else ""
        detail = f"linked to officer NIP {clean_nip}, {officer.name}{was}"
    _audit(session, actor, AuditAction.user_officer_linked, user, detail, now)
    session.add(user)
    session.flush()
    return user


# Access audit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    action: str
    actor_user_id: int | None
    actor_username: str | None
    target_kind: str
    target_id: int | None
    target_label: str | None  # the account's username or the case's reference
    detail: str | None


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEntry]
    next_cursor: str | None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor(at: datetime, row_id: int) -> str:
    """A URL-safe cursor (digits and '_': pasted into a query string it stays as it is)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return f"{(aware - _EPOCH) // timedelta(microseconds=1)}_{row_id}"


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        micros, id_text = cursor.split("_")
        return _EPOCH + timedelta(microseconds=int(micros)), int(id_text)
    except (ValueError, OverflowError):
        raise InvalidInput("cursor: pass the next_cursor of the previous page") from None


def list_access_audit(
    session: Session,
    tz: ZoneInfo,
    *,
    actor: Actor,
    action: AuditAction | None = None,
    start: date | None = None,
    end: date | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> AuditPage:
    """Access audit rows, newest first, between the local days `start` and `end` (inclusive)."""
    actor.require(Permission.MANAGE_USERS)
    if start is not None and end is not None and end < start:
        raise InvalidInput("end must not be before start")
    by_user = aliased(AppUser)
    target_user = aliased(AppUser)
    query = (
        select(AccessAudit, by_user.username, target_user.username, Case.reference)
        .outerjoin(by_user, col(by_user.id) == col(AccessAudit.actor_user_id))
        .outerjoin(
            target_user,
            and_(
                col(AccessAudit.target_kind) == "user",
                col(target_user.id) == col(AccessAudit.target_id),
            ),
        )
        .outerjoin(
            Case,
            and_(
                col(AccessAudit.target_kind) == "case", col(Case.id) == col(AccessAudit.target_id)
            ),
        )
        .order_by(col(AccessAudit.at).desc(), col(AccessAudit.id).desc())
        .limit(limit + 1)
    )
    if action is not None:
        query = query.where(AccessAudit.action == action.value)
    if start is not None:
        query = query.where(col(AccessAudit.at) >= local_day_bounds_utc(start, start, tz)[0])
    if end is not None:
        query = query.where(col(AccessAudit.at) < local_day_bounds_utc(end, end, tz)[1])
    if cursor:
        at, row_id = _parse_cursor(cursor)
        query = query.where(
            or_(
                col(AccessAudit.at) < at,
                and_(col(AccessAudit.at) == at, col(AccessAudit.id) < row_id),
            )
        )
    rows = session.exec(query).all()
    items = [
        AuditEntry(
            id=row.id or 0,
            at=row.at,
            action=row.action,
            actor_user_id=row.actor_user_id,
            actor_username=by_name,
            target_kind=row.target_kind,
            target_id=row.target_id,
            target_label=target_name or reference,
            detail=row.detail,
        )
        for row, by_name, target_name, reference in rows[:limit]
    ]
    last = items[-1] if len(rows) > limit else None
    return AuditPage(items, _cursor(last.at, last.id) if last else None)
