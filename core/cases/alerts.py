"""New-complaint alerts to staff in Telegram (through the outbox).

Who is told what:
- The supervisors and unit heads linked to Telegram hear of the new complaints of their units
  in one batched message, at most one per `CASE_ALERT_MINUTES`, unless they turned the alerts
  off (console: Telegram page, "Pemberitahuan").
- A complaint in a serious category (`CASE_ALERT_SERIOUS_CATEGORIES`: pungli, penyalahgunaan
  wewenang) reaches the unit's supervisors and heads and every admin at once, not batched,
  whatever the switch says.
- Each recipient is told only of the cases they may open (`visible_cases_clause`): never a
  `rahasia` case outside its audience, never a complaint to the account of the officer it
  names. A message names the reference, unit, category and time received; never the
  reporter, never the description.

What was already told is read from the outbox itself, without a table of its own: each alert
is a plain message tagged with the ids of the cases it names (`enqueue(tag=...)`). Only cases
received within `LOOKBACK` are considered (well inside the outbox's retention), so a case
whose alert has been pruned is not told again. One recipient's alert is decided and queued
in one transaction that first locks that account's row (PostgreSQL; SQLite writers take
the database's write lock at BEGIN), so two schedulers running at once tell nobody twice.

The switch is the account's `case_alerts` (with `case_alerts_since`, when it was last turned
on); every change of it is also an access audit row (`set_case_alerts`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.access import Actor, Permission, actor_for, roles_with, visible_cases_clause
from core.cases.categories import CATEGORIES, category_label
from core.cases.models import OPEN_STATUSES, Case, Privacy
from core.masterdata.models import Unit
from core.outbox.addresses import has_staff_notice_contact, staff_notice_address
from core.outbox.models import MessageTemplate, OutboundMessage
from core.outbox.service import TAG_KEY, enqueue
from core.people.models import AccessAudit, AppUser, AuditAction, Role
from core.shared.clock import utcnow
from core.shared.config import ConfigError, Settings
from core.shared.db import writer
from core.shared.errors import Forbidden, NotFound
from core.shared.i18n import ct

log = logging.getLogger(__name__)

LOOKBACK = timedelta(hours=24)  # older complaints are not alerted (the digest has them)
SHOWN = 10  # cases listed in one message; the rest are counted
TAG_PREFIX = "case_alert"
BATCH, SERIOUS = "new", "serious"
# The access audit details that are the switch (`set_case_alerts`).
ALERTS_ON, ALERTS_OFF = "new-complaint alerts on", "new-complaint alerts off"
# Who hears of every new complaint of their units (the SLA reminders' readers).
UNIT_ROLES = frozenset(roles_with(Permission.RECEIVE_REMINDERS))
WITA = ZoneInfo("Asia/Makassar")  # the default of TIMEZONE


def parse_categories(value: str) -> frozenset[str]:
    """CASE_ALERT_SERIOUS_CATEGORIES: comma-separated category codes (may be empty)."""
    codes = frozenset(c.strip() for c in value.split(",") if c.strip())
    unknown = sorted(codes - set(CATEGORIES))
    if unknown:
        raise ConfigError(
            f"CASE_ALERT_SERIOUS_CATEGORIES: unknown category {unknown[0]!r}; use codes of "
            f"{', '.join(CATEGORIES)}, separated by commas"
        )
    return codes


@dataclass(frozen=True)
class AlertPolicy:
    interval: timedelta = timedelta(minutes=15)
    serious: frozenset[str] = frozenset({"pungli", "penyalahgunaan_wewenang"})
    tz: ZoneInfo = WITA

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertPolicy:
        return cls(
            interval=timedelta(minutes=settings.case_alert_minutes),
            serious=parse_categories(settings.case_alert_serious_categories),
            tz=settings.tz,
        )


# The switch -----------------------------------------------------------------------------------


def may_receive_case_alerts(*, actor: Actor) -> bool:
    """Whether the batched alerts concern the actor at all (supervisors and unit heads)."""
    return actor.role in UNIT_ROLES and actor.has(Permission.RECEIVE_REMINDERS)


def case_alerts_on(session: Session, user_id: int) -> bool:
    """The account's switch (on for an unknown account's default)."""
    user = session.get(AppUser, user_id)
    return user is None or user.case_alerts


def _switched_on_at(session: Session, user_id: int) -> datetime | None:
    """When the switch was last turned on (None: never touched, on by default)."""
    user = session.get(AppUser, user_id)
    moment = user.case_alerts_since if user is not None else None
    return _aware(moment) if moment is not None else None


def set_case_alerts(
    session: Session, on: bool, *, actor: Actor, now: datetime | None = None
) -> bool:
    """Turn the actor's own new-complaint alerts on or off; returns whether it changed."""
    if not may_receive_case_alerts(actor=actor):
        raise Forbidden("new-complaint alerts are for supervisors and unit heads")
    user = session.get(AppUser, actor.user_id)
    if user is None or not user.active:
        raise NotFound("your account does not exist or is inactive")
    if user.case_alerts == on:
        return False
    now = now or utcnow()
    user.case_alerts = on
    if on:
        user.case_alerts_since = now
    session.add(user)
    session.add(
        AccessAudit(
            at=now,
            actor_user_id=actor.user_id,
            action=AuditAction.user_changed.value,
            target_kind="user",
            target_id=actor.user_id,
            detail=ALERTS_ON if on else ALERTS_OFF,
        )
    )
    session.flush()
    return True


# What was told ----------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def alert_tag(kind: str, case_ids: Sequence[int]) -> str:
    return f"{TAG_PREFIX}:{kind}:{','.join(str(i) for i in sorted(case_ids))}"


@dataclass
class Told:
    case_ids: set[int]
    last_batch: datetime | None


def already_told(session: Session, channel: str, address: str, since: datetime) -> Told:
    """The cases named by the alerts queued to an address since `since`, and when its last
    batched alert was queued."""
    rows = session.exec(
        select(OutboundMessage.params, OutboundMessage.created_at).where(
            OutboundMessage.channel == channel,
            OutboundMessage.address == address,
            OutboundMessage.template == MessageTemplate.plain.value,
            col(OutboundMessage.created_at) >= since,
            col(OutboundMessage.params).contains(f'"{TAG_KEY}": "{TAG_PREFIX}:'),
        )
    ).all()
    told = Told(set(), None)
    for params, created in rows:
        try:
            tag = str(json.loads(params).get(TAG_KEY, ""))
        except (ValueError, AttributeError):
            continue
        _, kind, ids = [*tag.split(":", 2), "", ""][:3]
        told.case_ids |= {int(i) for i in ids.split(",") if i.isdigit()}
        if kind == BATCH and (told.last_batch is None or _aware(created) > told.last_batch):
            told.last_batch = _aware(created)
    return told


# Sending --------------------------------------------------------------------------------------


def _recipients(engine: Engine) -> list[int]:
    roles = sorted({r.value for r in UNIT_ROLES} | {Role.admin.value})
    with Session(engine) as session:
        return [
            int(i or 0)
            for i in session.exec(
                select(AppUser.id)
                .where(
                    col(AppUser.role).in_(roles),
                    AppUser.active == True,  # noqa: E712
                    has_staff_notice_contact(),
                )
                .order_by(col(AppUser.id))
            ).all()
        ]


def _lines(session: Session, cases: Sequence[Case], lang: str, tz: ZoneInfo) -> list[str]:
    units = {
        u.id: u.name
        for u in session.exec(select(Unit).where(col(Unit.id).in_({c.unit_id for c in cases})))
    }
    lines = []
    for case in cases[:SHOWN]:
        key = "alert.line_confidential" if case.privacy == Privacy.rahasia else "alert.line"
        received = _aware(case.received_at).astimezone(tz)
        lines.append(
            ct(
                lang,
                key,
                ref=case.reference,
                unit=units.get(case.unit_id, ""),
                category=category_label(case.category, lang),
                time=f"{received:%d-%m-%Y %H:%M} {received.tzname()}",
            )
        )
    if len(cases) > SHOWN:
        lines.append(ct(lang, "alert.more", count=len(cases) - SHOWN))
    return lines


def alert_user(engine: Engine, user_id: int, policy: AlertPolicy, *, now: datetime) -> int:
    """Queue what `user_id` is due to hear now (a serious alert, a batch, both or nothing),
    in one transaction; returns the number of messages queued."""
    with Session(writer(engine), expire_on_commit=False) as session:
        # Lock the account: a second scheduler deciding for the same person waits, then
        # reads the alerts this one queued.
        user = session.exec(select(AppUser).where(AppUser.id == user_id).with_for_update()).first()
        actor = actor_for(session, user_id)
        to = staff_notice_address(session, user_id)
        if user is None or actor is None or to is None:
            return 0
        since = now - LOOKBACK
        told = already_told(session, to.channel.value, to.address, since - timedelta(hours=1))
        cases = session.exec(
            select(Case)
            .where(
                *visible_cases_clause(actor=actor),
                col(Case.status).in_([s.value for s in OPEN_STATUSES]),
                col(Case.received_at) >= since,
                col(Case.received_at) <= now,
            )
            .order_by(col(Case.received_at), col(Case.id))
        ).all()
        fresh = [c for c in cases if c.id not in told.case_ids]
        serious = [c for c in fresh if c.category in policy.serious]
        batch: list[Case] = []
        if actor.role in UNIT_ROLES and case_alerts_on(session, user_id):
            on_since = _switched_on_at(session, user_id)
            batch = [
                c
                for c in fresh
                if c.category not in policy.serious
                and (on_since is None or _aware(c.received_at) >= on_since)
            ]
            due = told.last_batch is None or now - told.last_batch >= policy.interval
            if not due:
                batch = []
        lang = user.language
        queued = 0
        for kind, chosen, title in (
            (SERIOUS, serious, "alert.serious_title"),
            (BATCH, batch, "alert.new_title"),
        ):
            if not chosen:
                continue
            text = "\n".join(
                [
                    ct(lang, title, count=len(chosen)),
                    *_lines(session, chosen, lang, policy.tz),
                    "",
                    ct(lang, "alert.footer"),
                ]
            )
            enqueue(
                session,
                to=to,
                language=lang,
                template=MessageTemplate.plain,
                params={"text": text},
                tag=alert_tag(kind, [c.id or 0 for c in chosen]),
                now=now,
            )
            queued += 1
        session.commit()
        return queued


def send_case_alerts(engine: Engine, policy: AlertPolicy, *, now: datetime | None = None) -> int:
    """Every linked recipient's due alerts; returns the number of messages queued. Run
    every minute by the scheduler: a serious complaint is told within the minute."""
    now = now or utcnow()
    queued = 0
    for user_id in _recipients(engine):
        try:
            queued += alert_user(engine, user_id, policy, now=now)
        except Exception:
            log.exception("new-complaint alerts for user %s failed; the next run retries", user_id)
    return queued
