"""Checking a username and password for any HTTP adapter, under core's login throttle
(`core.people.login_limits`): after 5 wrong passwords for a username from one address,
each further try from that address waits 1, 2, 4, 8, then 15 minutes; other addresses are
not held back. The password is checked with no transaction open, a few at a time per
process (PASSWORD_CHECKS_AT_ONCE)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

import anyio
from sqlmodel import Session
from starlette.requests import Request

from core.access import Actor
from core.people import passwords as passwords
from core.people import users as users
from core.people.login_limits import (
    client_address,
    look,
    looks_like_an_unlisted_proxy,
    normalise_username,
    record_failure,
    record_success,
    reserve,
)
from core.people.models import AppUser
from core.policies import Policies
from core.shared.config import Settings
from httpkit.steps import read_step, write_step

log = logging.getLogger("asn_feedback.login")
_proxy_warning_given = False


class TooManyTries(Exception):
    """This (username, address) must wait `wait` seconds before the next try."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"try again in {wait} seconds")
        self.wait = wait


class WrongPassword(Exception):
    """Wrong username or password, or an inactive account (never said which)."""


@dataclass(frozen=True)
class LoggedIn:
    user_id: int
    token_version: int


def login_address(request: Request, settings: Settings) -> str:
    """The address failed logins are counted under (X-Forwarded-For only from a trusted
    proxy)."""
    global _proxy_warning_given
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    trusted = settings.trusted_proxy_networks
    if not _proxy_warning_given and looks_like_an_unlisted_proxy(peer, forwarded, trusted):
        _proxy_warning_given = True  # once per process
        log.warning(
            "logins arrive with X-Forwarded-For from %s, which TRUSTED_PROXIES does not list: "
            "they are all counted under that address, so wrong passwords from one client "
            "delay everyone's logins; add the reverse proxy's address to TRUSTED_PROXIES",
            peer,
        )
    return client_address(peer, forwarded, trusted)


async def count_try(request: Request, policies: Policies, username: str, address: str) -> None:
    """Count one password try for (username, address) before it is checked."""
    reserve_try = partial(
        reserve, username=username, address=address, policy=policies.logins, now=policies.now()
    )
    wait = await write_step(request, policies.engine, reserve_try)
    if wait:
        raise TooManyTries(wait)


async def count_failure(
    request: Request, policies: Policies, username: str, user_id: int | None
) -> None:
    """A wrong password, after its try was counted (may alert the admins)."""
    failure = partial(
        record_failure,
        username=username,
        policy=policies.logins,
        now=policies.now(),
        user_id=user_id,
    )
    await write_step(request, policies.engine, failure)


async def check_login(
    request: Request, policies: Policies, username: str, password: str
) -> LoggedIn:
    """The account, if the password is right and the account active; raises TooManyTries
    or WrongPassword."""
    settings, engine = policies.settings, policies.engine
    username = normalise_username(username)
    address = login_address(request, settings)
    account, wait = await read_step(
        request,
        engine,
        partial(
            look, username=username, address=address, policy=policies.logins, now=policies.now()
        ),
    )
    if wait:
        raise TooManyTries(wait)
    await count_try(request, policies, username, address)
    checks = passwords.checks(settings.password_checks_at_once)
    right = await checks.verify_async(password[:1024], account.password_hash)
    if right and account.active and account.user_id is not None:
        await write_step(
            request, engine, partial(record_success, username=username, address=address)
        )
        return LoggedIn(account.user_id, account.token_version)
    await count_failure(request, policies, username, account.user_id)
    raise WrongPassword


async def change_own_password(
    request: Request, policies: Policies, actor: Actor, current: str, new: str
) -> AppUser:
    """Change the actor's own password; returns the account with its new `token_version`
    (every older token and session dies). Read, check and hash with no transaction open,
    then a short write of its own. A wrong current password counts as a failed login of the
    account from this address (TooManyTries once it must wait); it raises
    `users.WrongCurrentPassword`; a weak or unchanged new password `InvalidInput`."""
    settings, engine = policies.settings, policies.engine
    stored = await read_step(request, engine, partial(users.own_password_hash, actor=actor))
    users.check_new_own_password(current, new, actor=actor)
    address = login_address(request, settings)
    await count_try(request, policies, actor.username, address)
    try:
        new_hash = await anyio.to_thread.run_sync(
            partial(users.new_own_password_hash, stored, current, actor=actor), new
        )
    except users.WrongCurrentPassword:
        await count_failure(request, policies, actor.username, actor.user_id)
        raise

    def store(session: Session) -> AppUser:
        user = users.store_own_password(session, new_hash, stored, actor=actor)
        record_success(session, actor.username, address)
        return user

    return await write_step(request, engine, store)
