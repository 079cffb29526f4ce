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

from core.cases.attachments import attachments_to_fetch, mark_attachment, store_fetched
from core.cases.models import AttachmentStatus
from core.people.models import Channel
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
    stored = 0
    for attachment in await asyncio.to_thread(attachments_to_fetch, engine, Channel.whatsapp, ids):
        try:
            data = await client.media(attachment.reference, max_bytes)
        except MediaTooLarge as exc:
            log.info("attachment %s refused: %s", attachment.id, exc)
            await asyncio.to_thread(
                mark_attachment, engine, attachment.id, AttachmentStatus.failed.value
            )
            continue
        except GraphError as exc:
            # A media id WhatsApp does not know (400/404) will not become known: failed.
            status = AttachmentStatus.pending.value
            if exc.status in (400, 404) and exc.code not in (4, 80007, 130429):
                status = AttachmentStatus.failed.value
            log.warning("attachment %s not downloaded: %s", attachment.id, exc)
            await asyncio.to_thread(mark_attachment, engine, attachment.id, status)
            continue
        if await asyncio.to_thread(store_fetched, engine, attachment.id, data, root, max_bytes):
            stored += 1
    return stored


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
