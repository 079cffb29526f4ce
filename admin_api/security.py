"""JWT access tokens (PyJWT, HS256)."""

from __future__ import annotations

from datetime import timedelta

import jwt

from core.clock import utcnow

ALGORITHM = "HS256"


def issue_token(user_id: int, secret: str, expire_minutes: int) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=expire_minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def user_id_from_token(token: str, secret: str) -> int | None:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return int(sub) if isinstance(sub, str) and sub.isdigit() else None
