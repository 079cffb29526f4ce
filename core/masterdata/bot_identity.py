"""Who the bot really is, for the QR cards.

A card that names the wrong bot leads citizens to someone else's. The bot process asks
Telegram who it is (getMe) at every start and records the answer here; QR printing never
calls Telegram itself: it compares PUBLIC_BOT_USERNAME with the recorded name and refuses
when they differ or when no bot has started on this database yet, unless the person
printing says to print anyway (`force`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.masterdata.models import BotIdentity
from core.shared.clock import utcnow
from core.shared.errors import Conflict

ROW_ID = 1


def plain_name(username: str) -> str:
    return username.strip().lstrip("@")


def record_bot_identity(
    session: Session,
    telegram_id: int,
    username: str,
    first_name: str = "",
    *,
    now: datetime | None = None,
) -> BotIdentity:
    """Record what getMe said (called by the bot process at its start)."""
    for _ in range(2):  # two bot processes starting at once: the second updates the first's row
        row = session.get(BotIdentity, ROW_ID) or BotIdentity(
            id=ROW_ID, telegram_id=telegram_id, username=""
        )
        row.telegram_id = telegram_id
        row.username = plain_name(username)[:64]
        row.first_name = first_name[:200]
        row.recorded_at = now or utcnow()
        session.add(row)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            session.expunge(row)
            continue
        return row
    raise Conflict("the bot's identity could not be recorded; start the bot again")


def recorded_bot(session: Session) -> BotIdentity | None:
    return session.get(BotIdentity, ROW_ID)


def printable_bot(session: Session, configured: str, *, force: bool = False) -> str:
    """The bot name to print on QR cards: PUBLIC_BOT_USERNAME (`configured`), when it is the
    bot that last started on this database or when `force` says to print anyway."""
    name = plain_name(configured)
    if force:
        return name
    recorded = recorded_bot(session)
    if recorded is None:
        raise Conflict(
            f"no bot has started on this database yet, so PUBLIC_BOT_USERNAME (@{name}) is "
            "unchecked: start the bot once (asn-feedback bot or serve), or print anyway "
            "(force) if you are sure the cards lead to your bot",
            why="qr.bot_unknown",
            value=name,
        )
    if recorded.username.lower() != name.lower():
        raise Conflict(
            f"PUBLIC_BOT_USERNAME is @{name}, but the bot that runs on this database is "
            f"@{recorded.username}: cards would lead citizens to another bot; set "
            f"PUBLIC_BOT_USERNAME={recorded.username}, or print anyway (force)",
            why="qr.bot_differs",
            value=name,
            detail=recorded.username,
        )
    return name
