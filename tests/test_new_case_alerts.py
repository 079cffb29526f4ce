"""New complaints reach the units' supervisors and heads in Telegram (issue 16): batched, at
most one message per person per CASE_ALERT_MINUTES; a serious category at once, to the admins
too; never a `rahasia` case outside its audience, never to the account of the officer a
complaint names; each person told once even with two schedulers; a switch per person."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.scheduler import build_scheduler, run_case_alerts
from core.access import Actor, actor_for
from core.cases import service as svc
from core.cases.alerts import (
    AlertPolicy,
    case_alerts_on,
    parse_categories,
    send_case_alerts,
    set_case_alerts,
)
from core.cases.models import Privacy
from core.cases.sla import SlaPolicy
from core.people.models import AccessAudit, AppUser, Role
from core.policies import build
from core.shared.config import ConfigError, Settings
from core.shared.errors import Forbidden
from tests.contacts import link_telegram, messages_to, telegram_citizen
from tests.factories import make_officer, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
POLICY = svc.CasePolicy(sla=SlaPolicy(tz=WITA), complaints_per_day=100)
ALERTS = AlertPolicy(interval=timedelta(minutes=15), tz=WITA)
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 23 November, 09.00 WITA
CHATS = {"admin": 900, "kadis": 901, "spv": 903, "kadis-yoh": 904, "spv-lain": 905}


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Office:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.citizens = 0
        with Session(engine, expire_on_commit=False) as s:
            self.unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
            other = make_unit(s, "dinkes", "Dinas Kesehatan")
            self.officer = make_officer(s, self.unit, "Yohanes Ndun")
            self.ids: dict[str, int] = {}
            for name, role, units in (
                ("admin", Role.admin, []),
                ("kadis", Role.unit_head, [self.unit]),
                ("spv", Role.supervisor, [self.unit]),
                ("kadis-yoh", Role.unit_head, [self.unit]),  # Yohanes's own account
                ("spv-lain", Role.supervisor, [other]),
                ("spv-tanpa-tg", Role.supervisor, [self.unit]),  # never linked
            ):
                user = make_user(s, name, role, units)
                self.ids[name] = user.id or 0
                if name in CHATS:
                    link_telegram(s, user, CHATS[name])
            yoh = s.get_one(AppUser, self.ids["kadis-yoh"])
            yoh.officer_id = self.officer.id
            s.add(yoh)
            s.commit()

    def file(
        self,
        when: datetime,
        category: str = "tidak_kompeten",
        privacy: Privacy = Privacy.biasa,
        officer: bool = False,
    ) -> str:
        self.citizens += 1
        with Session(self.engine, expire_on_commit=False) as s:
            case = svc.file_complaint(
                s,
                telegram_citizen(s, 77_000 + self.citizens),
                svc.ComplaintDraft(
                    unit_id=self.unit.id or 0,
                    officer_id=self.officer.id if officer else None,
                    category=category,
                    description="Petugas loket meminta uang tambahan untuk KTP.",
                    privacy=privacy,
                ),
                POLICY,
                now=when,
            )
            s.commit()
            return case.reference

    def texts(self, name: str) -> list[str]:
        """The alert texts queued to the person's chat, oldest first."""
        with Session(self.engine) as s:
            return [
                str(m.params)
                for m in messages_to(s, CHATS[name])
                if '"tag": "case_alert:' in str(m.params)
            ]

    def actor(self, name: str) -> Actor:
        with Session(self.engine) as s:
            found = actor_for(s, self.ids[name])
            assert found is not None
            return found


@pytest.fixture
def office(engine: Engine) -> Office:
    return Office(engine)


def test_new_complaints_are_batched_at_most_once_per_interval(office: Office) -> None:
    first = office.file(at(0))
    assert send_case_alerts(office.engine, ALERTS, now=at(1)) == 3  # kadis, spv, kadis-yoh
    [told] = office.texts("spv")
    assert "1 pengaduan baru di unit Anda" in told
    assert first in told and "Dinas Dukcapil" in told and "Tidak kompeten" in told
    assert "23-11-2026 09:00 WITA" in told
    # Never the description, never the reporter.
    assert "meminta uang" not in told and "77001" not in told
    assert office.texts("admin") == [] and office.texts("spv-lain") == []

    second = office.file(at(2))
    third = office.file(at(3))
    send_case_alerts(office.engine, ALERTS, now=at(5))  # within 15 minutes of the first
    assert len(office.texts("spv")) == 1
    send_case_alerts(office.engine, ALERTS, now=at(16))
    texts = office.texts("spv")
    assert len(texts) == 2
    assert "2 pengaduan baru" in texts[1] and second in texts[1] and third in texts[1]
    assert first not in texts[1]  # told already
    send_case_alerts(office.engine, ALERTS, now=at(40))
    assert len(office.texts("spv")) == 2  # nothing new: nothing sent


def test_a_recipient_hears_only_of_complaints_they_may_open(office: Office) -> None:
    secret = office.file(at(0), category="lainnya", privacy=Privacy.rahasia)
    about_yohanes = office.file(at(1), officer=True)
    send_case_alerts(office.engine, ALERTS, now=at(2))
    [spv] = office.texts("spv")
    assert secret in spv and "🔒 rahasia" in spv and about_yohanes in spv
    [kadis] = office.texts("kadis")  # a unit head may not open a `rahasia` case
    assert secret not in kadis and about_yohanes in kadis
    # Yohanes's own account hears of neither: one is rahasia, the other names him.
    assert office.texts("kadis-yoh") == []


def test_a_serious_complaint_reaches_supervisors_and_admins_at_once(office: Office) -> None:
    office.file(at(0))
    send_case_alerts(office.engine, ALERTS, now=at(1))
    pungli = office.file(at(2), category="pungli")
    abuse = office.file(at(3), category="penyalahgunaan_wewenang", privacy=Privacy.rahasia)
    send_case_alerts(office.engine, ALERTS, now=at(4))  # inside the batch interval
    serious = office.texts("spv")[-1]
    assert "🚨 2 pengaduan kategori berat" in serious
    assert pungli in serious and abuse in serious and "Permintaan imbalan / pungli" in serious
    [admin] = office.texts("admin")
    assert pungli in admin and abuse in admin
    kadis = office.texts("kadis")[-1]
    assert pungli in kadis and abuse not in kadis  # rahasia: not a unit head's
    assert office.texts("spv-lain") == []  # another unit's supervisor
    send_case_alerts(office.engine, ALERTS, now=at(30))
    assert len(office.texts("spv")) == 2 and len(office.texts("admin")) == 1  # not again


def test_the_switch_stops_the_batches_but_not_the_serious_alerts(office: Office) -> None:
    kadis = office.actor("kadis")
    with Session(office.engine) as s:
        assert case_alerts_on(s, kadis.user_id)
        assert set_case_alerts(s, False, actor=kadis, now=at(0))
        s.commit()
        assert not case_alerts_on(s, kadis.user_id)
        audit = s.exec(
            select(AccessAudit)
            .where(AccessAudit.target_id == kadis.user_id)
            .order_by(col(AccessAudit.id))
        ).all()
        assert [a.detail for a in audit][-1] == "new-complaint alerts off"
    quiet = office.file(at(1))
    pungli = office.file(at(2), category="pungli")
    send_case_alerts(office.engine, ALERTS, now=at(3))
    [told] = office.texts("kadis")
    assert pungli in told and quiet not in told
    assert len(office.texts("spv")) == 2  # the supervisor's switch is still on

    with Session(office.engine) as s:
        set_case_alerts(s, True, actor=kadis, now=at(10))
        s.commit()
    later = office.file(at(11))
    send_case_alerts(office.engine, ALERTS, now=at(12))
    texts = office.texts("kadis")
    # Only what came in after the switch was turned back on.
    assert len(texts) == 2 and later in texts[1] and quiet not in texts[1]

    with Session(office.engine) as s, pytest.raises(Forbidden):
        set_case_alerts(s, False, actor=office.actor("admin"))


def test_two_schedulers_at_once_tell_each_person_once(office: Office) -> None:
    for minute in range(3):
        office.file(at(minute))
    office.file(at(3), category="pungli")
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            send_case_alerts(office.engine, ALERTS, now=at(4))
        except BaseException as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(office.texts("spv")) == 2  # one serious, one batch
    assert len(office.texts("kadis")) == 2
    assert len(office.texts("admin")) == 1


def test_the_scheduler_runs_the_alerts_every_minute(office: Office, settings: Settings) -> None:
    policies = build(settings, office.engine)
    scheduler = build_scheduler(policies)
    job = scheduler.get_job("case-alerts")
    assert job is not None and isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == timedelta(minutes=1)
    office.file(at(0))
    assert run_case_alerts(policies, now=at(1)) == 3
    with pytest.raises(ConfigError, match="CASE_ALERT_SERIOUS_CATEGORIES"):
        parse_categories("pungli,suap")
