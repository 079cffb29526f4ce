"""The case lifecycle in core: filing, every transition, SLA, audit trail, outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from core.access import Actor
from core.cases.models import Attachment, Case, CaseEvent, CaseOutcome, CaseStatus, Privacy
from core.cases.queries import CaseFilter, CaseSort, list_cases
from core.cases.service import (
    CasePolicy,
    ComplaintDraft,
    IllegalTransition,
    TooManyComplaints,
    add_note,
    assign,
    autoclose,
    citizen_rate,
    citizen_reply,
    close,
    duplicate_hints,
    file_complaint,
    reject,
    reopen,
    request_info,
    resolve,
    verify,
)
from core.cases.sla import SlaPolicy
from core.masterdata.models import Unit
from core.outbox.models import OutboundMessage
from core.people.models import Citizen, Role
from core.shared.errors import Forbidden, InvalidInput, NotFound
from tests.contacts import telegram_citizen
from tests.factories import make_officer, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
POLICY = CasePolicy(sla=SlaPolicy(tz=WITA))
T0 = datetime(2026, 11, 12, 2, 0, tzinfo=UTC)  # Thursday 10:00 WITA
DESC = "Petugas loket meminta uang tambahan untuk mempercepat KTP-el saya."


class World:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
        self.other = make_unit(session, "dinkes", "Dinas Kesehatan")
        self.officer = make_officer(session, self.unit, "Yohanes Ndun")
        self.citizen = telegram_citizen(session, 9001)
        self.admin = self._actor("admin", Role.admin, [])
        self.spv = self._actor("spv", Role.supervisor, [self.unit])
        self.head = self._actor("head", Role.unit_head, [self.unit])
        self.viewer = self._actor("viewer", Role.viewer, [self.unit])
        self.outsider = self._actor("outsider", Role.supervisor, [self.other])
        session.flush()

    def _actor(self, name: str, role: Role, units: list[Unit]) -> Actor:
        user = make_user(self.s, name, role, units)
        assert user.id is not None
        return Actor(user.id, name, role, frozenset(u.id for u in units if u.id))

    def file(self, now: datetime = T0, **kw: object) -> Case:
        assert self.unit.id is not None
        draft = ComplaintDraft(
            unit_id=int(kw.pop("unit_id", self.unit.id)),  # type: ignore[call-overload]
            category=str(kw.pop("category", "pungli")),
            description=str(kw.pop("description", DESC)),
            **kw,  # type: ignore[arg-type]
        )
        return file_complaint(self.s, self.citizen, draft, POLICY, now=now)

    def events(self, case: Case) -> list[str]:
        rows = self.s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        return [e.kind for e in sorted(rows, key=lambda e: e.id or 0)]

    def outbox(self) -> list[tuple[str, dict[str, str]]]:
        rows = self.s.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        return [(m.template, json.loads(m.params)) for m in rows]


@pytest.fixture
def w(session: Session) -> World:
    return World(session)


def test_filing_gives_readable_unique_references_and_due_dates(w: World) -> None:
    a = w.file(photos=("AgAC1", "AgAC2"), latitude=-10.17, longitude=123.6)
    b = w.file(T0 + timedelta(minutes=5))
    assert a.reference == "KPG-2611-0001"
    assert b.reference == "KPG-2611-0002"
    assert a.status == CaseStatus.received
    # Thursday 12 Nov + 3 working days = Tue 17 Nov; due at the end of that local day.
    assert a.verify_due_at == datetime(2026, 11, 18, 0, 0, tzinfo=WITA)
    assert a.due_at == a.verify_due_at
    assert w.events(a) == ["created"]
    atts = w.s.exec(select(Attachment).where(Attachment.case_id == a.id)).all()
    assert [(x.source, x.reference) for x in atts] == [("telegram", "AgAC1"), ("telegram", "AgAC2")]
    assert w.outbox() == []  # the bot answers the reporter directly with the reference
    december = w.file(datetime(2026, 12, 1, 1, tzinfo=UTC))
    assert december.reference == "KPG-2612-0001"


def test_reference_sequence_grows_past_four_digits(w: World) -> None:
    w.s.add(
        Case(
            reference="KPG-2611-9999",
            unit_id=w.unit.id or 0,
            category="lainnya",
            description=DESC,
            verify_due_at=T0,
            resolve_due_at=T0,
        )
    )
    w.s.flush()
    assert w.file().reference == "KPG-2611-10000"
    assert w.file().reference == "KPG-2611-10001"


def test_complaint_validation_and_daily_limit(w: World) -> None:
    with pytest.raises(InvalidInput, match="20-2000 characters"):
        w.file(description="too short")
    with pytest.raises(InvalidInput, match="unknown category"):
        w.file(category="bribery")
    other_officer = make_officer(w.s, w.other, "Lain")
    with pytest.raises(InvalidInput, match="does not serve"):
        w.file(officer_id=other_officer.id)
    with pytest.raises(InvalidInput, match="not on Earth"):
        w.file(latitude=120.0, longitude=10.0)
    for i in range(5):
        w.file(T0 + timedelta(minutes=i))
    with pytest.raises(TooManyComplaints):
        w.file(T0 + timedelta(hours=1))
    w.file(T0 + timedelta(days=1))  # the next local day is fine


def test_full_lifecycle_one_event_per_transition_and_notifications(w: World) -> None:
    case = w.file()
    verify(w.s, case, POLICY, actor=w.spv, now=T0 + timedelta(hours=1))
    assert case.status == CaseStatus.verified
    assert case.followup_due_at == datetime(2026, 11, 20, 0, 0, tzinfo=WITA)
    assign(w.s, case, actor=w.spv, assignee_id=w.head.user_id, now=T0 + timedelta(hours=2))
    assert case.status == CaseStatus.in_progress and case.assignee_id == w.head.user_id
    add_note(w.s, case, "Sudah dipanggil petugasnya.", actor=w.head, now=T0 + timedelta(hours=3))
    request_info(w.s, case, "Jam berapa kejadiannya?", actor=w.head, now=T0 + timedelta(hours=4))
    assert case.status == CaseStatus.waiting_citizen and case.due_at is None
    citizen_reply(w.s, w.citizen, case, "Sekitar jam 10 pagi.", now=T0 + timedelta(days=3, hours=4))
    assert case.status == CaseStatus.in_progress
    resolve(
        w.s,
        case,
        CaseOutcome.substantiated,
        "Petugas diberi teguran tertulis.",
        actor=w.head,
        now=T0 + timedelta(days=5),
    )
    assert case.status == CaseStatus.resolved and case.outcome == "substantiated"
    citizen_rate(w.s, w.citizen, case, POLICY, True, now=T0 + timedelta(days=6))
    assert case.status == CaseStatus.closed and case.satisfied is True

    assert w.events(case) == [
        "created",
        "verified",
        "assigned",
        "note",
        "info_requested",
        "citizen_replied",
        "resolved",
        "rated_satisfied",
    ]
    note = w.s.exec(select(CaseEvent).where(CaseEvent.kind == "note")).one()
    assert note.visibility == "internal"
    assert [t for t, _ in w.outbox()] == [
        "case_verified",
        "case_in_progress",
        "case_info_requested",
        "case_resolved",
    ]
    templates = dict(w.outbox())
    assert templates["case_info_requested"] == {
        "ref": case.reference,
        "body": "Jam berapa kejadiannya?",
    }
    assert templates["case_resolved"]["outcome"] == "substantiated"
    msg = w.s.exec(select(OutboundMessage)).first()
    assert (
        msg is not None
        and (msg.channel, msg.address) == ("telegram", "9001")
        and msg.status == "pending"
    )


def test_the_pause_moves_the_deadlines(w: World) -> None:
    case = w.file()
    verify(w.s, case, POLICY, actor=w.spv, now=T0)
    assign(w.s, case, actor=w.spv, assignee_id=w.spv.user_id, now=T0)
    before = case.resolve_due_at
    request_info(w.s, case, "Mohon kirim foto.", actor=w.spv, now=T0 + timedelta(days=1))
    citizen_reply(w.s, w.citizen, case, "Sudah saya kirim.", now=T0 + timedelta(days=4, hours=6))
    assert case.resolve_due_at - before == timedelta(days=3, hours=6)
    assert case.due_at == case.resolve_due_at


ILLEGAL = {
    "verify": [CaseStatus.verified, CaseStatus.in_progress, CaseStatus.resolved],
    "reject": [CaseStatus.in_progress, CaseStatus.resolved, CaseStatus.closed],
    "assign": [CaseStatus.received, CaseStatus.resolved, CaseStatus.closed],
    "request_info": [CaseStatus.received, CaseStatus.verified, CaseStatus.waiting_citizen],
    "resolve": [CaseStatus.received, CaseStatus.verified, CaseStatus.closed],
    "close": [CaseStatus.received, CaseStatus.in_progress, CaseStatus.rejected],
    "reopen": [CaseStatus.received, CaseStatus.in_progress, CaseStatus.rejected],
}


@pytest.mark.parametrize("action", sorted(ILLEGAL))
def test_illegal_transitions_are_refused_and_change_nothing(w: World, action: str) -> None:
    for status in ILLEGAL[action]:
        case = w.file()
        case.status = status.value
        w.s.flush()
        events_before = w.events(case)
        calls = {
            "verify": lambda c: verify(w.s, c, POLICY, actor=w.admin),
            "reject": lambda c: reject(w.s, c, "spam", actor=w.admin),
            "assign": lambda c: assign(w.s, c, actor=w.admin, assignee_id=w.spv.user_id),
            "request_info": lambda c: request_info(w.s, c, "?", actor=w.admin),
            "resolve": lambda c: resolve(w.s, c, CaseOutcome.partly, "done", actor=w.admin),
            "close": lambda c: close(w.s, c, actor=w.admin),
            "reopen": lambda c: reopen(w.s, c, "again", actor=w.admin),
        }
        with pytest.raises(IllegalTransition, match=f"that is {status.value}"):
            calls[action](case)
        assert case.status == status.value
        assert w.events(case) == events_before
    assert w.outbox() == []


def test_a_failure_after_the_change_rolls_back_status_event_and_outbox(
    w: World, session: Session
) -> None:
    case = w.file()
    session.commit()
    try:
        verify(session, case, POLICY, actor=w.spv)
        raise RuntimeError("the process dies before commit")
    except RuntimeError:
        session.rollback()
    fresh = session.get(Case, case.id)
    assert fresh is not None and fresh.status == "received"
    assert session.exec(select(func.count()).select_from(CaseEvent)).one() == 1
    assert session.exec(select(func.count()).select_from(OutboundMessage)).one() == 0


def test_rights_scope_and_secret_cases(w: World) -> None:
    case = w.file()
    with pytest.raises(Forbidden):
        verify(w.s, case, POLICY, actor=w.viewer)
    with pytest.raises(NotFound):
        verify(w.s, case, POLICY, actor=w.outsider)
    secret = w.file(privacy=Privacy.rahasia)
    with pytest.raises(NotFound):
        verify(w.s, secret, POLICY, actor=w.head)  # unit heads do not see rahasia cases
    verify(w.s, secret, POLICY, actor=w.spv)  # the unit's supervisor does
    with pytest.raises(Forbidden):
        reopen(w.s, case, "x", actor=w.spv)  # admin only (checked before the status)


def test_reject_as_duplicate(w: World) -> None:
    first = w.file()
    second = w.file()
    reject(w.s, second, "Laporan ganda", actor=w.spv, duplicate_of=first.reference)
    assert second.status == "rejected" and second.duplicate_of_id == first.id
    assert w.outbox() == [
        ("case_rejected", {"ref": second.reference, "body": f"Laporan ganda ({first.reference})"})
    ]
    with pytest.raises(InvalidInput):
        reject(w.s, first, "x", actor=w.spv, duplicate_of=first.reference)


def _resolved(w: World, at: datetime) -> Case:
    case = w.file(at - timedelta(days=2))
    verify(w.s, case, POLICY, actor=w.spv, now=at - timedelta(days=2))
    assign(w.s, case, actor=w.spv, assignee_id=w.spv.user_id, now=at - timedelta(days=1))
    resolve(w.s, case, CaseOutcome.unsubstantiated, "Tidak terbukti.", actor=w.spv, now=at)
    return case


def test_not_satisfied_reopens_once_within_the_window(w: World) -> None:
    case = _resolved(w, T0)
    with pytest.raises(InvalidInput, match="reason"):
        citizen_rate(w.s, w.citizen, case, POLICY, False, "", now=T0 + timedelta(days=1))
    citizen_rate(w.s, w.citizen, case, POLICY, False, "Belum selesai", now=T0 + timedelta(days=1))
    assert case.status == "in_progress" and case.reopened_count == 1 and case.outcome is None
    resolve(w.s, case, CaseOutcome.partly, "Sebagian.", actor=w.spv, now=T0 + timedelta(days=2))
    citizen_rate(w.s, w.citizen, case, POLICY, False, "Masih belum", now=T0 + timedelta(days=3))
    assert case.status == "closed" and case.satisfied is False  # only once

    late = _resolved(w, T0)
    citizen_rate(w.s, w.citizen, late, POLICY, False, "Telat", now=T0 + timedelta(days=15))
    assert late.status == "closed"

    stranger = telegram_citizen(w.s, 9002)
    other = _resolved(w, T0)
    with pytest.raises(NotFound):
        citizen_rate(w.s, stranger, other, POLICY, True)


def test_autoclose_after_fourteen_days(w: World) -> None:
    old = _resolved(w, T0)
    recent = _resolved(w, T0 + timedelta(days=10))
    assert autoclose(w.s, POLICY, now=T0 + timedelta(days=14, minutes=1)) == 1
    assert old.status == "closed" and recent.status == "resolved"
    auto = w.s.exec(select(CaseEvent).where(CaseEvent.kind == "auto_closed")).one()
    assert auto.actor_kind == "system" and auto.actor_user_id is None
    assert w.outbox()[-1][0] == "case_closed"
    assert autoclose(w.s, POLICY, now=T0 + timedelta(days=14, minutes=2)) == 0


def test_overdue_flag_and_list_sorting(w: World) -> None:
    late = w.file(T0)
    fresh = w.file(T0 + timedelta(days=6))
    now = T0 + timedelta(days=7)  # Thursday 19 Nov: `late` was due on Tuesday night
    overdue = list_cases(w.s, CaseFilter(overdue=True), WITA, actor=w.spv, now=now)
    assert [c.reference for c in overdue.items] == [late.reference]
    by_due = list_cases(w.s, CaseFilter(), WITA, actor=w.spv, sort=CaseSort.due, now=now)
    assert [c.id for c in by_due.items] == [late.id, fresh.id]
    newest = list_cases(w.s, CaseFilter(), WITA, actor=w.spv, now=now)
    assert [c.id for c in newest.items] == [fresh.id, late.id]


def test_duplicate_hints(w: World) -> None:
    a = w.file(T0, officer_id=w.officer.id, category="tidak_patut")
    b = w.file(T0 + timedelta(days=1), category="pungli")  # same category as c
    c = w.file(T0 + timedelta(days=2), officer_id=w.officer.id, category="pungli")
    w.file(T0 - timedelta(days=20), category="pungli")  # too old
    hints = duplicate_hints(w.s, c, POLICY, actor=w.spv)
    assert {h.id for h in hints} == {a.id, b.id}


def test_pagination_walks_every_case_once(w: World, session: Session) -> None:
    for i in range(5):
        telegram_citizen(session, 9100 + i)
    citizens = session.exec(select(Citizen)).all()
    for i in range(120):
        w.citizen = citizens[i % len(citizens)]
        w.file(T0 + timedelta(hours=(i // 3) * 5))  # three cases share each timestamp
    seen: list[int] = []
    cursor = None
    while True:
        page = list_cases(w.s, CaseFilter(), WITA, actor=w.admin, cursor=cursor, limit=50)
        seen.extend(c.id or 0 for c in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 120 and len(set(seen)) == 120
    with pytest.raises(InvalidInput, match="cursor"):
        list_cases(w.s, CaseFilter(), WITA, actor=w.admin, cursor="garbage")


def test_notes_on_an_imported_verified_case_without_follow_up_deadline(w: World) -> None:
    """Found under load: a verified case lacking `followup_due_at` crashed every write."""
    case = w.file()
    case.status = "verified"
    case.followup_due_at = None
    w.s.flush()
    add_note(w.s, case, "Data impor lama.", actor=w.spv, now=T0)
    assert case.due_at == case.resolve_due_at


def test_the_connection_pool_serves_every_api_thread(tmp_path: Path) -> None:
    """FastAPI runs sync routes on 40 threads; fewer pooled connections made requests wait
    for a connection and time out under 64 concurrent clients (bench/load_bench.py)."""
    from core.shared.db import make_engine

    pool = make_engine(f"sqlite:///{tmp_path}/pool.db").pool
    assert pool.size() + pool._max_overflow >= 40  # type: ignore[attr-defined]
