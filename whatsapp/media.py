"""Fetch complaint photos from WhatsApp's media endpoint and hand them to core for cleaning
(re-encoded without metadata: no location, no camera data) and storage, size-limited.

A photo sent with a complaint is an `Attachment` with `source` whatsapp and the media id as
`reference`; it is fetched right after the complaint is filed, and again by the sweep while
WhatsApp could not be reached (a media id stays valid for 30 days)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.cases.attachments import BadImage, pending_attachments, store_photo
from core.cases.models import Attachment, AttachmentStatus
from core.people.models import Channel
from core.shared.db import writer
from whatsapp.graph import GraphClient, GraphError, MediaTooLarge

log = logging.getLogger(__name__)


async def fetch_attachments(
    client: GraphClient,
    engine: Engine,
    root: Path,
    max_bytes: int,
    ids: Iterable[int] | None = None,
) -> int:
    """Download the given (or all pending) WhatsApp photos; returns how many were stored."""

    def load() -> list[Attachment]:
        with Session(engine, expire_on_commit=False) as session:
            if ids is None:
                return pending_attachments(session, Channel.whatsapp)
            wanted = list(ids)
            return list(
                session.exec(
                    select(Attachment).where(
                        col(Attachment.id).in_(wanted),
                        Attachment.source == Channel.whatsapp.value,
                        Attachment.status == AttachmentStatus.pending,
                    )
                ).all()
            )

    stored = 0
    for attachment in await asyncio.to_thread(load):
        try:
            data = await client.media(attachment.reference, max_bytes)
        except MediaTooLarge as exc:
            log.info("attachment %s refused: %s", attachment.id, exc)
            await asyncio.to_thread(_mark, engine, attachment, AttachmentStatus.failed.value)
            continue
        except GraphError as exc:
            # A media id WhatsApp does not know (400/404) will not become known: failed.
            status = AttachmentStatus.pending.value
            if exc.status in (400, 404) and exc.code not in (4, 80007, 130429):
                status = AttachmentStatus.failed.value
            log.warning("attachment %s not downloaded: %s", attachment.id, exc)
            await asyncio.to_thread(_mark, engine, attachment, status)
            continue
        if await asyncio.to_thread(_store, engine, attachment, data, root, max_bytes):
            stored += 1
    return stored


def _mark(engine: Engine, attachment: Attachment, status: str) -> None:
    with Session(writer(engine)) as session:
        row = session.get(Attachment, attachment.id)
        if row is not None and row.status == AttachmentStatus.pending.value:
            row.status = status
            row.attempts += 1
            session.add(row)
            session.commit()


def _store(engine: Engine, attachment: Attachment, data: bytes, root: Path, max_bytes: int) -> bool:
    with Session(writer(engine)) as session:
        row = session.get(Attachment, attachment.id)
        if row is None or row.status != AttachmentStatus.pending.value:
            return False  # fetched meanwhile by the sweep, or deleted with its case
        try:
            store_photo(session, row, data, root, max_bytes)
        except BadImage as exc:
            log.info("attachment %s is not a usable photo: %s", row.id, exc)
            session.commit()
            return False
        session.commit()
        return True


async def sweep_forever(
    client: GraphClient,
    engine: Engine,
    root: Path,
    max_bytes: int,
    stop: asyncio.Event,
    every: float = 60,
) -> None:
    """Retry photos that could not be fetched when their complaint was filed."""
    while not stop.is_set():
        try:
            await fetch_attachments(client, engine, root, max_bytes)
        except Exception:
            log.exception("WhatsApp attachment sweep failed; will retry")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
