"""Login throttling, shared by every API worker through the database: at most
`PER_USERNAME` failures per username and `PER_IP` per address in `WINDOW`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.models import LoginFailure

WINDOW = timedelta(minutes=15)
PER_USERNAME = 5
PER_IP = 100  # an office behind one address must not be locked out by one person


def retry_after(session: Session, username: str, ip: str, now: datetime | None = None) -> int:
    """Seconds to wait before trying again, or 0 when a login may be attempted now."""
    now = now or utcnow()
    since = now - WINDOW
    waits = []
    for column, value, limit in (
        (LoginFailure.username, username, PER_USERNAME),
        (LoginFailure.ip, ip, PER_IP),
    ):
        count, oldest = session.exec(
            select(func.count(), func.min(LoginFailure.at)).where(
                col(column) == value, col(LoginFailure.at) >= since
            )
        ).one()
        if count >= limit and oldest is not None:
            waits.append(max(1, int((oldest + WINDOW - now).total_seconds()) + 1))
    return max(waits, default=0)


def record_failure(session: Session, username: str, ip: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    session.add(LoginFailure(username=username[:64], ip=ip[:64], at=now))
    session.execute(delete(LoginFailure).where(col(LoginFailure.at) < now - 2 * WINDOW))


def clear_failures(session: Session, username: str) -> None:
    session.execute(delete(LoginFailure).where(col(LoginFailure.username) == username))
