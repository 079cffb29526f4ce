"""Core behind the console's case page: the notice a step previews is the notice it queues,
"salah alamat", the SP4N-LAPOR! number, deliveries in one query, assignees, the steps a user
is offered, photos, and canned responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from conversations.notices import render
from core.access import Actor
from core.cases import service as svc
from core.cases.canned import (
    create_canned,
    fill_canned,
    list_canned,
    set_canned_active,
    update_canned,
)
from core.cases.models import (
    Attachment,
    AttachmentStatus,
    CaseEvent,
    CaseEventKind,
    CaseOutcome,
    CaseStatus,
    Privacy,
)
from core.cases.notices import NoticeAction, preview_notice
from core.cases.reading import (
    DeliveryState,
    attachment_file,
    case_assignees,
    event_deliveries,
    forward_units,
)
from core.outbox.models import OutboundMessage, OutboxStatus
from core.people.models import Role
from core.shared.errors import Forbidden, InvalidInput, NotFound
from tests.factories import make_user
from tests.test_cases import POLICY, T0, World


@pytest.fixture
def w(session: Session) -> World:
    return World(session)


def queued(s: Session, event: CaseEvent) -> OutboundMessage:
    [row] = s.exec(select(OutboundMessage).where(OutboundMessage.case_event_id == event.id)).all()
    return row


def same_notice(preview: OutboundMessage | None, row: OutboundMessage) -> None:
    assert preview is not None
    assert (preview.template, json.loads(preview.params)) == (row.template, json.loads(row.params))
    assert (preview.language, preview.channel, preview.address) == (
        row.language,
        row.channel,
        row.address,
    )
    assert render(preview).text == render(row).text


def test_every_notice_the_console_previews_is_the_notice_core_queues(w: World) -> None:
    s, spv, admin = w.s, w.spv, w.admin
    w.citizen.language = "en"  # the preview speaks the citizen's language
    s.add(w.citizen)
    original = w.file()
    case = w.file(now=T0 + timedelta(minutes=1))

    def step(action: NoticeAction, do: Callable[[], CaseEvent], by: Actor = spv, **kw: Any) -> None:
        same_notice(preview_notice(s, case, action, actor=by, **kw), queued(s, do()))

    step(NoticeAction.verify, lambda: svc.verify(s, case, POLICY, actor=spv, now=T0))
    assert preview_notice(s, case, NoticeAction.assign, actor=spv) is not None
    step(NoticeAction.assign, lambda: svc.assign(s, case, actor=spv, assignee_id=spv.user_id))
    # A later assignment is internal: nobody is told, and the preview says so.
    assert preview_notice(s, case, NoticeAction.assign, actor=spv) is None
    question = "  Di loket mana kejadiannya?  "
    step(
        NoticeAction.request_info,
        lambda: svc.request_info(s, case, question, actor=spv),
        text=question,
    )
    step(
        NoticeAction.resolve,
        lambda: svc.resolve(s, case, CaseOutcome.partly, "Petugas ditegur.", actor=spv),
        text="Petugas ditegur.",
        outcome=CaseOutcome.partly,
    )
    resolved = s.exec(select(CaseEvent).where(CaseEvent.kind == "resolved")).one()
    assert "Partly substantiated" in render(queued(s, resolved)).text  # in English
    step(NoticeAction.close, lambda: svc.close(s, case, actor=spv))
    step(
        NoticeAction.reopen,
        lambda: svc.reopen(s, case, "Warga mengadu lagi.", actor=admin),
        text="Warga mengadu lagi.",
        by=admin,
    )
    # A rejection as a duplicate names the original case, in the preview as in the notice.
    other = w.file(now=T0 + timedelta(minutes=2))
    preview = preview_notice(
        s, other, NoticeAction.reject, actor=spv, text="Sudah dilaporkan.",
        duplicate_of=original.reference.lower(),
    )  # fmt: skip
    assert preview is not None and original.reference in render(preview).text
    event = svc.reject(s, other, "Sudah dilaporkan.", actor=spv, duplicate_of=original.reference)
    same_notice(preview, queued(s, event))


def test_nobody_is_told_once_the_reporter_erased_their_data(w: World) -> None:
    case = w.file()
    case.citizen_id = None
    assert preview_notice(w.s, case, NoticeAction.verify, actor=w.spv) is None


def test_salah_alamat_waits_for_an_admin_who_forwards_it(w: World) -> None:
    s = w.s
    case = w.file()
    due = (case.verify_due_at, case.resolve_due_at, case.due_at)
    with pytest.raises(Forbidden):
        svc.mark_misdirected(s, case, "Ini urusan Dinas Kesehatan.", actor=w.viewer, now=T0)
    with pytest.raises(InvalidInput):
        svc.mark_misdirected(s, case, "   ", actor=w.spv, now=T0)
    event = svc.mark_misdirected(s, case, "Ini urusan Dinas Kesehatan.", actor=w.spv, now=T0)
    assert case.misdirected_at is not None and event.kind == CaseEventKind.misdirected
    assert event.visibility == "internal" and event.body == "Ini urusan Dinas Kesehatan."
    assert (case.verify_due_at, case.resolve_due_at, case.due_at) == due  # the clock runs
    assert s.exec(select(OutboundMessage)).all() == []  # the citizen is not told
    with pytest.raises(svc.IllegalTransition):
        svc.mark_misdirected(s, case, "Lagi.", actor=w.spv, now=T0)
    assert "misdirect" not in svc.allowed_steps(case, actor=w.spv)
    # The supervisor may not forward outside their scope; the admin does, and the mark goes.
    svc.verify(s, case, POLICY, actor=w.spv, now=T0)
    with pytest.raises(InvalidInput, match="within your units"):  # says nothing of dinkes
        svc.assign(s, case, actor=w.spv, unit_code="dinkes")
    assert case.misdirected_at is not None
    forwarded = svc.assign(s, case, actor=w.admin, unit_code="dinkes")
    assert case.misdirected_at is None and case.unit_id == w.other.id
    assert w.events(case) == ["created", "misdirected", "verified", "assigned"]
    # Pages that speak the user's language read back what core wrote, not the English.
    assert svc.described(forwarded) == svc.Described("assignment", unit=w.other.name)
    handed = svc.assign(s, case, actor=w.admin, assignee_id=w.admin.user_id)
    assert svc.described(handed) == svc.Described("assignment", username="admin")
    assert svc.described(event) is None  # the supervisor's own words stay theirs


def test_the_lapor_tracking_number_is_checked_set_changed_and_removed(w: World) -> None:
    s = w.s
    case = w.file()
    for bad in ("LAPOR 123", "LAP<script>", "A" * 41, "abc--1", "-12"):
        with pytest.raises(InvalidInput):
            svc.set_lapor_id(s, case, bad, actor=w.spv, now=T0)
    with pytest.raises(Forbidden):
        svc.set_lapor_id(s, case, "1234", actor=w.viewer, now=T0)
    event = svc.set_lapor_id(s, case, " lpr-2611-0042 ", actor=w.spv, now=T0)
    assert case.lapor_id == "LPR-2611-0042" and event.visibility == "internal"
    assert "LPR-2611-0042" in (event.body or "")
    svc.set_lapor_id(s, case, "A" * 40, actor=w.spv, now=T0)
    assert case.lapor_id == "A" * 40
    assert svc.described(event) == svc.Described("lapor_set", number="LPR-2611-0042")
    removed = svc.set_lapor_id(s, case, "", actor=w.spv, now=T0)
    assert case.lapor_id is None and svc.described(removed) == svc.Described("lapor_removed")
    assert w.events(case) == ["created", "note", "note", "note"]


def test_a_timelines_deliveries_come_in_one_query(w: World) -> None:
    s = w.s
    cases = [w.file(now=T0 + timedelta(minutes=i)) for i in range(3)]
    events = [svc.verify(s, c, POLICY, actor=w.spv, now=T0) for c in cases]
    note = svc.add_note(s, cases[0], "internal", actor=w.spv)
    rows = [queued(s, e) for e in events]
    rows[1].status, rows[1].sent_at = OutboxStatus.sent.value, T0
    rows[2].status, rows[2].last_error = OutboxStatus.failed.value, "bot was blocked by the user"
    s.add_all(rows)
    s.flush()
    statements: list[str] = []
    engine = s.get_bind()

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = event_deliveries(s, [e.id or 0 for e in [*events, note]])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert [d.state for d in found[events[0].id or 0]] == [DeliveryState.queued]
    [sent] = found[events[1].id or 0]
    assert sent.state is DeliveryState.sent and sent.sent_at is not None
    [failed] = found[events[2].id or 0]
    assert failed.state is DeliveryState.failed and failed.reason == "bot was blocked by the user"
    assert (note.id or 0) not in found
    assert event_deliveries(s, []) == {}


def test_assignees_are_the_cases_audience_and_forwarding_stays_in_scope(w: World) -> None:
    s = w.s
    linked = make_user(s, "ndun", Role.supervisor, [w.unit])
    linked.officer_id = w.officer.id  # the officer the case names
    make_user(s, "gone", Role.supervisor, [w.unit]).active = False
    s.flush()
    ordinary = w.file(officer_id=w.officer.id)
    names = [u.username for u in case_assignees(s, ordinary)]
    assert sorted(names) == ["admin", "head", "spv"]  # not the viewer, outsider, named officer
    secret = w.file(now=T0 + timedelta(minutes=1), privacy=Privacy.rahasia)
    assert sorted(u.username for u in case_assignees(s, secret)) == ["admin", "ndun", "spv"]
    assert forward_units(s, ordinary, actor=w.spv) == []
    assert [u.code for u in forward_units(s, ordinary, actor=w.admin)] == ["dinkes"]


def test_the_steps_offered_follow_the_role_and_the_status(w: World) -> None:
    s = w.s
    case = w.file()
    assert svc.allowed_steps(case, actor=w.viewer) == frozenset()
    assert svc.allowed_steps(case, actor=w.outsider) == frozenset()
    assert svc.allowed_steps(case, actor=w.spv) == {
        "verify",
        "hold",  # a reachable reporter can be asked for what is missing first
        "reject",
        "misdirect",
        "note",
        "lapor",
    }
    assert "misdirect" not in svc.allowed_steps(case, actor=w.admin)
    svc.verify(s, case, POLICY, actor=w.spv, now=T0)
    svc.assign(s, case, actor=w.spv, assignee_id=w.spv.user_id)
    assert {"assign", "request_info", "resolve"} <= svc.allowed_steps(case, actor=w.spv)
    svc.resolve(s, case, CaseOutcome.substantiated, "Selesai.", actor=w.spv)
    assert {"close"} <= svc.allowed_steps(case, actor=w.spv)
    assert "reopen" not in svc.allowed_steps(case, actor=w.spv)
    assert "reopen" in svc.allowed_steps(case, actor=w.admin)
    assert case.status == CaseStatus.resolved


def test_a_photo_is_served_only_to_who_may_open_the_case(w: World, tmp_path: Path) -> None:
    s = w.s
    case = w.file(privacy=Privacy.rahasia)
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "a.jpg").write_bytes(b"\xff\xd8jpeg")
    (tmp_path.parent / "outside.jpg").write_bytes(b"secret")
    assert case.id is not None
    att = Attachment(case_id=case.id, source="telegram", reference="f", path="1/a.jpg")
    att.status = AttachmentStatus.stored.value
    escape = Attachment(case_id=case.id, source="telegram", reference="g", path="../outside.jpg")
    escape.status = AttachmentStatus.stored.value
    pending = Attachment(case_id=case.id, source="telegram", reference="h")
    s.add_all([att, escape, pending])
    s.flush()
    path, kind = attachment_file(s, case, att.id or 0, tmp_path, actor=w.spv)
    assert path.read_bytes() == b"\xff\xd8jpeg" and kind == "image/jpeg"
    for actor in (w.head, w.outsider):  # a unit head never opens a rahasia case
        with pytest.raises(NotFound):
            attachment_file(s, case, att.id or 0, tmp_path, actor=actor)
    for other in (escape, pending):
        with pytest.raises(NotFound):
            attachment_file(s, case, other.id or 0, tmp_path, actor=w.spv)
    another = w.file(now=T0 + timedelta(minutes=1))
    with pytest.raises(NotFound):  # a photo of another case through this one
        attachment_file(s, another, att.id or 0, tmp_path, actor=w.spv)


def test_admins_keep_canned_responses_and_handlers_get_them_filled(w: World) -> None:
    s = w.s
    with pytest.raises(Forbidden):
        create_canned(s, action="request_info", title="Lokasi", body_id="x", actor=w.spv)
    for bad in (
        {"action": "fly", "title": "t", "body_id": "b"},
        {"action": "note", "title": " ", "body_id": "b"},
        {"action": "note", "title": "t", "body_id": ""},
        {"action": "note", "title": "t", "body_id": "Untuk {nama}"},
        {"action": "note", "title": "t", "body_id": "Kurung { terbuka"},
    ):
        with pytest.raises(InvalidInput):
            create_canned(s, **bad, actor=w.admin)
    canned = create_canned(
        s,
        action="request_info",
        title="Minta lokasi",
        body_id="Mohon kirim lokasi kejadian untuk laporan {ref} di {unit}.",
        body_en="Please send the place of report {ref} at {unit}.",
        actor=w.admin,
    )
    text = fill_canned(canned, "id", reference="KPG-2611-0001", unit="Dinas Dukcapil")
    assert text == "Mohon kirim lokasi kejadian untuk laporan KPG-2611-0001 di Dinas Dukcapil."
    assert (
        fill_canned(canned, "en", reference="R", unit="U")
        == "Please send the place of report R at U."
    )
    assert canned.id is not None
    update_canned(
        s, canned.id, action="request_info", title="Lokasi", body_id="Di mana, {ref}?",
        actor=w.admin,
    )  # fmt: skip
    assert fill_canned(canned, "en", reference="R", unit="U") == "Di mana, R?"  # no English
    assert [c.title for c in list_canned(s, action="request_info", active_only=True)] == ["Lokasi"]
    with pytest.raises(Forbidden):
        set_canned_active(s, canned.id, False, actor=w.head)
    set_canned_active(s, canned.id, False, actor=w.admin)
    assert list_canned(s, action="request_info", active_only=True) == []
    assert len(list_canned(s)) == 1
    with pytest.raises(NotFound):
        set_canned_active(s, 999_999, True, actor=w.admin)
