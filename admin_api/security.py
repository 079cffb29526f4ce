"""JWT access tokens (PyJWT, HS256). A token carries its account's token version, so a
deactivation, a password change or a change of role or units ends every older token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt

from core.shared.clock import utcnow

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_version: int


def issue_token(user_id: int, token_version: int, secret: str, expire_minutes: int) -> str:
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "ver": token_version,
        "iat": now,
        "exp": now + timedelta(minutes=expire_minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def claims_from_token(token: str, secret: str) -> TokenClaims | None:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "ver"]}
        )
    except jwt.PyJWTError:
        return None
    sub, version = claims.get("sub"), claims.get("ver")
    if not (isinstance(sub, str) and sub.isdigit()) or type(version) is not int:
        return None
    return TokenClaims(int(sub), version)
