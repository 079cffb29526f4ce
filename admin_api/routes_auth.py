"""Login (OAuth2 password flow) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.security import OAuth2PasswordRequestForm
from sqlmodel import col, select

from admin_api.deps import CurrentActor, SessionDep, SettingsDep
from admin_api.schemas import MeOut, TokenOut
from admin_api.security import issue_token
from core.models import Unit
from core.users import authenticate

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenOut)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    user = authenticate(session, form.username[:64], form.password[:1024])
    if user is None or user.id is None:
        raise HTTPException(
            status_code=401,
            detail="wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = issue_token(user.id, settings.jwt_secret, settings.jwt_expire_minutes)
    return TokenOut(access_token=token, expires_in=settings.jwt_expire_minutes * 60)


@router.get("/auth/me", response_model=MeOut)
def me(actor: CurrentActor, session: SessionDep) -> MeOut:
    codes = session.exec(select(Unit.code).where(col(Unit.id).in_(actor.unit_ids))).all()
    return MeOut(username=actor.username, role=actor.role.value, unit_codes=sorted(codes))
