"""Fetch complaint photos from Telegram and hand them to core for cleaning and storage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot
from telegram.error import TelegramError

from core.cases.attachments import BadImage, pending_attachments, store_photo
from core.cases.models import Attachment, AttachmentStatus
from core.people.models import Channel
from core.shared.db import writer

log = logging.getLogger(__name__)


async def fetch_attachments(
    bot: Bot, engine: Engine, root: Path, max_bytes: int, ids: Iterable[int] | None = None
) -> int:
    """Download the given (or all pending) photos; returns how many were stored."""

    def load() -> list[Attachment]:
        with Session(engine, expire_on_commit=False) as session:
            if ids is None:
                return pending_attachments(session, Channel.telegram)
            wanted = list(ids)
            return list(
                session.exec(
                    select(Attachment).where(
                        col(Attachment.id).in_(wanted),
                        Attachment.source == Channel.telegram.value,
                        Attachment.status == AttachmentStatus.pending,
                    )
                ).all()
            )

    stored = 0
    for attachment in await asyncio.to_thread(load):
        try:
            file = await bot.get_file(attachment.reference)
            if file.file_size is not None and file.file_size > max_bytes:
                raise BadImage("the photo is too large")
            data = bytes(await file.download_as_bytearray())
        except BadImage as exc:
            log.info("attachment %s refused: %s", attachment.id, exc)
            await asyncio.to_thread(_mark, engine, attachment, "failed")
            continue
        except TelegramError as exc:  # Telegram unreachable: try again later
            log.warning("attachment %s not downloaded yet: %s", attachment.id, exc)
            await asyncio.to_thread(_mark, engine, attachment, "pending")
            continue
        if await asyncio.to_thread(_store, engine, attachment, data, root, max_bytes):
            stored += 1
    return stored


def _mark(engine: Engine, attachment: Attachment, status: str) -> None:
    with Session(writer(engine)) as session:
        row = session.get(Attachment, attachment.id)
        if row is not None:
            row.status = status
            row.attempts += 1
            session.add(row)
            session.commit()


def _store(engine: Engine, attachment: Attachment, data: bytes, root: Path, max_bytes: int) -> bool:
    with Session(writer(engine)) as session:
        row = session.get(Attachment, attachment.id)
        if row is None:
            return False
        try:
            store_photo(session, row, data, root, max_bytes)
        except BadImage as exc:
            log.info("attachment %s is not a usable photo: %s", row.id, exc)
            session.commit()
            return False
        session.commit()
        return True


async def sweep_forever(
    bot: Bot, engine: Engine, root: Path, max_bytes: int, stop: asyncio.Event, every: float = 60
) -> None:
    """Retry photos that could not be fetched when their complaint was filed."""
    while not stop.is_set():
        try:
            await fetch_attachments(bot, engine, root, max_bytes)
        except Exception:
            log.exception("attachment sweep failed; will retry")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
