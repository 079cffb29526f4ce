"""Login (OAuth2 password flow) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlmodel import col, select

from admin_api.deps import CurrentActor, SessionDep, SettingsDep
from admin_api.schemas import MeOut, TokenOut
from admin_api.security import issue_token
from core.login_limits import clear_failures, record_failure, retry_after
from core.models import Unit
from core.users import authenticate

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenOut)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    username = form.username.strip().lower()[:64]
    ip = request.client.host if request.client else "unknown"
    wait = retry_after(session, username, ip)
    if wait:
        raise HTTPException(
            status_code=429,
            detail=f"too many failed logins; try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )
    user = authenticate(session, username, form.password[:1024])
    if user is None or user.id is None:
        record_failure(session, username, ip)
        session.commit()
        raise HTTPException(
            status_code=401,
            detail="wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    clear_failures(session, username)
    token = issue_token(
        user.id, user.token_version, settings.jwt_secret, settings.jwt_expire_minutes
    )
    return TokenOut(access_token=token, expires_in=settings.jwt_expire_minutes * 60)


@router.get("/auth/me", response_model=MeOut)
def me(actor: CurrentActor, session: SessionDep) -> MeOut:
    codes = session.exec(select(Unit.code).where(col(Unit.id).in_(actor.unit_ids))).all()
    return MeOut(username=actor.username, role=actor.role.value, unit_codes=sorted(codes))
