"""Readiness: is the database reachable, the schema current, the outbox draining?

The outbox backs up when more messages wait than OUTBOX_READY_MAX_PENDING, or when the
oldest waiting one is older than OUTBOX_READY_MAX_AGE_SECONDS (0 turns either check off):
then /readyz answers 503 and `failed` names the check and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from core.outbox.models import OutboundMessage, OutboxStatus
from core.shared.clock import utcnow
from core.shared.config import Settings
from core.shared.migrate import is_at_head


@dataclass(frozen=True)
class Readiness:
    ready: bool
    database: bool
    migrations_at_head: bool
    outbox_pending: int | None
    outbox_oldest_pending_seconds: float | None
    # The thresholds in force (0: not checked).
    outbox_max_pending: int = 0
    outbox_max_age_seconds: int = 0
    # Each failed check ("database", "migrations", "outbox_pending", "outbox_age") and why.
    failed: dict[str, str] = field(default_factory=dict)


def readiness(engine: Engine, settings: Settings | None = None) -> Readiness:
    """The checks; without `settings` the outbox's size and age are reported, not judged."""
    # Judged only on the channels that can send (Telegram with TELEGRAM_BOT_TOKEN, e-mail
    # with SMTP_HOST): elsewhere (the demo, a console-only install, e-mail not set up)
    # messages wait by design and say nothing about readiness.
    channels = [] if settings is None else sending_channels(settings)
    sending = bool(channels)
    max_pending = settings.outbox_ready_max_pending if settings is not None and sending else 0
    max_age = settings.outbox_ready_max_age_seconds if settings is not None and sending else 0
    limits = {"outbox_max_pending": max_pending, "outbox_max_age_seconds": max_age}
    try:
        at_head = is_at_head(engine)
    except SQLAlchemyError:
        why = "the database does not answer (check DATABASE_URL and that the server runs)"
        return Readiness(False, False, False, None, None, **limits, failed={"database": why})
    failed: dict[str, str] = {}
    if not at_head:
        failed["migrations"] = "the schema is not the latest: run `asn-feedback db upgrade`"
    try:
        with Session(engine) as session:
            pending, oldest = session.exec(
                select(func.count(), func.min(OutboundMessage.created_at)).where(
                    OutboundMessage.status == OutboxStatus.pending.value,
                    *([col(OutboundMessage.channel).in_(channels)] if channels else []),
                )
            ).one()
    except SQLAlchemyError:
        if not at_head:  # no outbox table yet (an empty or older schema): as the check says
            return Readiness(False, True, False, None, None, **limits, failed=failed)
        failed["database"] = "the outbox table cannot be read"
        return Readiness(False, False, True, None, None, **limits, failed=failed)
    age = _age_seconds(oldest)
    if max_pending and pending > max_pending:
        failed["outbox_pending"] = (
            f"{pending} messages wait in the outbox, more than {max_pending}"
            " (OUTBOX_READY_MAX_PENDING): is the bot or the dispatcher running?"
        )
    if max_age and age is not None and age > max_age:
        failed["outbox_age"] = (
            f"the oldest waiting message is {age:.0f} s old, more than {max_age} s"
            " (OUTBOX_READY_MAX_AGE_SECONDS): is the bot or the dispatcher running?"
        )
    return Readiness(not failed, True, at_head, int(pending), age, **limits, failed=failed)


def sending_channels(settings: Settings) -> list[str]:
    """The channels this configuration sends on."""
    return [
        name
        for name, on in (("telegram", settings.telegram_bot_token), ("email", settings.smtp_host))
        if on
    ]


def _age_seconds(oldest: datetime | str | None) -> float | None:
    if oldest is None:
        return None
    if isinstance(oldest, str):  # in case a driver hands back the stored text
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (utcnow() - oldest).total_seconds())
