"""Daily SLA reminders (escalation): cases overdue or due within one working day, sent to
each linked supervisor and unit head for their units, once per user and day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.access import Permission, actor_for, roles_with, visible_cases_clause
from core.cases.models import OPEN_STATUSES, Case, ReminderRun
from core.cases.queries import summaries, summary_select
from core.cases.sla import SlaPolicy, end_of_local_day
from core.outbox.addresses import has_staff_notice_contact, staff_notice_address
from core.outbox.models import MessageTemplate
from core.outbox.service import enqueue
from core.people.models import AppUser
from core.shared.clock import utcnow
from core.shared.db import writer
from core.shared.i18n import ct

SHOWN = 10
RECIPIENT_ROLES = tuple(sorted(r.value for r in roles_with(Permission.RECEIVE_REMINDERS)))


def send_reminders(engine: Engine, sla: SlaPolicy, *, now: datetime | None = None) -> int:
    """Queue today's reminders; returns how many users were reminded."""
    now = now or utcnow()
    today = now.astimezone(sla.tz).date()
    horizon = end_of_local_day(sla.calendar().add_working_days(today, 1), sla.tz)
    sent = 0
    with Session(engine) as session:
        users = session.exec(
            select(AppUser).where(
                col(AppUser.role).in_(RECIPIENT_ROLES),
                AppUser.active == True,  # noqa: E712
                has_staff_notice_contact(),
            )
        ).all()
        user_ids = [u.id for u in users if u.id is not None]
    for user_id in user_ids:
        with Session(writer(engine)) as session:
            actor = actor_for(session, user_id)
            user = session.get(AppUser, user_id)
            to = staff_notice_address(session, user_id)
            if actor is None or user is None or to is None:
                continue
            stmt = (
                summary_select()
                .where(
                    *visible_cases_clause(actor=actor),
                    col(Case.status).in_([s.value for s in OPEN_STATUSES]),
                    col(Case.due_at) <= horizon,
                )
                .order_by(col(Case.due_at), col(Case.id))
            )
            due = summaries(session, stmt.limit(SHOWN + 1))
            if not due:
                continue
            total = len(summaries(session, stmt)) if len(due) > SHOWN else len(due)
            lang = user.language
            lines = [ct(lang, "reminder.title", count=total)]
            for c in due[:SHOWN]:
                assert c.due_at is not None
                key = "reminder.line_overdue" if c.due_at <= now else "reminder.line_due"
                when = c.due_at.astimezone(sla.tz).strftime("%d-%m-%Y %H:%M")
                lines.append(ct(lang, key, ref=c.reference, unit=c.unit_code, due=when))
            if total > SHOWN:
                lines.append(ct(lang, "reminder.more", count=total - SHOWN))
            try:
                with session.begin_nested():
                    session.add(ReminderRun(user_id=user_id, day=today, created_at=now))
            except IntegrityError:
                continue  # already reminded today (another scheduler, or a restart)
            enqueue(
                session,
                to=to,
                language=lang,
                template=MessageTemplate.plain,
                params={"text": "\n".join(lines)},
                now=now,
            )
            session.commit()
            sent += 1
    return sent
