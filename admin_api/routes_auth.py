"""Login (OAuth2 password flow) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from sqlmodel import col, select

from admin_api.deps import CurrentActor, SessionDep
from admin_api.schemas import MeOut, TokenOut
from admin_api.security import issue_token
from core.masterdata.models import Unit
from core.people.models import AppUser
from core.policies import Policies
from core.shared.config import Settings
from httpkit.logins import TooManyTries, WrongPassword, check_login

router = APIRouter(tags=["auth"])


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


def token_out(settings: Settings, user_id: int, token_version: int) -> TokenOut:
    token = issue_token(user_id, token_version, settings.jwt_secret, settings.jwt_expire_minutes)
    return TokenOut(access_token=token, expires_in=settings.jwt_expire_minutes * 60)


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
    try:
        account = await check_login(request, policies, username, password)
    except TooManyTries as exc:
        raise too_many_failed_logins(exc.wait) from None
    except WrongPassword:
        raise HTTPException(
            status_code=401,
            detail="wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    return token_out(policies.settings, account.user_id, account.token_version)


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
