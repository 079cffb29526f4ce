"""APScheduler 3 jobs: the weekly digest, daily SLA reminders, new-complaint alerts (every
minute), daily auto-close (of resolved cases nobody rated, and of cases left waiting on
the citizen), and the nightly pruning of stored Telegram updates and of old
outbox messages (personal data).

Every job takes the process's `Policies` (built once, by the composition root) and an
optional `now` (by default the policies' clock).

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
from apscheduler.triggers.interval import IntervalTrigger

from core.cases.alerts import AlertPolicy, send_case_alerts
from core.cases.lifecycle import close_unanswered
from core.cases.reminders import send_reminders
from core.cases.service import autoclose
from core.chat.inbox import prune
from core.digests.service import IsoWeek, RunReport, send_all_digests, week_to_report
from core.outbox.service import prune_outbox
from core.policies import Policies
from core.shared.config import Settings
from core.shared.db import session_scope
from core.shared.workers import worker_name
from core.transparency.snapshot import refresh_public_figures

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


def run_digests(policies: Policies, now: datetime | None = None) -> RunReport:
    settings = policies.settings
    now = now or policies.now()
    week = week_to_report(now.astimezone(settings.tz))
    return send_all_digests(
        policies.engine,
        week,
        settings.tz,
        settings.default_service_population,
        worker_name(),
        now=now,
        min_responses=settings.ikm_min_responses,
    )


def catch_up(policies: Policies, now: datetime | None = None) -> RunReport | None:
    """At start: send the last due week's digests that nobody sent (claims stop doubles)."""
    settings = policies.settings
    now = now or policies.now()
    week = due_digest_week(settings, now)
    if week is None:
        return None
    return send_all_digests(
        policies.engine,
        week,
        settings.tz,
        settings.default_service_population,
        worker_name(),
        now=now,
        min_responses=settings.ikm_min_responses,
    )


def run_reminders(policies: Policies, now: datetime | None = None) -> int:
    return send_reminders(policies.engine, policies.cases.sla, now=now or policies.now())


def run_case_alerts(policies: Policies, now: datetime | None = None) -> int:
    """New-complaint alerts due now (core.cases.alerts): serious ones at once, the rest
    batched per CASE_ALERT_MINUTES."""
    policy = AlertPolicy.from_settings(policies.settings)
    return send_case_alerts(policies.engine, policy, now=now or policies.now())


def run_autoclose(policies: Policies, now: datetime | None = None) -> int:
    with session_scope(policies.engine, write=True) as session:
        return autoclose(session, policies.cases, now=now or policies.now())


def run_close_unanswered(policies: Policies, now: datetime | None = None) -> int:
    """Close the cases left waiting on the citizen's answer for WAITING_CITIZEN_CLOSE_DAYS
    (core.cases.lifecycle.close_unanswered)."""
    days = policies.settings.waiting_citizen_close_days
    with session_scope(policies.engine, write=True) as session:
        return close_unanswered(session, days=days, now=now or policies.now())


def run_public_figures(policies: Policies, now: datetime | None = None) -> datetime:
    """Recompute the public transparency figures (core.transparency) every
    PUBLIC_CACHE_SECONDS; pages and open data read only what this stored."""
    return refresh_public_figures(policies.engine, policies.settings, now=now or policies.now())


def run_prune(policies: Policies, now: datetime | None = None) -> int:
    """Delete stored Telegram updates that were handled or are a week old, and update ids
    older than a week (redeliveries come within hours)."""
    return prune(policies.engine, now=now or policies.now())


def run_prune_outbox(policies: Policies, now: datetime | None = None) -> int:
    """Delete outbox messages sent (or failed) more than OUTBOX_RETENTION_DAYS ago."""
    return prune_outbox(
        policies.engine, policies.settings.outbox_retention_days, now=now or policies.now()
    )


Job = Callable[[Policies], object]


def build_scheduler(policies: Policies) -> AsyncIOScheduler:
    settings = policies.settings
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    jobs: tuple[tuple[str, str, Job], ...] = (
        ("weekly-digest", settings.digest_cron, run_digests),
        ("sla-reminders", settings.reminder_cron, run_reminders),
        ("autoclose", settings.autoclose_cron, run_autoclose),
        ("close-unanswered", settings.autoclose_cron, run_close_unanswered),
        ("prune-updates", "45 3 * * *", run_prune),
        ("prune-outbox", "50 3 * * *", run_prune_outbox),
    )
    for job_id, cron, fn in jobs:
        scheduler.add_job(
            _in_thread,
            trigger(cron, settings),
            args=(job_id, fn, policies),
            id=job_id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            replace_existing=True,
        )
    AlertPolicy.from_settings(settings)  # a bad CASE_ALERT_SERIOUS_CATEGORIES fails at start
    scheduler.add_job(
        _in_thread,
        IntervalTrigger(minutes=1, timezone=settings.tz),
        args=("case-alerts", run_case_alerts, policies),
        id="case-alerts",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=300,
        replace_existing=True,
    )
    if settings.public_cache_seconds > 0:  # (0: every public page computes its own figures)
        scheduler.add_job(
            _in_thread,
            IntervalTrigger(seconds=settings.public_cache_seconds, timezone=settings.tz),
            args=("public-figures", run_public_figures, policies),
            id="public-figures",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=settings.public_cache_seconds,
            replace_existing=True,
            next_run_time=datetime.now(settings.tz),  # fresh figures right after a start
        )
    return scheduler


async def _in_thread(job_id: str, fn: Job, policies: Policies) -> None:
    try:
        result = await asyncio.to_thread(fn, policies)
        log.info("job %s done: %s", job_id, result)
    except Exception:
        log.exception("job %s failed; the next run or a restart catches up", job_id)


async def start_scheduler(policies: Policies) -> AsyncIOScheduler:
    scheduler = build_scheduler(policies)
    scheduler.start()
    report = await asyncio.to_thread(catch_up, policies)
    if report is not None and report.units:
        log.info("caught up %s missed digest(s)", report.units)
    return scheduler


async def run_forever(policies: Policies, stop: asyncio.Event) -> None:
    scheduler = await start_scheduler(policies)
    log.info("scheduler running: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
