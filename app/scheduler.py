"""APScheduler 3 jobs: the weekly digest, daily SLA reminders, daily auto-close, and the
nightly pruning of stored Telegram updates and of old outbox messages (personal data).

The schedule is defined here at every start; nothing APScheduler keeps is relied on. What
was done lives in the database (DigestRun, ReminderRun, case events), so a job that fires
twice (two schedulers, a restart) does its work once, and a digest missed while no
scheduler ran is caught up at the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from core.cases.reminders import send_reminders
from core.cases.service import CasePolicy, autoclose
from core.chat.inbox import prune
from core.digests.service import IsoWeek, RunReport, send_all_digests, week_to_report
from core.outbox.service import prune_outbox
from core.shared.clock import utcnow
from core.shared.config import Settings
from core.shared.db import session_scope
from core.shared.workers import worker_name

log = logging.getLogger("asn_feedback.scheduler")


def trigger(cron: str, settings: Settings) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=settings.tz)


def last_fire_time(cron: str, settings: Settings, now: datetime) -> datetime | None:
    """The most recent time `cron` fired at or before `now` (within the last 8 days)."""
    trig = trigger(cron, settings)
    local_now = now.astimezone(settings.tz)
    moment = trig.get_next_fire_time(None, local_now - timedelta(days=8))
    last = None
    while moment is not None and moment <= local_now:
        last = moment
        moment = trig.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return last


def due_digest_week(settings: Settings, now: datetime) -> IsoWeek | None:
    """The week whose digest should already have gone out by `now`."""
    fired = last_fire_time(settings.digest_cron, settings, now)
    return week_to_report(fired) if fired is not None else None


def run_digests(engine: Engine, settings: Settings, now: datetime | None = None) -> RunReport:
    now = now or utcnow()
    week = week_to_report(now.astimezone(settings.tz))
    return send_all_digests(
        engine, week, settings.tz, settings.default_service_population, worker_name(), now=now
    )


def catch_up(engine: Engine, settings: Settings, now: datetime | None = None) -> RunReport | None:
    """At start: send the last due week's digests that nobody sent (claims stop doubles)."""
    now = now or utcnow()
    week = due_digest_week(settings, now)
    if week is None:
        return None
    return send_all_digests(
        engine, week, settings.tz, settings.default_service_population, worker_name(), now=now
    )


def run_reminders(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    return send_reminders(engine, CasePolicy.from_settings(settings).sla, now)


def run_autoclose(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    with session_scope(engine, write=True) as session:
        return autoclose(session, CasePolicy.from_settings(settings), now)


def run_prune(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Delete stored Telegram updates that were handled or are a week old, and update ids
    older than a week (redeliveries come within hours)."""
    return prune(engine, now=now)


def run_prune_outbox(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Delete outbox messages sent (or failed) more than OUTBOX_RETENTION_DAYS ago."""
    return prune_outbox(engine, settings.outbox_retention_days, now)


def build_scheduler(engine: Engine, settings: Settings) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    jobs = (
        ("weekly-digest", settings.digest_cron, run_digests),
        ("sla-reminders", settings.reminder_cron, run_reminders),
        ("autoclose", settings.autoclose_cron, run_autoclose),
        ("prune-updates", "45 3 * * *", run_prune),
        ("prune-outbox", "50 3 * * *", run_prune_outbox),
    )
    for job_id, cron, fn in jobs:
        scheduler.add_job(
            _in_thread,
            trigger(cron, settings),
            args=(job_id, fn, engine, settings),
            id=job_id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            replace_existing=True,
        )
    return scheduler


Job = Callable[[Engine, Settings], object]


async def _in_thread(job_id: str, fn: Job, engine: Engine, settings: Settings) -> None:
    try:
        result = await asyncio.to_thread(fn, engine, settings)
        log.info("job %s done: %s", job_id, result)
    except Exception:
        log.exception("job %s failed; the next run or a restart catches up", job_id)


async def start_scheduler(engine: Engine, settings: Settings) -> AsyncIOScheduler:
    scheduler = build_scheduler(engine, settings)
    scheduler.start()
    report = await asyncio.to_thread(catch_up, engine, settings)
    if report is not None and report.units:
        log.info("caught up %s missed digest(s)", report.units)
    return scheduler


async def run_forever(engine: Engine, settings: Settings, stop: asyncio.Event) -> None:
    scheduler = await start_scheduler(engine, settings)
    log.info("scheduler running: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
