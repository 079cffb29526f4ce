"""Exactly-once delivery: DigestRun claims with a heartbeat, one transaction per recipient with
its outbox rows."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.access import Permission, actor_for
from core.digests.chart import render_chart
from core.digests.figures import (
    CLAIM_STALE_AFTER,
    RECIPIENT_ROLES,
    DigestData,
    IsoWeek,
    digest_for,
    survey_digest,
)
from core.digests.models import DigestRecipient, DigestRun, DigestRunStatus
from core.digests.render import digest_title, render_digest
from core.masterdata.models import Unit
from core.outbox.addresses import has_staff_notice_contact, staff_notice_address
from core.outbox.models import MessageTemplate
from core.outbox.service import enqueue
from core.people.models import AppUser, Channel, UserUnit
from core.shared.clock import utcnow
from core.shared.db import writer
from core.shared.errors import Conflict
from core.shared.workers import worker_gone
from core.surveys.skm import MIN_RESPONSES_DEFAULT

log = logging.getLogger(__name__)

# Exactly-once delivery ----------------------------------------------------------------------


def digest_recipients(session: Session, unit_id: int) -> list[AppUser]:
    """Linked, active users who receive the unit's digest (`Permission.RECEIVE_DIGEST` on
    it: today its unit heads)."""
    return list(
        session.exec(
            select(AppUser)
            .join(UserUnit, col(UserUnit.user_id) == col(AppUser.id))
            .where(
                UserUnit.unit_id == unit_id,
                col(AppUser.role).in_(RECIPIENT_ROLES),
                AppUser.active == True,  # noqa: E712
                has_staff_notice_contact(),
            )
            .order_by(col(AppUser.id))
        ).all()
    )


def claim_run(
    session: Session, unit_id: int, week: IsoWeek, worker: str, *, now: datetime
) -> DigestRun | None:
    """The run for (unit, week) if this worker may work on it now, else None."""
    run = DigestRun(unit_id=unit_id, week=str(week), claimed_by=worker, claimed_at=now)
    try:
        with session.begin_nested():
            session.add(run)
        return run
    except IntegrityError:
        pass
    existing = session.exec(
        select(DigestRun).where(DigestRun.unit_id == unit_id, DigestRun.week == str(week))
    ).one()
    if existing.status == DigestRunStatus.done:
        return None
    if now - existing.claimed_at < CLAIM_STALE_AFTER and not worker_gone(existing.claimed_by):
        return None
    # A stale claim, or its worker is gone: take it over, unless another worker just did.
    taken = session.execute(
        update(DigestRun)
        .where(col(DigestRun.id) == existing.id, col(DigestRun.claimed_at) == existing.claimed_at)
        .values(claimed_by=worker, claimed_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(existing)
    return existing


@dataclass
class RunReport:
    units: int = 0
    messages: int = 0
    skipped_units: int = 0


def send_unit_digest(
    engine: Engine,
    unit_id: int,
    week: IsoWeek,
    tz: ZoneInfo,
    default_population: int,
    worker: str,
    *,
    now: datetime | None = None,
    on_recipient: Callable[[AppUser], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
    min_responses: int = MIN_RESPONSES_DEFAULT,
) -> int | None:
    """Claim (unit, week) and queue the digest for every recipient not yet served, each
    with the figures over the cases that recipient may open (`digest_for`).

    Each recipient is one transaction (the claim's heartbeat, outbox rows, DigestRecipient),
    so a crash loses nothing and a resumed run continues with the remaining heads. A run
    whose claim was taken over stops; the primary key of DigestRecipient makes a second
    digest for the same head impossible even then. Returns the number of messages queued,
    or None when another worker has (or had) the claim; a unit with no linked recipient is
    refused (`Conflict`, "digest.no_recipient") before anything is claimed. `now` dates the
    messages; the claim and its heartbeat read `clock`, the time every worker shares.
    """
    now = now or clock()
    with Session(writer(engine), expire_on_commit=False) as session:
        if not digest_recipients(session, unit_id):
            # Claiming would use up the week: the real send, once a head is linked, would
            # then be refused as already sent.
            raise Conflict("the unit has no linked unit head", why="digest.no_recipient")
        run = claim_run(session, unit_id, week, worker, now=clock())
        session.commit()
        if run is None:
            return None
        unit = session.get(Unit, unit_id)
        assert unit is not None and run.id is not None
        base = survey_digest(session, unit, week, tz, default_population, min_responses)
        done = set(
            session.exec(select(DigestRecipient.user_id).where(DigestRecipient.run_id == run.id))
        )
        queued = 0
        charts: dict[str, bytes] = {}
        for head in digest_recipients(session, unit_id):
            if head.id in done:
                continue
            if on_recipient is not None:
                on_recipient(head)
            if not _still_ours(session, run.id, worker, clock()):
                session.rollback()
                return queued
            actor = actor_for(session, head.id or 0)
            if actor is None or not actor.may(Permission.RECEIVE_DIGEST, unit_id):
                session.commit()  # the heartbeat
                continue
            data = digest_for(session, base, tz, actor=actor, now=now)
            count = _queue_digest(session, data, head, charts, now)
            session.add(DigestRecipient(run_id=run.id, user_id=head.id or 0, created_at=now))
            try:
                session.commit()
            except IntegrityError:  # another worker served this head
                session.rollback()
                return queued
            queued += count
        run.status, run.finished_at = DigestRunStatus.done.value, now
        session.add(run)
        session.commit()
        return queued


def _still_ours(session: Session, run_id: int, worker: str, at: datetime) -> bool:
    """Refresh the claim's heartbeat; False when another worker has taken the run over."""
    beat = session.execute(
        update(DigestRun)
        .where(col(DigestRun.id) == run_id, col(DigestRun.claimed_by) == worker)
        .values(claimed_at=at)
    )
    return bool(beat.rowcount == 1)  # type: ignore[attr-defined]


def _queue_digest(
    session: Session, data: DigestData, head: AppUser, charts: dict[str, bytes], now: datetime
) -> int:
    assert head.id is not None
    to = staff_notice_address(session, head.id)
    if to is None:  # unlinked since the recipients were read
        return 0
    lang = head.language
    messages: list[tuple[str, bytes | None]] = []
    chart: bytes | None = None
    if not data.nothing_new:
        if lang not in charts:
            charts[lang] = render_chart(data, lang)
        chart = charts[lang]
    if to.channel is Channel.email:  # one e-mail: the digest, its chart attached
        messages.append((render_digest(data, lang), chart))
    else:  # Telegram: the chart with its title, then the digest
        if chart is not None:
            messages.append((digest_title(data, lang), chart))
        messages.append((render_digest(data, lang), None))
    for text, photo in messages:
        enqueue(
            session,
            to=to,
            language=lang,
            template=MessageTemplate.plain,
            params={"text": text},
            photo=photo,
            now=now,
        )
    return len(messages)


def week_to_report(fire_time_local: datetime) -> IsoWeek:
    """A digest fired during week W reports on week W-1."""
    return IsoWeek.of(fire_time_local.date()).previous()


def send_all_digests(
    engine: Engine,
    week: IsoWeek,
    tz: ZoneInfo,
    default_population: int,
    worker: str,
    unit_ids: Sequence[int] | None = None,
    *,
    now: datetime | None = None,
    min_responses: int = MIN_RESPONSES_DEFAULT,
) -> RunReport:
    """Every active unit with a linked digest recipient (or the given units)."""
    report = RunReport()
    with Session(engine) as session:
        if unit_ids is None:
            unit_ids = list(
                session.exec(
                    select(UserUnit.unit_id)
                    .join(AppUser, col(AppUser.id) == col(UserUnit.user_id))
                    .join(Unit, col(Unit.id) == col(UserUnit.unit_id))
                    .where(
                        col(AppUser.role).in_(RECIPIENT_ROLES),
                        AppUser.active == True,  # noqa: E712
                        has_staff_notice_contact(),
                        Unit.active == True,  # noqa: E712
                    )
                    .distinct()
                ).all()
            )
    for unit_id in sorted(unit_ids):
        try:
            queued = send_unit_digest(
                engine,
                unit_id,
                week,
                tz,
                default_population,
                worker,
                now=now,
                min_responses=min_responses,
            )
        except Conflict:  # its last linked head left since the units were read
            report.skipped_units += 1
            continue
        except Exception:
            log.exception(
                "digest for unit %s, week %s failed; a later run resumes it", unit_id, week
            )
            continue
        if queued is None:
            report.skipped_units += 1
        else:
            report.units += 1
            report.messages += queued
    return report
