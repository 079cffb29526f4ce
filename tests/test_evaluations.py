"""Officer scores, the suggestion, the predikat matrix and the evaluation period lifecycle."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from core.access import Actor
from core.cases.models import CaseOutcome, Privacy
from core.cases.service import CasePolicy, ComplaintDraft, assign, file_complaint, resolve, verify
from core.cases.sla import SlaPolicy
from core.evaluations import service as ev
from core.evaluations.models import EvaluationEvent, Level, OfficerEvaluation
from core.evaluations.rules import suggestion_reason_text
from core.people.models import Role
from core.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.surveys.officer_scores import OfficerScore, ScorePolicy, UnitPrior, officer_scores, shrink
from tests.contacts import telegram_citizen
from tests.factories import add_response, local, make_officer, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
POLICY = ev.EvaluationPolicy()
Q4 = date(2026, 10, 1)
LO = datetime(2026, 9, 30, 16, tzinfo=UTC)
HI = datetime(2026, 12, 31, 16, tzinfo=UTC)
AFTER_Q4 = HI  # 1 January 2027 00:00 WITA: the quarter has ended


def answers(q6: int, q7: int) -> list[int]:
    return [3, 3, 3, 3, 3, q6, q7, 3, 3]


def test_shrinkage_and_interval_by_hand() -> None:
    prior = UnitPrior(n=100, mean=3.0, sigma=0.5)
    shrunk, low, high = shrink(5, 17.5, prior, ScorePolicy(prior_weight=10))
    # (10 x 3.0 + 17.5) / 15 = 3.16667; 1.96 x 0.5 / sqrt(15) = 0.25303
    assert shrunk == pytest.approx(3.166667, abs=1e-6)
    assert low == pytest.approx(2.913637, abs=1e-5)
    assert high == pytest.approx(3.419697, abs=1e-5)
    assert shrink(0, 0, prior, ScorePolicy(prior_weight=10))[0] == 3.0


@given(st.floats(1, 4), st.floats(1, 4), st.integers(0, 200))
def test_more_data_moves_toward_the_raw_mean(raw: float, unit_mean: float, n: int) -> None:
    prior = UnitPrior(n=50, mean=unit_mean, sigma=0.6)
    policy = ScorePolicy(prior_weight=10)
    a = shrink(n, raw * n, prior, policy)[0]
    b = shrink(n + 1, raw * (n + 1), prior, policy)[0]
    assert abs(b - raw) <= abs(a - raw) + 1e-12
    assert min(raw, unit_mean) - 1e-9 <= a <= max(raw, unit_mean) + 1e-9


@given(st.floats(2.0, 4.0), st.floats(1.0, 3.9))
def test_a_single_answer_is_not_evidence(raw: float, unit_mean: float) -> None:
    if raw <= unit_mean + 0.01:
        return
    prior = UnitPrior(n=50, mean=unit_mean, sigma=0.6)
    policy = ScorePolicy(prior_weight=10)
    one = shrink(1, raw, prior, policy)
    fifty = shrink(50, raw * 50, prior, policy)
    assert one[0] < fifty[0]
    assert one[2] - one[1] > fifty[2] - fifty[1]  # and its interval is wider


@pytest.mark.parametrize(
    ("results", "behaviour", "predikat"),
    [
        ("above", "below", "Kurang/Misconduct"),
        ("above", "meets", "Baik"),
        ("above", "above", "Sangat Baik"),
        ("meets", "below", "Kurang/Misconduct"),
        ("meets", "meets", "Baik"),
        ("meets", "above", "Baik"),
        ("below", "below", "Sangat Kurang"),
        ("below", "meets", "Butuh Perbaikan"),
        ("below", "above", "Butuh Perbaikan"),
    ],
)
def test_rating_matrix(results: str, behaviour: str, predikat: str) -> None:
    """All nine cells of the predikat kinerja pegawai, PermenPANRB 6/2022, Lampiran (hasil kerja
    x perilaku kerja; labels as in Anak Lampiran 4's worked examples: "Kurang/Misconduct")."""
    assert ev.rating(Level(results), Level(behaviour)) == predikat


def _score(n: int, shrunk: float, low: float, high: float, unit: float) -> OfficerScore:
    return OfficerScore(1, 1, n, shrunk, shrunk, low, high, unit, n < 5)


def test_suggestion_and_its_reason() -> None:
    policy = ev.BehaviourPolicy()
    good = _score(12, 3.61, 3.42, 3.80, 3.20)
    assert ev.suggest(good, 0, policy) is Level.above
    assert suggestion_reason_text(good, 0, "en") == (
        "12 responses, score 3.61 (3.42-3.80), above the unit's 3.20; no substantiated complaint"
    )
    assert suggestion_reason_text(good, 0, "id") == (
        "12 tanggapan, skor 3,61 (3,42-3,80), di atas rerata unit 3,20; "
        "tidak ada pengaduan terbukti"
    )
    assert ev.suggest(good, 1, policy) is Level.meets  # a substantiated complaint: not above
    assert ev.suggest(good, 2, policy) is Level.below
    assert ev.suggest(_score(12, 2.3, 2.1, 2.5, 3.0), 0, policy) is Level.below
    few = _score(3, 3.9, 3.0, 4.0, 3.0)
    assert ev.suggest(few, 0, policy) is Level.meets  # insufficient data decides nothing
    assert "insufficient data" in suggestion_reason_text(few, 0, "en")


def test_period_bounds() -> None:
    assert ev.period_bounds("monthly", date(2026, 2, 1)) == (date(2026, 2, 28), "2026-02")
    assert ev.period_bounds("quarterly", Q4) == (date(2026, 12, 31), "2026-Q4")
    assert ev.period_bounds("annual", date(2026, 1, 1)) == (date(2026, 12, 31), "2026")
    with pytest.raises(InvalidInput, match="quarterly"):
        ev.period_bounds("quarterly", date(2026, 11, 1))
    with pytest.raises(InvalidInput, match="first day"):
        ev.period_bounds("monthly", date(2026, 11, 2))
    assert ev.parse_level(" Di  Atas ") is Level.above
    with pytest.raises(InvalidInput, match="'excellent' is not a level: use Di Atas Ekspektasi"):
        ev.parse_level("excellent")


class World:
    def __init__(self, s: Session) -> None:
        self.s = s
        self.unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        self.other = make_unit(s, "dinkes", "Dinas Kesehatan")
        self.yohanes = make_officer(s, self.unit, "Yohanes Ndun", nip="198504122010031001")
        self.maria = make_officer(s, self.unit, "Maria Bria", nip="199001012015012002")
        self.outsider = make_officer(s, self.other, "Petrus Seran")
        spv = make_user(s, "spv", Role.supervisor, [self.unit])
        viewer = make_user(s, "viewer", Role.viewer, [self.unit])
        self.spv = Actor(spv.id or 0, "spv", Role.supervisor, frozenset({self.unit.id or 0}))
        self.viewer = Actor(viewer.id or 0, "viewer", Role.viewer, frozenset({self.unit.id or 0}))
        self.citizens = [telegram_citizen(s, 80_000 + i).id or 0 for i in range(40)]


@pytest.fixture
def w(session: Session) -> World:
    return World(session)


def test_officer_scores_in_sql_with_anti_gaming(w: World) -> None:
    day = date(2026, 11, 2)
    # Yohanes: five different citizens, (q6 + q7) / 2 = 4, 3.5, 3, 4, 3.5 -> mean 3.6
    for i, (q6, q7) in enumerate([(4, 4), (4, 3), (3, 3), (4, 4), (3, 4)]):
        add_response(
            w.s, w.unit, answers(q6, q7), local(day), officer=w.yohanes, citizen_id=w.citizens[i]
        )
    # One citizen, thirty times in one day, all about Maria: counts once.
    for _ in range(30):
        add_response(
            w.s, w.unit, answers(1, 1), local(day), officer=w.maria, citizen_id=w.citizens[10]
        )
    # Another citizen on five different days: the cap (3) limits their weight.
    for k in range(5):
        add_response(
            w.s,
            w.unit,
            answers(4, 4),
            local(day + timedelta(days=k)),
            officer=w.maria,
            citizen_id=w.citizens[11],
        )
    w.s.flush()
    policy = ScorePolicy(prior_weight=10, min_n=5, citizen_cap=3)
    pairs = [(w.yohanes.id or 0, w.unit.id or 0), (w.maria.id or 0, w.unit.id or 0)]
    scores = officer_scores(w.s, pairs, LO, HI, policy)
    yoh, maria = scores[w.yohanes.id or 0], scores[w.maria.id or 0]
    assert yoh.n == 5 and yoh.raw_mean == pytest.approx(3.6)
    assert maria.n == 4 and maria.raw_mean == pytest.approx((1 + 4 * 3) / 4)
    # The unit prior counts under the same caps (per unit): 5 + 1 + 3 = 9 responses.
    unit_total = (4 + 3.5 + 3 + 4 + 3.5) + 1 * 1 + 3 * 4
    assert yoh.unit_mean == pytest.approx(unit_total / 9)
    assert yoh.shrunk == pytest.approx((10 * unit_total / 9 + 18) / 15)
    assert not yoh.insufficient and maria.insufficient


def _file_case(
    w: World,
    officer_id: int,
    outcome: CaseOutcome | None,
    privacy: Privacy = Privacy.biasa,
    category: str = "tidak_patut",
) -> None:
    policy = CasePolicy(sla=SlaPolicy(tz=WITA), complaints_per_day=100)
    admin = Actor(w.spv.user_id, "spv", Role.admin)
    citizen = telegram_citizen(w.s, 99_999)
    when = datetime(2026, 11, 3, 2, tzinfo=UTC)
    case = file_complaint(
        w.s,
        citizen,
        ComplaintDraft(
            unit_id=w.unit.id or 0,
            officer_id=officer_id,
            category=category,
            description="Petugas membentak warga di loket pelayanan.",
            privacy=privacy,
        ),
        policy,
        now=when,
    )
    if outcome is not None:
        verify(w.s, case, policy, actor=admin, now=when)
        assign(w.s, case, actor=admin, assignee_id=w.spv.user_id, now=when)
        resolve(w.s, case, outcome, "Diperiksa.", actor=admin, now=when)


def test_period_lifecycle(w: World) -> None:
    day = date(2026, 11, 5)
    for i in range(12):
        add_response(
            w.s, w.unit, answers(4, 4), local(day), officer=w.yohanes, citizen_id=w.citizens[i]
        )
    for i in range(12, 20):
        add_response(w.s, w.unit, answers(2, 3), local(day), citizen_id=w.citizens[i])
    _file_case(w, w.maria.id or 0, CaseOutcome.substantiated)
    _file_case(w, w.maria.id or 0, CaseOutcome.partly)
    _file_case(w, w.maria.id or 0, None)

    with pytest.raises(Forbidden):
        ev.create_period(w.s, "quarterly", Q4, ["dukcapil"], actor=w.viewer)
    with pytest.raises(NotFound):  # another unit answers as an unknown one
        ev.create_period(w.s, "quarterly", Q4, ["dinkes"], actor=w.spv)
    period = ev.create_period(w.s, "quarterly", Q4, ["dukcapil"], actor=w.spv)
    assert (period.name, period.end) == ("2026-Q4", date(2026, 12, 31))
    with pytest.raises(Conflict, match="compute"):
        ev.finalize(w.s, period, actor=w.spv, tz=WITA, now=AFTER_Q4)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert ev.compute_period(w.s, period, POLICY, WITA, actor=w.spv, now=now) == 2
    rows = {r.officer_name: r for r in ev.evaluations(w.s, period)}
    yoh, maria = rows["Yohanes Ndun"], rows["Maria Bria"]
    assert yoh.survey_n == 12 and yoh.suggested_level == "above"
    assert ev.evaluation_reason(yoh, "en").startswith("12 responses, score ")
    # Stored as a code and its figures, rendered per language on reading.
    assert yoh.suggestion_reason_code == ev.ReasonCode.evidence
    assert json.loads(yoh.suggestion_reason_params) == {
        "n": 12,
        "score": yoh.score,
        "low": yoh.score_low,
        "high": yoh.score_high,
        "unit_mean": yoh.unit_mean,
        "relation": "above",
        "substantiated": 0,
        "insufficient": False,
    }
    assert (maria.complaints_received, maria.complaints_substantiated) == (3, 2)
    assert maria.suggested_level == "below" and maria.cases_overdue == 1
    assert "2 pengaduan terbukti" in ev.evaluation_reason(maria, "id")

    with pytest.raises(InvalidInput, match="needs a reason"):
        ev.decide_behaviour(w.s, period, yoh.id or 0, Level.meets, actor=w.spv)
    ev.decide_behaviour(w.s, period, yoh.id or 0, None, actor=w.spv)  # confirm: above
    ev.decide_behaviour(
        w.s,
        period,
        maria.id or 0,
        Level.meets,
        "Pengaduan terjadi saat menggantikan rekan yang sakit.",
        actor=w.spv,
    )
    ev.set_results_level(w.s, period, yoh.id or 0, Level.above, actor=w.spv)
    assert yoh.rating == "Sangat Baik"
    with pytest.raises(ev.DecisionsMissing, match="1 officer\\(s\\) still need a decision") as no:
        ev.finalize(w.s, period, actor=w.spv, tz=WITA, now=AFTER_Q4)
    assert no.value.missing == [
        ev.MissingDecision(maria.id or 0, "Maria Bria", maria.nip, ("results_level",))
    ]

    # Recomputing refreshes the evidence and keeps the decisions.
    add_response(
        w.s, w.unit, answers(1, 1), local(day), officer=w.yohanes, citizen_id=w.citizens[30]
    )
    ev.compute_period(w.s, period, POLICY, WITA, actor=w.spv, now=now)
    assert yoh.survey_n == 13 and yoh.behaviour_level == "above" and yoh.rating == "Sangat Baik"
    assert maria.behaviour_level == "meets" and maria.override_reason

    count, errors = ev.import_results(
        w.s, period, b"nip,results_level\n199001012015012002,sesuai\n", actor=w.spv
    )
    assert (count, errors) == (1, [])
    assert maria.rating == "Baik"
    ev.finalize(w.s, period, actor=w.spv, tz=WITA, now=AFTER_Q4)
    assert period.status == "finalized"

    # Frozen: nothing changes, whatever happens later.
    frozen = [(r.survey_n, r.score, r.rating) for r in ev.evaluations(w.s, period)]
    add_response(
        w.s, w.unit, answers(1, 1), local(day), officer=w.yohanes, citizen_id=w.citizens[31]
    )
    _file_case(w, w.yohanes.id or 0, CaseOutcome.substantiated)
    for change in (
        lambda: ev.compute_period(w.s, period, POLICY, WITA, actor=w.spv),
        lambda: ev.decide_behaviour(w.s, period, yoh.id or 0, Level.below, "x", actor=w.spv),
        lambda: ev.set_results_level(w.s, period, yoh.id or 0, Level.below, actor=w.spv),
        lambda: ev.finalize(w.s, period, actor=w.spv, tz=WITA, now=AFTER_Q4),
    ):
        with pytest.raises(Conflict, match="finalized"):
            change()
    assert [(r.survey_n, r.score, r.rating) for r in ev.evaluations(w.s, period)] == frozen

    export = ev.export_rows(w.s, period, actor=w.spv)
    assert [row[0] for row in export] == sorted([yoh.nip, maria.nip])
    by_nip = {row[0]: dict(zip(ev.EXPORT_COLUMNS, row, strict=True)) for row in export}
    assert by_nip[yoh.nip]["predikat"] == "Sangat Baik"
    assert by_nip[yoh.nip]["jumlah_responden"] == 13
    assert by_nip[yoh.nip]["skor"] == round(yoh.score, 2)
    assert by_nip[maria.nip]["alasan_perubahan"].startswith("Pengaduan terjadi")
    assert by_nip[maria.nip]["pengaduan_terbukti"] == 2
    kinds = [e.kind for e in w.s.exec(select(EvaluationEvent)).all()]
    assert kinds == [
        "created",
        "computed",
        "confirmed",
        "overridden",
        "results_set",
        "computed",
        "results_set",
        "finalized",
    ]
    assert all(e.actor_user_id == w.spv.user_id for e in w.s.exec(select(EvaluationEvent)).all())


def test_results_import_is_all_or_nothing(w: World) -> None:
    period = ev.create_period(w.s, "monthly", date(2026, 11, 1), ["dukcapil"], actor=w.spv)
    ev.compute_period(w.s, period, POLICY, WITA, actor=w.spv)
    bad = (
        b"nip;results_level\n"
        b"198504122010031001;di atas\n"
        b"199001012015012002;excellent\n"
        b"123;sesuai\n"
        b"198504122010031001;sesuai\n"
    )
    count, errors = ev.import_results(w.s, period, bad, actor=w.spv)
    assert count == 0
    assert [(e.row, e.column) for e in errors] == [(3, "results_level"), (4, "nip"), (5, "nip")]
    assert all(r.results_level is None for r in w.s.exec(select(OfficerEvaluation)).all())
    assert (
        ev.import_results(w.s, period, b"name\nx\n", actor=w.spv)[1][0].column
        == "nip,results_level"
    )
    assert not math.isnan(ev.evaluations(w.s, period)[0].score)


def _actor(w: World, name: str, role: Role, officer_id: int | None = None) -> Actor:
    user = make_user(w.s, name, role, [w.unit])
    return Actor(
        user.id or 0,
        name,
        role,
        frozenset({w.unit.id or 0}),
        officer_id=officer_id,
        officer_unit_id=w.unit.id if officer_id else None,
    )


def test_only_those_who_may_open_every_case_evaluate(w: World) -> None:
    head = _actor(w, "head", Role.unit_head)
    linked = _actor(w, "linked", Role.supervisor, officer_id=w.maria.id)
    for actor in (head, w.viewer, linked):
        with pytest.raises(Forbidden):
            ev.create_period(w.s, "quarterly", Q4, ["dukcapil"], actor=actor)
    period = ev.create_period(w.s, "quarterly", Q4, ["dukcapil"], actor=w.spv)
    for actor in (head, w.viewer, linked):
        with pytest.raises(Forbidden):
            ev.compute_period(w.s, period, POLICY, WITA, actor=actor)
        assert ev.get_period(w.s, period.id or 0, actor=actor) is period  # they may read it
    assert ev.compute_period(w.s, period, POLICY, WITA, actor=w.spv) == 2
    row = ev.evaluations(w.s, period)[0]
    for actor in (head, linked):
        with pytest.raises(Forbidden):
            ev.decide_behaviour(w.s, period, row.id or 0, None, actor=actor)
        with pytest.raises(Forbidden):
            ev.finalize(w.s, period, actor=actor, tz=WITA, now=AFTER_Q4)


def test_evidence_is_snapshotted_whole_and_without_rahasia_and_shown_by_reader(w: World) -> None:
    maria = w.maria.id or 0
    _file_case(w, maria, CaseOutcome.substantiated, Privacy.rahasia)
    _file_case(w, maria, CaseOutcome.partly, Privacy.anonim)
    _file_case(w, maria, None, Privacy.rahasia)
    _file_case(w, maria, None, Privacy.biasa)
    period = ev.create_period(w.s, "quarterly", Q4, ["dukcapil"], actor=w.spv)
    ev.compute_period(w.s, period, POLICY, WITA, actor=w.spv, now=datetime(2026, 12, 1, tzinfo=UTC))
    row = next(r for r in ev.evaluations(w.s, period) if r.officer_id == maria)
    full = (row.complaints_received, row.complaints_substantiated, row.cases_overdue)
    nonconf = (
        row.nonconf_complaints_received,
        row.nonconf_complaints_substantiated,
        row.nonconf_cases_overdue,
    )
    assert (full, nonconf) == ((4, 2, 2), (2, 1, 1))
    reason = ev.evaluation_reason(row, "id")
    assert row.suggested_level == "below" and "2 pengaduan terbukti" in reason

    def seen(actor: Actor) -> ev.EvaluationView:
        return next(
            v for v in ev.evaluation_views(w.s, period, actor=actor) if v.officer_id == maria
        )

    spv = seen(w.spv)
    assert (spv.complaints_received, spv.complaints_substantiated, spv.cases_overdue) == full
    assert spv.suggested_level == "below" and spv.suggestion_reason == reason
    head = seen(_actor(w, "head", Role.unit_head))
    viewer = seen(w.viewer)
    for part in (head, viewer):
        assert (part.complaints_received, part.complaints_substantiated) == nonconf[:2]
        assert part.cases_overdue == nonconf[2]
        assert (part.suggested_level, part.suggestion_reason, part.suggestion_reason_en) == (
            None,
            None,
            None,
        )
    # A supervisor whose account is Maria's opens every case but hers: 0 in her own row.
    linked = seen(_actor(w, "linked", Role.supervisor, officer_id=maria))
    assert (linked.complaints_received, linked.suggested_level) == (0, None)
