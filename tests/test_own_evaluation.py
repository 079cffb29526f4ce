"""The officer's own view of an evaluation period (issue 15: "the officer's own view"): the
evidence about themselves without anything confidential or identifying, a response they may
write, change and clear while the period is open, which the assessor reads beside the
suggestion, the audit keeps and the export carries."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, col, select

from core.access import Actor
from core.cases.models import CaseOutcome, Privacy
from core.evaluations import service as ev
from core.evaluations.models import EvaluationEvent, Level
from core.masterdata.models import Service
from core.people.models import Role
from core.people.users import create_user, link_officer
from core.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.factories import add_response, local, make_user
from tests.test_evaluations import AFTER_Q4, POLICY, Q4, WITA, World, _file_case, answers

NOW = datetime(2026, 12, 1, tzinfo=UTC)
RESPONSE_EVENTS = ("officer_responded", "officer_response_withdrawn")


@pytest.fixture
def w(session: Session) -> World:
    return World(session)


def _officer_account(w: World, username: str, officer_id: int, role: Role) -> Actor:
    """An account linked to the officer, as an administrator would make it."""
    admin = Actor(0, "system", Role.admin)
    units = [] if role is Role.officer else [w.unit.code]
    user = create_user(w.s, username, role, "", units, password_hash="$argon2id$x")
    officer = next(o for o in (w.yohanes, w.maria) if o.id == officer_id)
    link_officer(w.s, user.id or 0, officer.nip, actor=admin)
    unit_ids = frozenset() if role is Role.officer else frozenset({w.unit.id or 0})
    return Actor(
        user.id or 0,
        username,
        role,
        unit_ids,
        officer_id=officer_id,
        officer_unit_id=w.unit.id,
    )


def _computed_period(w: World) -> ev.EvaluationPeriod:
    service = Service(unit_id=w.unit.id or 0, name="Kartu Keluarga")
    w.s.add(service)
    w.s.flush()
    day = date(2026, 11, 5)
    comments = ["Petugas Maria ramah dan cepat.", "Antrian lama, tapi Maria membantu."]
    for i in range(6):
        add_response(
            w.s, w.unit, answers(4, 3), local(day, 9), service, w.maria, w.citizens[i]
        ).comment = comments[i] if i < 2 else None
    add_response(
        w.s, w.unit, answers(2, 2), local(day), None, w.yohanes, w.citizens[9]
    ).comment = "Yohanes tidak ada di loket."
    _file_case(w, w.maria.id or 0, CaseOutcome.substantiated)
    _file_case(w, w.maria.id or 0, CaseOutcome.substantiated, Privacy.rahasia)
    _file_case(w, w.maria.id or 0, None, Privacy.anonim)
    period = ev.create_period(w.s, "quarterly", Q4, ["dukcapil"], actor=w.spv)
    ev.compute_period(w.s, period, POLICY, WITA, actor=w.spv, now=NOW)
    return period


def test_the_officer_sees_their_evidence_without_confidential_cases_or_identities(
    w: World,
) -> None:
    period = _computed_period(w)
    maria = _officer_account(w, "maria", w.maria.id or 0, Role.officer)
    listed = ev.own_periods(w.s, actor=maria)
    assert [(p.name, p.finalized, p.responded) for p in listed] == [("2026-Q4", False, False)]
    seen = ev.own_evidence(w.s, period.id or 0, WITA, actor=maria)
    assessor = next(
        v for v in ev.evaluation_views(w.s, period, actor=w.spv) if v.officer_name == "Maria Bria"
    )
    assert (seen.survey_n, seen.score, seen.score_low) == (
        assessor.survey_n,
        assessor.score,
        assessor.score_low,
    )
    # Three complaints name her; the rahasia one is not counted for her (the assessor sees 3).
    assert assessor.complaints_received == 3 and assessor.complaints_substantiated == 2
    assert (seen.complaints_received, seen.complaints_substantiated) == (2, 1)
    # Her two comments, with the service, no date; never Yohanes's.
    assert [(c.service_name, c.text) for c in seen.comments] == [
        ("Kartu Keluarga", "Antrian lama, tapi Maria membantu."),
        ("Kartu Keluarga", "Petugas Maria ramah dan cepat."),
    ]
    # No suggestion and no decisions while the period is open.
    assert not hasattr(seen, "suggested_level")
    assert seen.behaviour_level is None and seen.rating is None


def test_a_period_that_does_not_evaluate_the_officer_is_unknown(w: World) -> None:
    period = _computed_period(w)
    other = ev.create_period(w.s, "monthly", date(2026, 11, 1), ["dukcapil"], actor=w.spv)
    maria = _officer_account(w, "maria", w.maria.id or 0, Role.officer)
    with pytest.raises(NotFound):
        ev.own_evidence(w.s, other.id or 0, WITA, actor=maria)  # not computed: no row for her
    with pytest.raises(NotFound):
        ev.respond(w.s, 999_999, "Tanggapan", actor=maria)
    unlinked = Actor(maria.user_id, "maria", Role.officer)
    with pytest.raises(Forbidden) as refused:
        ev.own_periods(w.s, actor=unlinked)
    assert refused.value.why == "own.not_linked"
    assert ev.own_evidence(w.s, period.id or 0, WITA, actor=maria).period_id == period.id


def test_respond_change_clear_audited_and_shown_to_the_assessor_only(w: World) -> None:
    period = _computed_period(w)
    maria = _officer_account(w, "maria", w.maria.id or 0, Role.unit_head)
    ev.respond(w.s, period.id or 0, "  Pengaduan kedua sudah saya jelaskan.  ", actor=maria)
    ev.respond(w.s, period.id or 0, "Pengaduan kedua terjadi saat sistem mati.", actor=maria)
    seen = ev.own_evidence(w.s, period.id or 0, WITA, actor=maria)
    assert seen.response == "Pengaduan kedua terjadi saat sistem mati."
    assert ev.own_periods(w.s, actor=maria)[0].responded

    def maria_row(actor: Actor) -> ev.EvaluationView:
        views = ev.evaluation_views(w.s, period, actor=actor)
        return next(v for v in views if v.officer_name == "Maria Bria")

    assert maria_row(w.spv).officer_response == "Pengaduan kedua terjadi saat sistem mati."
    assert maria_row(w.viewer).officer_response is None  # no full evidence: no response
    # The audit keeps every version with the officer's account as the actor.
    trail = ev.audit_trail(w.s, period, actor=w.spv)
    responses = [
        (e.kind, e.detail, e.actor_name) for e in trail if e.kind.startswith("officer_respon")
    ]
    assert responses == [
        ("officer_responded", "Pengaduan kedua sudah saya jelaskan.", "maria"),
        ("officer_responded", "Pengaduan kedua terjadi saat sistem mati.", "maria"),
    ]
    hidden = [
        e.detail
        for e in ev.audit_trail(w.s, period, actor=w.viewer)
        if e.kind.startswith("officer_respon")
    ]
    assert hidden == [None, None]
    # The same text again changes nothing; an empty one clears it.
    ev.respond(w.s, period.id or 0, "Pengaduan kedua terjadi saat sistem mati.", actor=maria)
    ev.respond(w.s, period.id or 0, "   ", actor=maria)
    assert ev.own_evidence(w.s, period.id or 0, WITA, actor=maria).response is None
    kinds = w.s.exec(
        select(EvaluationEvent.kind)
        .where(EvaluationEvent.period_id == period.id, col(EvaluationEvent.kind).contains("resp"))
        .order_by(col(EvaluationEvent.id))
    ).all()
    assert kinds == ["officer_responded", "officer_responded", "officer_response_withdrawn"]


def test_too_long_is_refused_with_how_much_to_cut(w: World) -> None:
    period = _computed_period(w)
    maria = _officer_account(w, "maria", w.maria.id or 0, Role.officer)
    with pytest.raises(InvalidInput) as refused:
        ev.respond(w.s, period.id or 0, "x" * (ev.MAX_RESPONSE + 37), actor=maria)
    assert refused.value.why == "own.too_long" and refused.value.params == {"n": 37}
    assert ev.own_evidence(w.s, period.id or 0, WITA, actor=maria).response is None


def test_finalized_period_shows_decisions_keeps_the_response_in_the_export(w: World) -> None:
    period = _computed_period(w)
    maria = _officer_account(w, "maria", w.maria.id or 0, Role.officer)
    ev.respond(w.s, period.id or 0, '=HYPERLINK("x") saya keberatan.', actor=maria)
    for row in ev.evaluations(w.s, period):
        ev.decide_behaviour(w.s, period, row.id or 0, None, actor=w.spv, now=NOW)
        ev.set_results_level(w.s, period, row.id or 0, Level.meets, actor=w.spv, now=NOW)
    ev.finalize(w.s, period, actor=w.spv, tz=WITA, now=AFTER_Q4)
    with pytest.raises(Conflict) as refused:
        ev.respond(w.s, period.id or 0, "Terlambat.", actor=maria)
    assert refused.value.why == "own.finalized"
    seen = ev.own_evidence(w.s, period.id or 0, WITA, actor=maria)
    assert seen.finalized and seen.rating is not None and seen.behaviour_level is not None
    rows = ev.export_rows(w.s, period, actor=w.spv)
    column = ev.EXPORT_COLUMNS.index("tanggapan_pegawai")
    by_name = {r[1]: r for r in rows}
    assert by_name["Maria Bria"][column] == '=HYPERLINK("x") saya keberatan.'
    assert by_name["Yohanes Ndun"][column] == ""
    # The CSV writer neutralizes the formula the officer typed.
    from core.shared.spreadsheet import csv_writer

    buf = io.StringIO()
    csv_writer(buf).writerows(rows)
    cells = [r[column] for r in csv.reader(io.StringIO(buf.getvalue()))]
    assert any(c.startswith("'=HYPERLINK") for c in cells)


def test_only_accounts_with_the_right_read_their_own(w: World) -> None:
    _computed_period(w)
    user = make_user(w.s, "kadis", Role.admin)
    linked = _officer_account(w, "yohanes", w.yohanes.id or 0, Role.viewer)
    assert [p.name for p in ev.own_periods(w.s, actor=linked)] == ["2026-Q4"]
    admin = Actor(user.id or 0, "kadis", Role.admin)
    with pytest.raises(Forbidden):  # admins hold the right, but no officer is linked
        ev.own_periods(w.s, actor=admin)
