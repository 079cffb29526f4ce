"""Staff accounts (admins only, except changing one's own password) and the access audit."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from admin_api.deps import CurrentActor, SessionDep, SettingsDep, actor_from_token, bearer_token
from admin_api.routes_auth import token_out, too_many_failed_logins
from admin_api.schemas import (
    AuditPageOut,
    OfficerLinkIn,
    PasswordChangeIn,
    PasswordResetIn,
    TokenOut,
    UnlockOut,
    UserCreateIn,
    UserOut,
    UserUpdateIn,
)
from core.people import links as links
from core.people import users as users
from core.people.models import AuditAction, Role
from core.policies import Policies
from httpkit.logins import TooManyTries
from httpkit.logins import change_own_password as change_own_password_flow
from httpkit.steps import read_step

router = APIRouter()


def _out(session: SessionDep, user_id: int) -> UserOut:
    return UserOut.model_validate(users.describe_user(session, user_id))


@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(
    actor: CurrentActor,
    session: SessionDep,
    role: Role | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="part of a name")] = None,
) -> list[UserOut]:
    """Every account, by username."""
    views = users.list_users(session, actor=actor, role=role, active=active, q=q)
    return [UserOut.model_validate(v) for v in views]


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
def create_user(actor: CurrentActor, session: SessionDep, body: UserCreateIn) -> UserOut:
    """A new account; a role other than admin needs at least one unit."""
    user = users.create_user(
        session,
        body.username,
        body.role,
        body.password,
        body.unit_codes,
        display_name=body.display_name,
        actor=actor,
    )
    return _out(session, user.id or 0)


@router.post("/users/me/password", response_model=TokenOut, tags=["users"])
async def change_own_password(
    request: Request,
    body: PasswordChangeIn,
    bearer: Annotated[str, Depends(bearer_token)],
) -> TokenOut:
    """Change your own password. Every token you had stops working: use the one returned.

    A wrong current password counts as a failed login of your account from your address
    (the same delays as `POST /auth/token`, 429 with Retry-After)."""
    policies: Policies = request.app.state.policies
    settings = policies.settings
    actor = await read_step(
        request, policies.engine, partial(actor_from_token, settings=settings, token=bearer)
    )
    try:
        user = await change_own_password_flow(
            request, policies, actor, body.current_password, body.new_password
        )
    except TooManyTries as exc:
        raise too_many_failed_logins(exc.wait) from None
    return token_out(settings, actor.user_id, user.token_version)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
def get_user(actor: CurrentActor, session: SessionDep, user_id: int) -> UserOut:
    return UserOut.model_validate(users.get_user(session, user_id, actor=actor))


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
def update_user(
    actor: CurrentActor, session: SessionDep, user_id: int, body: UserUpdateIn
) -> UserOut:
    """Change role, units or display name. A change of role or units ends the user's tokens."""
    users.update_user(
        session,
        user_id,
        actor=actor,
        role=body.role,
        unit_codes=body.unit_codes,
        display_name=body.display_name,
    )
    return _out(session, user_id)


@router.post("/users/{user_id}/deactivate", response_model=UserOut, tags=["users"])
def deactivate_user(actor: CurrentActor, session: SessionDep, user_id: int) -> UserOut:
    """The account can no longer log in; its tokens stop working at once."""
    users.set_active(session, user_id, False, actor=actor)
    return _out(session, user_id)


@router.post("/users/{user_id}/reactivate", response_model=UserOut, tags=["users"])
def reactivate_user(actor: CurrentActor, session: SessionDep, user_id: int) -> UserOut:
    users.set_active(session, user_id, True, actor=actor)
    return _out(session, user_id)


@router.post("/users/{user_id}/password", response_model=UserOut, tags=["users"])
def reset_password(
    actor: CurrentActor, session: SessionDep, user_id: int, body: PasswordResetIn
) -> UserOut:
    """Set another account's password (tell them over a safe channel); its tokens stop
    working."""
    users.reset_password(session, user_id, body.new_password, actor=actor)
    return _out(session, user_id)


@router.post("/users/{user_id}/unlock", response_model=UnlockOut, tags=["users"])
def unlock_user(actor: CurrentActor, session: SessionDep, user_id: int) -> UnlockOut:
    """Forget the account's failed logins, so it may log in again at once."""
    return UnlockOut(cleared_failed_logins=users.unlock_user(session, user_id, actor=actor))


@router.put("/users/{user_id}/officer", response_model=UserOut, tags=["users"])
def link_officer(
    actor: CurrentActor, session: SessionDep, user_id: int, body: OfficerLinkIn
) -> UserOut:
    """Link the account to the officer (ASN) it belongs to, by NIP (null: unlink). Cases
    naming that officer are then hidden from the account."""
    users.link_officer(session, user_id, body.nip, actor=actor)
    return _out(session, user_id)


@router.delete("/users/{user_id}/telegram-link", response_model=UserOut, tags=["users"])
def unlink_telegram(actor: CurrentActor, session: SessionDep, user_id: int) -> UserOut:
    """Remove the account's Telegram link: digests and reminders no longer go to that chat
    (a new link code links it again). Your own account always; another's: admins only."""
    links.unlink_telegram(session, user_id, actor=actor)
    return _out(session, user_id)


@router.get("/audit/access", response_model=AuditPageOut, tags=["audit"])
def access_audit(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    action: AuditAction | None = None,
    start: Annotated[date | None, Query(description="first local day")] = None,
    end: Annotated[date | None, Query(description="last local day (inclusive)")] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPageOut:
    """Account changes and reads of sensitive cases, newest first. For the next page pass
    `next_cursor` as `cursor`."""
    page = users.list_access_audit(
        session,
        settings.tz,
        actor=actor,
        action=action,
        start=start,
        end=end,
        cursor=cursor,
        limit=limit,
    )
    return AuditPageOut.model_validate(page, from_attributes=True)
