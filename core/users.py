"""Admin API accounts: argon2 password hashes, roles, unit scope."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pwdlib import PasswordHash
from sqlmodel import Session, col, select

from core.access import Actor
from core.errors import Conflict, InvalidInput, NotFound
from core.models import AppUser, Officer, Role, Unit, UserUnit

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHash.recommended()
# Verified when the username is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def create_user(
    session: Session,
    username: str,
    role: Role,
    password: str,
    unit_codes: Iterable[str] = (),
    *,
    password_hash: str | None = None,
) -> AppUser:
    """Create an account; `password_hash` (argon2) is for accounts moved from elsewhere."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise InvalidInput("username: 3-64 lowercase letters, digits, '.', '_' or '-'")
    if password_hash is None:
        check_password_strength(password)
    elif not password_hash.startswith("$argon2"):
        raise InvalidInput("only argon2 password hashes can be imported")
    codes = [c.strip().lower() for c in unit_codes]
    if role is not Role.admin and not codes:
        raise InvalidInput(f"a {role.value} needs at least one unit (--unit CODE)")
    if session.exec(select(AppUser).where(AppUser.username == username)).first():
        raise Conflict(f"user {username!r} already exists")
    units = session.exec(select(Unit).where(col(Unit.code).in_(codes))).all() if codes else []
    unknown = sorted(set(codes) - {u.code for u in units})
    if unknown:
        raise NotFound(f"unknown unit code(s): {', '.join(unknown)}")
    user = AppUser(
        username=username,
        password_hash=password_hash or hash_password(password),
        role=role.value,
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    for unit in units:
        assert unit.id is not None
        session.add(UserUnit(user_id=user.id, unit_id=unit.id))
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> AppUser | None:
    user = session.exec(select(AppUser).where(AppUser.username == username.strip().lower())).first()
    if user is None:
        _hasher.verify(password, _DUMMY_HASH)
        return None
    if not _hasher.verify(password, user.password_hash) or not user.active:
        return None
    return user


def actor_for(session: Session, user_id: int, *, token_version: int | None = None) -> Actor | None:
    """The active account as an Actor; with `token_version`, only while that version holds."""
    user = session.get(AppUser, user_id)
    if user is None or not user.active:
        return None
    if token_version is not None and token_version != user.token_version:
        return None
    unit_ids = session.exec(select(UserUnit.unit_id).where(UserUnit.user_id == user_id)).all()
    assert user.id is not None
    officer_unit_id = None
    if user.officer_id is not None:
        officer = session.get(Officer, user.officer_id)
        officer_unit_id = officer.unit_id if officer is not None else None
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        unit_ids=frozenset(unit_ids),
        officer_id=user.officer_id,
        officer_unit_id=officer_unit_id,
    )
