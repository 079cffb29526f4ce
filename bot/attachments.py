"""Fetch complaint photos from Telegram and hand them to core for cleaning and storage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import Engine
from telegram import Bot
from telegram.error import TelegramError

from core.cases.attachments import BadImage, attachments_to_fetch, mark_attachment, store_fetched
from core.cases.models import AttachmentStatus
from core.people.models import Channel

log = logging.getLogger(__name__)


async def fetch_attachments(
    bot: Bot, engine: Engine, root: Path, max_bytes: int, ids: Iterable[int] | None = None
) -> int:
    """Download the given (or all pending) photos; returns how many were stored."""
    stored = 0
    for attachment in await asyncio.to_thread(attachments_to_fetch, engine, Channel.telegram, ids):
        try:
            file = await bot.get_file(attachment.reference)
            if file.file_size is not None and file.file_size > max_bytes:
                raise BadImage("the photo is too large")
            data = bytes(await file.download_as_bytearray())
        except BadImage as exc:
            log.info("attachment %s refused: %s", attachment.id, exc)
            await asyncio.to_thread(
                mark_attachment, engine, attachment.id, AttachmentStatus.failed.value
            )
            continue
        except TelegramError as exc:  # Telegram unreachable: try again later
            log.warning("attachment %s not downloaded yet: %s", attachment.id, exc)
            await asyncio.to_thread(
                mark_attachment, engine, attachment.id, AttachmentStatus.pending.value
            )
            continue
        if await asyncio.to_thread(store_fetched, engine, attachment.id, data, root, max_bytes):
            stored += 1
    return stored


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
