"""Login (OAuth2 password flow) and who-am-I."""

from __future__ import annotations

import logging
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from sqlmodel import col, select

from admin_api.deps import CurrentActor, SessionDep
from admin_api.schemas import MeOut, TokenOut
from admin_api.security import issue_token
from admin_api.steps import read_step, write_step
from core.masterdata.models import Unit
from core.people import passwords as passwords
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

router = APIRouter(tags=["auth"])
log = logging.getLogger("asn_feedback.login")
_proxy_warning_given = False


def too_many_failed_logins(wait: int) -> HTTPException:
    """429 with Retry-After, for a (username, address) pair that must wait."""
    return HTTPException(
        status_code=429,
        detail=(
            f"too many failed logins from your address; try again in {wait} seconds "
            "(an admin can unlock the account sooner)"
        ),
        headers={"Retry-After": str(wait)},
    )


async def count_try(request: Request, policies: Policies, username: str, address: str) -> None:
    """Count one password try for (username, address) before it is checked, or 429."""
    reserve_try = partial(
        reserve, username=username, address=address, policy=policies.logins, now=policies.now()
    )
    wait = await write_step(request, policies.engine, reserve_try)
    if wait:
        raise too_many_failed_logins(wait)


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


def token_out(settings: Settings, user_id: int, token_version: int) -> TokenOut:
    token = issue_token(user_id, token_version, settings.jwt_secret, settings.jwt_expire_minutes)
    return TokenOut(access_token=token, expires_in=settings.jwt_expire_minutes * 60)


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


@router.post("/auth/token", response_model=TokenOut)
async def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form(json_schema_extra={"format": "password"})],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,  # OAuth2: "password"
) -> TokenOut:
    """Exchange username and password for a bearer token.

    After 5 wrong passwords for a username from one address, each further try from that
    address waits 1, 2, 4, 8, then 15 minutes (429 with Retry-After); other addresses are
    not held back. The password is checked with no transaction open, a few at a time per
    process (PASSWORD_CHECKS_AT_ONCE); further logins wait their turn."""
    # Taken from the app, not through dependencies: each sync dependency is a trip through
    # the thread pool, where a burst of logins would make other requests queue.
    policies: Policies = request.app.state.policies
    settings, engine = policies.settings, policies.engine
    username = normalise_username(username)
    address = login_address(request, settings)
    policy = policies.logins
    account, wait = await read_step(
        request,
        engine,
        partial(look, username=username, address=address, policy=policy, now=policies.now()),
    )
    if wait:
        raise too_many_failed_logins(wait)
    await count_try(request, policies, username, address)
    checks = passwords.checks(settings.password_checks_at_once)
    right = await checks.verify_async(password[:1024], account.password_hash)
    if right and account.active and account.user_id is not None:
        await write_step(
            request, engine, partial(record_success, username=username, address=address)
        )
        return token_out(settings, account.user_id, account.token_version)
    await count_failure(request, policies, username, account.user_id)
    raise HTTPException(
        status_code=401,
        detail="wrong username or password",
        headers={"WWW-Authenticate": "Bearer"},
    )


@router.get("/auth/me", response_model=MeOut)
def me(actor: CurrentActor, session: SessionDep) -> MeOut:
    """The account the token belongs to: id, names, role and units."""
    codes = session.exec(select(Unit.code).where(col(Unit.id).in_(actor.unit_ids))).all()
    name = session.exec(select(AppUser.display_name).where(AppUser.id == actor.user_id)).one()
    return MeOut(
        id=actor.user_id,
        username=actor.username,
        display_name=name,
        role=actor.role.value,
        unit_codes=sorted(codes),
    )
