"""The snapshot of the public figures: computed by `refresh_public_figures` (a scheduler job
every PUBLIC_CACHE_SECONDS, and the first request that finds none), read by the public pages
and the open data, which never touch the records themselves.

With PUBLIC_CACHE_SECONDS=0 every read recomputes first (tests; a tiny office)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.shared.clock import utcnow
from core.shared.config import Settings
from core.shared.db import session_scope
from core.transparency.figures import compute_public_figures
from core.transparency.models import PublicFigures

log = logging.getLogger(__name__)
META = "meta"


@dataclass(frozen=True)
class Snapshot:
    body: dict[str, Any]
    computed_at: datetime  # aware UTC


def unit_scope(code: str) -> str:
    return f"unit:{code}"


def index_scope(period_key: str) -> str:
    return f"index:{period_key}"


def compute_snapshot(session: Session, settings: Settings, *, now: datetime) -> dict[str, str]:
    """Every scope of the public figures as of `now`, as JSON text (read-only)."""
    scopes = compute_public_figures(session, settings, now=now)
    return {
        scope: json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        for scope, body in scopes.items()
    }


def store_snapshot(session: Session, scopes: dict[str, str], *, now: datetime) -> bool:
    """Replace the snapshot with `scopes` in the caller's transaction (readers see the old
    snapshot or the new one, never a mix). False: a concurrent refresh stored its own first
    (kept: it is as fresh)."""
    try:
        with session.begin_nested():
            session.execute(delete(PublicFigures))
            session.add_all(
                PublicFigures(scope=scope, body=body, computed_at=now)
                for scope, body in scopes.items()
            )
            session.flush()
    except IntegrityError:
        log.info("public figures: a concurrent refresh stored its snapshot first")
        return False
    return True


def refresh_public_figures(
    engine: Engine, settings: Settings, *, now: datetime | None = None
) -> datetime:
    """Compute the public figures and replace the snapshot with them: the scheduler's job
    (every PUBLIC_CACHE_SECONDS). Returns the time the figures are as of."""
    now = now or utcnow()
    with session_scope(engine) as session:
        scopes = compute_snapshot(session, settings, now=now)
    with session_scope(engine, write=True) as session:
        store_snapshot(session, scopes, now=now)
    return now


def needs_refresh(session: Session, settings: Settings, scope: str) -> bool:
    """Whether a reader of `scope` must compute the snapshot first: none yet, or
    PUBLIC_CACHE_SECONDS=0."""
    return settings.public_cache_seconds == 0 or session.get(PublicFigures, META) is None


def read_scope(session: Session, scope: str) -> Snapshot | None:
    row = session.get(PublicFigures, scope)
    if row is None:
        return None
    computed = row.computed_at
    if computed.tzinfo is None:
        computed = computed.replace(tzinfo=UTC)
    return Snapshot(body=json.loads(row.body), computed_at=computed)


def public_scope(
    engine: Engine, settings: Settings, scope: str, *, now: datetime | None = None
) -> Snapshot | None:
    """One scope of the snapshot, computing the snapshot first when there is none yet (or
    always, with PUBLIC_CACHE_SECONDS=0). None: no such scope (an unknown unit or period)."""
    with session_scope(engine) as session:
        refresh = needs_refresh(session, settings, scope)
    if refresh:
        refresh_public_figures(engine, settings, now=now)
    with session_scope(engine) as session:
        return read_scope(session, scope)
