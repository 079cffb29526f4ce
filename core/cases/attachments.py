"""Complaint photos: re-encoded without EXIF (GPS included), size-limited, stored on disk
readable by the service's user only (files 0600, folders 0700)."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.cases.models import Attachment, AttachmentStatus
from core.people.models import Channel
from core.shared.db import writer
from core.shared.files import make_private_dirs, write_private_file

log = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000
MAX_ATTEMPTS = 5


class BadImage(ValueError):
    pass


def strip_metadata(
    data: bytes,
    max_bytes: int,
    *,
    max_pixels: int = MAX_PIXELS,
    max_side: int | None = None,
) -> bytes:
    """A clean JPEG of the picture: pixels only, no EXIF, GPS, comments or thumbnails.

    `max_pixels` bounds what is decoded in full; with `max_side`, a larger picture is made
    at most that many pixels on its long side (a JPEG decoded at a reduced scale, which costs
    little whatever its size; other formats must fit `max_pixels` to be decoded at all)."""
    if len(data) > max_bytes:
        raise BadImage(f"the photo is larger than {max_bytes} bytes")
    try:
        with Image.open(io.BytesIO(data)) as img:
            scaled = False
            if max_side is not None and max(img.size) > max_side and img.format == "JPEG":
                img.draft("RGB", (max_side, max_side))  # DCT scaling: 1/2, 1/4 or 1/8
                scaled = True
            if not scaled and img.width * img.height > max_pixels:
                raise BadImage("the photo has too many pixels")
            if scaled and img.width * img.height > MAX_PIXELS:
                raise BadImage("the photo has too many pixels")
            img.load()
            picture = img.convert("RGB")
            if max_side is not None and max(picture.size) > max_side:
                picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
            clean = Image.new("RGB", picture.size)
            clean.paste(picture)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise BadImage(f"not a readable image: {exc}") from None
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def store_photo(
    session: Session,
    attachment: Attachment,
    data: bytes,
    root: Path,
    max_bytes: int,
    *,
    cleaned: bool = False,
) -> None:
    """Write the cleaned photo under `root/<case id>/` and mark the attachment stored;
    `cleaned`: `data` is already `strip_metadata`'s JPEG (cleaned outside the transaction)."""
    try:
        clean = data if cleaned else strip_metadata(data, max_bytes)
    except BadImage as exc:
        attachment.status = AttachmentStatus.failed.value
        attachment.attempts += 1
        session.add(attachment)
        raise exc
    digest = hashlib.sha256(clean).hexdigest()
    relative = Path(str(attachment.case_id)) / f"{attachment.id}-{digest[:16]}.jpg"
    target = root / relative
    make_private_dirs(target.parent)  # 0700, like the photo's 0600: personal data
    write_private_file(target, clean)
    attachment.path = str(relative)
    attachment.size = len(clean)
    attachment.sha256 = digest
    attachment.content_type = "image/jpeg"
    attachment.status = AttachmentStatus.stored.value
    attachment.attempts += 1
    session.add(attachment)


def pending_attachments(session: Session, source: Channel, limit: int = 50) -> list[Attachment]:
    """Photos still to fetch from `source`, the channel they came through, oldest first."""
    return list(
        session.exec(
            select(Attachment)
            .where(
                Attachment.source == source.value,
                Attachment.status == AttachmentStatus.pending,
                Attachment.attempts < MAX_ATTEMPTS,
            )
            .order_by(col(Attachment.id))
            .limit(limit)
        ).all()
    )


# What every channel's photo fetcher shares (bot/attachments.py, whatsapp/media.py): which
# photos to fetch, and what became of one, each in its own short transaction.


def attachments_to_fetch(
    engine: Engine, source: Channel, ids: Iterable[int] | None = None
) -> list[Attachment]:
    """The given photos from `source` (or all its pending ones) still waiting to be fetched."""
    with Session(engine, expire_on_commit=False) as session:
        if ids is None:
            return pending_attachments(session, source)
        return list(
            session.exec(
                select(Attachment).where(
                    col(Attachment.id).in_(list(ids)),
                    Attachment.source == source.value,
                    Attachment.status == AttachmentStatus.pending,
                )
            ).all()
        )


def mark_attachment(engine: Engine, attachment_id: int | None, status: str) -> None:
    """A fetch that did not bring the photo: counted, and `status` (pending: try again;
    failed: for good), unless the photo was stored or deleted meanwhile."""
    with Session(writer(engine)) as session:
        row = session.get(Attachment, attachment_id)
        if row is not None and row.status == AttachmentStatus.pending.value:
            row.status = status
            row.attempts += 1
            session.add(row)
            session.commit()


def store_fetched(
    engine: Engine, attachment_id: int | None, data: bytes, root: Path, max_bytes: int
) -> bool:
    """Store a fetched photo (`store_photo`); False when it is no usable photo, or was stored
    meanwhile by the sweep, or deleted with its case."""
    with Session(writer(engine)) as session:
        row = session.get(Attachment, attachment_id)
        if row is None or row.status != AttachmentStatus.pending.value:
            return False
        try:
            store_photo(session, row, data, root, max_bytes)
        except BadImage as exc:
            log.info("attachment %s is not a usable photo: %s", row.id, exc)
            session.commit()
            return False
        session.commit()
        return True
