"""FastAPI dependencies: settings, the process's policies, a database session, the current
user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from admin_api.security import claims_from_token
from core.access import Actor, actor_for
from core.policies import Policies
from core.shared.config import Settings
from core.shared.db import session_scope
from httpkit import turns

# Relative: Swagger resolves it against the schema's own URL (/api/openapi.json).
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_policies(request: Request) -> Policies:
    """The policies and clock the process was built with (`create_app`), never rebuilt per
    request."""
    policies: Policies = request.app.state.policies
    return policies


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def write_turn(
    request: Request, engine: Annotated[Engine, Depends(get_engine)]
) -> AsyncIterator[None]:
    """On SQLite, requests that write take turns before any database work
    (`httpkit.turns.write_turn`); a turn that does not come answers 503."""
    try:
        async with turns.write_turn(
            request, engine, writes=request.method not in turns.READ_METHODS
        ):
            yield
    except turns.DatabaseBusy:
        raise HTTPException(
            503, "the database is busy with other changes; try again", {"Retry-After": "2"}
        ) from None


def get_session(
    request: Request,
    engine: Annotated[Engine, Depends(get_engine)],
    _turn: Annotated[None, Depends(write_turn)],
) -> Iterator[Session]:
    """One transaction per request; a request that may write takes SQLite's write lock first."""
    write = request.method not in turns.READ_METHODS
    with session_scope(engine, write=write) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
PoliciesDep = Annotated[Policies, Depends(get_policies)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]

_UNAUTHORIZED = HTTPException(
    status_code=401,
    detail="log in first: POST /api/auth/token, then send 'Authorization: Bearer <token>'",
    headers={"WWW-Authenticate": "Bearer"},
)


def get_actor(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    return actor_from_token(session, settings, token)


def bearer_token(token: Annotated[str | None, Depends(oauth2_scheme)]) -> str:
    """The bearer token, or 401 before anything else is looked at (the body included)."""
    if not token:
        raise _UNAUTHORIZED
    return token


def actor_from_token(session: Session, settings: Settings, token: str | None) -> Actor:
    """The token's live account, or 401."""
    if not token:
        raise _UNAUTHORIZED
    claims = claims_from_token(token, settings.jwt_secret)
    actor = (
        actor_for(session, claims.user_id, token_version=claims.token_version)
        if claims is not None
        else None
    )
    if actor is None:
        raise HTTPException(
            status_code=401,
            detail="the token is invalid or expired, or the account is inactive; log in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]
