"""Evaluations that cannot be rushed (issue 14): the period's end, what is missing, serious
complaints, level names as e-Kinerja writes them, the predikat annex and exports for people.

Sources: PermenPANRB 6/2022 (Pengelolaan Kinerja Pegawai ASN), Lampiran: the predikat
kinerja pegawai follows from hasil kerja x perilaku kerja, each "Di Atas / Sesuai / Di Bawah
Ekspektasi"; the five predikat are Sangat Baik, Baik, Butuh Perbaikan, Kurang/Misconduct and
Sangat Kurang (Anak Lampiran 4, kurva distribusi predikat kinerja pegawai). Ombudsman RI
maladministration categories for the serious ones (pungli, penyalahgunaan wewenang,
diskriminasi)."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlmodel import Session

from core.access import Actor
from core.cases.models import CaseOutcome, Privacy
from core.cases.service import CasePolicy, ComplaintDraft, assign, file_complaint, resolve, verify
from core.cases.sla import SlaPolicy
from core.evaluations import service as ev
from core.evaluations.models import EvaluationPeriod, Level
from core.evaluations.rules import ReasonParams, serious_categories, suggestion_reason_text
from core.people.models import AppUser, Role
from core.shared.config import ConfigError, Settings
from core.shared.errors import Conflict, Forbidden, InvalidInput
from core.surveys.officer_scores import OfficerScore
from tests.contacts import telegram_citizen
from tests.factories import make_officer, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
POLICY = ev.EvaluationPolicy()
Q4 = date(2026, 10, 1)
END_Q4 = datetime(2026, 12, 31, 16, tzinfo=UTC)  # 1 January 2027 00:00 WITA


# Levels as e-Kinerja files write them -----------------------------------------------------


@pytest.mark.parametrize(
    ("written", "level"),
    [
        ("Di Atas Ekspektasi", Level.above),
        ("DIATAS EKSPEKTASI", Level.above),
        ("Diatas Ekspektasi", Level.above),
        ("di atas", Level.above),
        ("  di   atas   ekspektasi ", Level.above),
        ("above", Level.above),
        ("Sesuai Ekspektasi", Level.meets),
        ("SESUAI EKSPEKTASI", Level.meets),
        ("Sesuai Ekspetasi", Level.meets),
        ("sesuai", Level.meets),
        ("meets", Level.meets),
        ("Di Bawah Ekspektasi", Level.below),
        ("di bawah  ekspektasi", Level.below),
        ("Dibawah Ekspektasi", Level.below),
        ("DI\tBAWAH EKSPEKTASI", Level.below),
        ("di bawah", Level.below),
        ("below", Level.below),
    ],
)
def test_level_names_as_written_in_e_kinerja_files(written: str, level: Level) -> None:
    assert ev.parse_level(written) is level


@pytest.mark.parametrize("written", ["", "ekspektasi", "Baik", "di tengah ekspektasi", "4"])
def test_an_unknown_level_says_what_was_read_and_what_is_accepted(written: str) -> None:
    with pytest.raises(InvalidInput, match="Di Atas Ekspektasi, Sesuai Ekspektasi or Di Bawah"):
        ev.parse_level(written)


def test_predikat_matrix_has_the_annex_labels_only() -> None:
    """PermenPANRB 6/2022, Lampiran: nine cells, five predikat; behaviour below expectation
    with work results at or above expectation is "Kurang/Misconduct" (not "Kurang")."""
    assert len(ev.MATRIX) == 9
    assert set(ev.MATRIX.values()) == {
        "Sangat Baik",
        "Baik",
        "Butuh Perbaikan",
        "Kurang/Misconduct",
        "Sangat Kurang",
    }
    for results in (Level.above, Level.meets):
        assert ev.rating(results, Level.below) == "Kurang/Misconduct"
    assert ev.rating(Level.below, Level.below) == "Sangat Kurang"


# A world: one unit, two officers, a supervisor, an admin, a unit head --------------------


class World:
    def __init__(self, s: Session) -> None:
        self.s = s
        self.unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        self.yohanes = make_officer(s, self.unit, "Yohanes Ndun", nip="198504122010031001")
        self.maria = make_officer(s, self.unit, "Maria Bria", nip="199001012015012002")
        self.kepala = make_officer(s, self.unit, "Agustinus Lay", nip="197003152000031004")
        spv = make_user(s, "spv", Role.supervisor, [self.unit])
        spv.display_name = "Bernadete Tefa"
        admin = make_user(s, "admin", Role.admin)
        admin.display_name = "Admin Kota"
        head = make_user(s, "kepala", Role.unit_head, [self.unit])
        head.officer_id = self.kepala.id
        s.add_all([spv, admin, head])
        s.flush()
        unit_id = self.unit.id or 0
        self.spv = Actor(spv.id or 0, "spv", Role.supervisor, frozenset({unit_id}))
        self.admin = Actor(admin.id or 0, "admin", Role.admin)
        self.head = Actor(
            head.id or 0,
            "kepala",
            Role.unit_head,
            frozenset({unit_id}),
            officer_id=self.kepala.id,
            officer_unit_id=unit_id,
        )

    def complaint(
        self, officer_id: int, category: str, privacy: Privacy, outcome: CaseOutcome
    ) -> None:
        policy = CasePolicy(sla=SlaPolicy(tz=WITA), complaints_per_day=100)
        when = datetime(2026, 11, 3, 2, tzinfo=UTC)
        case = file_complaint(
            self.s,
            telegram_citizen(self.s, 70_001),
            ComplaintDraft(
                unit_id=self.unit.id or 0,
                officer_id=officer_id,
                category=category,
                description="Petugas meminta uang tambahan di loket.",
                privacy=privacy,
            ),
            policy,
            now=when,
        )
        verify(self.s, case, policy, actor=self.admin, now=when)
        assign(self.s, case, actor=self.admin, assignee_id=self.spv.user_id, now=when)
        resolve(self.s, case, outcome, "Diperiksa.", actor=self.admin, now=when)

    def period(self, *, policy: ev.EvaluationPolicy = POLICY) -> EvaluationPeriod:
        period = ev.create_period(self.s, "quarterly", Q4, ["dukcapil"], actor=self.spv)
        ev.compute_period(self.s, period, policy, WITA, actor=self.spv, now=END_Q4)
        return period

    def row(self, period: EvaluationPeriod, officer_id: int | None) -> ev.EvaluationView:
        views = ev.evaluation_views(self.s, period, actor=self.spv)
        return next(v for v in views if v.officer_id == officer_id)

    def decide_all(self, period: EvaluationPeriod) -> None:
        for r in ev.evaluations(self.s, period):
            ev.decide_behaviour(self.s, period, r.id or 0, None, actor=self.spv)
            ev.set_results_level(self.s, period, r.id or 0, Level.meets, actor=self.spv)


@pytest.fixture
def w(session: Session) -> World:
    return World(session)


# Serious categories ------------------------------------------------------------------------


def _score(n: int = 12, shrunk: float = 3.6) -> OfficerScore:
    return OfficerScore(1, 1, n, shrunk, shrunk, shrunk - 0.2, shrunk + 0.2, 3.0, n < 5)


def test_one_substantiated_serious_complaint_suggests_below_and_names_the_category() -> None:
    policy = ev.BehaviourPolicy()
    assert policy.serious_categories == ("pungli", "penyalahgunaan_wewenang", "diskriminasi")
    good = _score()
    assert ev.suggest(good, 1, policy, {"tidak_patut": 1}) is Level.meets  # not serious
    for category in policy.serious_categories:
        assert ev.suggest(good, 1, policy, {category: 1}) is Level.below
    text = suggestion_reason_text(good, 1, "id", {"penyalahgunaan_wewenang": 1})
    assert text.endswith(
        "1 pengaduan terbukti, di antaranya kategori berat: Penyalahgunaan wewenang (1) "
        "(satu saja sudah menyarankan di bawah ekspektasi)"
    )
    assert "Abuse of authority (1)" in suggestion_reason_text(
        good, 1, "en", {"penyalahgunaan_wewenang": 1}
    )
    # Configurable: none serious, or another list.
    assert ev.suggest(good, 1, ev.BehaviourPolicy(serious_categories=()), {"pungli": 1}) is (
        Level.meets
    )
    custom = ev.BehaviourPolicy(serious_categories=("tidak_patut",))
    assert ev.suggest(good, 1, custom, {"tidak_patut": 1}) is Level.below


def test_the_serious_list_comes_from_the_configuration() -> None:
    settings = Settings(behaviour_serious_categories="pungli, konflik_kepentingan")
    policy = ev.EvaluationPolicy.from_settings(settings).behaviour
    assert policy.serious_categories == ("pungli", "konflik_kepentingan")
    assert serious_categories("") == ()
    with pytest.raises(ConfigError, match="BEHAVIOUR_SERIOUS_CATEGORIES: unknown category 'x'"):
        serious_categories("pungli,x")


def test_a_rahasia_serious_complaint_is_named_only_to_those_who_may_open_it(w: World) -> None:
    maria = w.maria.id or 0
    w.complaint(maria, "pungli", Privacy.rahasia, CaseOutcome.substantiated)
    w.complaint(w.yohanes.id or 0, "tidak_patut", Privacy.biasa, CaseOutcome.substantiated)
    period = w.period()
    row = w.row(period, maria)
    assert row.suggested_level == "below"
    assert "Permintaan imbalan / pungli (1)" in (row.suggestion_reason or "")
    assert w.row(period, w.yohanes.id).suggested_level == "meets"  # one, not serious
    # The unit head (an officer of the unit, who may not open rahasia cases) sees Maria's
    # figures without the case and no suggestion or reason at all.
    seen = next(v for v in ev.evaluation_views(w.s, period, actor=w.head) if v.officer_id == maria)
    assert (seen.complaints_received, seen.complaints_substantiated) == (0, 0)
    assert (seen.suggested_level, seen.suggestion_reason, seen.suggestion_reason_en) == (
        None,
        None,
        None,
    )
    # An evaluator whose account is Maria's never reads her own row's reason.
    linked_user = make_user(w.s, "maria", Role.supervisor, [w.unit])
    linked = Actor(
        linked_user.id or 0,
        "maria",
        Role.supervisor,
        frozenset({w.unit.id or 0}),
        officer_id=maria,
        officer_unit_id=w.unit.id,
    )
    own = next(v for v in ev.evaluation_views(w.s, period, actor=linked) if v.officer_id == maria)
    assert own.suggestion_reason is None and own.complaints_received == 0


# The period's end ------------------------------------------------------------------------


def test_a_period_is_final_only_after_it_has_ended_or_early_by_an_admin_with_a_reason(
    w: World,
) -> None:
    period = w.period()
    w.decide_all(period)
    just_before = END_Q4 - timedelta(microseconds=1)  # 31 December 2026 23:59:59 WITA
    with pytest.raises(Conflict, match="only an administrator may finalize it earlier"):
        ev.finalize(w.s, period, actor=w.spv, tz=WITA, now=just_before)
    with pytest.raises(Conflict, match="only an administrator"):  # a reason changes nothing
        ev.finalize(w.s, period, actor=w.spv, tz=WITA, now=just_before, early_reason="Cuti")
    with pytest.raises(InvalidInput, match="give the reason"):
        ev.finalize(w.s, period, actor=w.admin, tz=WITA, now=just_before, early_reason="  ")
    assert period.status == "open"
    ev.finalize(
        w.s,
        period,
        actor=w.admin,
        tz=WITA,
        now=just_before,
        early_reason="Penilai pensiun 31 Desember; SKP harus ditandatangani hari ini.",
    )
    assert period.status == "finalized"
    last = ev.audit_trail(w.s, period, actor=w.admin)[-1]
    assert last.kind == "finalized_early" and last.actor_name == "Admin Kota"
    assert last.detail == (
        "3 officers, before the period ended (2026-12-31): "
        "Penilai pensiun 31 Desember; SKP harus ditandatangani hari ini."
    )
    decided = ev.audit_trail(w.s, period, actor=w.admin)[2]
    assert (decided.actor_name, decided.officer_name) == ("Bernadete Tefa", "Agustinus Lay")


def test_the_period_ends_at_local_midnight(w: World) -> None:
    period = w.period()
    w.decide_all(period)
    assert not ev.period_has_ended(period, WITA, now=END_Q4 - timedelta(seconds=1))
    assert ev.period_has_ended(period, WITA, now=END_Q4)
    ev.finalize(w.s, period, actor=w.spv, tz=WITA, now=END_Q4)
    assert ev.audit_trail(w.s, period, actor=w.spv)[-1].kind == "finalized"


def test_finalizing_names_every_officer_and_field_missing(w: World) -> None:
    period = w.period()
    rows = {r.officer_name: r for r in ev.evaluations(w.s, period)}
    ev.decide_behaviour(w.s, period, rows["Maria Bria"].id or 0, None, actor=w.spv)
    ev.set_results_level(w.s, period, rows["Yohanes Ndun"].id or 0, Level.above, actor=w.spv)
    with pytest.raises(ev.DecisionsMissing) as refused:
        ev.finalize(w.s, period, actor=w.spv, tz=WITA, now=END_Q4)
    assert [(m.officer_name, m.fields) for m in refused.value.missing] == [
        ("Agustinus Lay", ("behaviour_level", "results_level")),
        ("Maria Bria", ("results_level",)),
        ("Yohanes Ndun", ("behaviour_level",)),
    ]
    assert refused.value.message == (
        "3 officer(s) still need a decision before the period can be finalized: "
        "Agustinus Lay (NIP 197003152000031004): behaviour decision and work-results level; "
        "Maria Bria (NIP 199001012015012002): work-results level; "
        "Yohanes Ndun (NIP 198504122010031001): behaviour decision"
    )
    assert period.status == "open"


def test_results_import_reads_e_kinerja_spellings_and_reports_each_bad_row(w: World) -> None:
    period = w.period()
    raw = (
        b"NIP;Hasil_Kerja\n"
        b"198504122010031001;DIATAS EKSPEKTASI\n"
        b"199001012015012002;Sesuai Ekspetasi\n"
        b"197003152000031004;di bawah  ekspektasi\n"
    )
    assert ev.import_results(w.s, period, raw, actor=w.spv) == (3, [])
    levels = {r.officer_name: r.results_level for r in ev.evaluations(w.s, period)}
    assert levels == {"Yohanes Ndun": "above", "Maria Bria": "meets", "Agustinus Lay": "below"}
    bad = b"nip,results_level\n198504122010031001,Baik Sekali\n199001012015012002,\n"
    count, errors = ev.import_results(w.s, period, bad, actor=w.spv)
    assert count == 0
    assert [(e.row, e.column, e.reason) for e in errors] == [
        (
            2,
            "results_level",
            "'Baik Sekali' is not a level: use Di Atas Ekspektasi, Sesuai Ekspektasi or "
            "Di Bawah Ekspektasi (or above / meets / below)",
        ),
        (
            3,
            "results_level",
            "the level is empty: use Di Atas Ekspektasi, Sesuai Ekspektasi or "
            "Di Bawah Ekspektasi (or above / meets / below)",
        ),
    ]


# Recompute in bulk -------------------------------------------------------------------------


def test_recompute_adds_new_officers_and_keeps_decisions(w: World) -> None:
    period = w.period()
    first = {r.officer_name: r.id for r in ev.evaluations(w.s, period)}
    ev.decide_behaviour(w.s, period, first["Maria Bria"] or 0, None, actor=w.spv)
    make_officer(w.s, w.unit, "Fransiska Nenabu", nip="199203042019032001")
    w.complaint(w.maria.id or 0, "diskriminasi", Privacy.biasa, CaseOutcome.partly)
    ev.compute_period(w.s, period, POLICY, WITA, actor=w.spv, now=END_Q4)
    rows = {r.officer_name: r for r in ev.evaluations(w.s, period)}
    assert {n: rows[n].id for n in first} == first  # the same rows, refreshed in place
    assert "Fransiska Nenabu" in rows
    maria = rows["Maria Bria"]
    assert maria.behaviour_level == "meets"  # the decision is kept ...
    assert maria.suggested_level == "below"  # ... beside the refreshed suggestion
    assert maria.complaints_substantiated == 1


# Exports for people ------------------------------------------------------------------------


def test_export_has_names_not_ids_and_the_xlsx_a_title_and_signature_block(w: World) -> None:
    period = w.period()
    w.decide_all(period)
    ev.finalize(w.s, period, actor=w.spv, tz=WITA, now=END_Q4)
    rows = [
        dict(zip(ev.EXPORT_COLUMNS, r, strict=True))
        for r in ev.export_rows(w.s, period, actor=w.spv)
    ]
    assert "unit_id" not in ev.EXPORT_COLUMNS
    first = rows[0]
    assert (first["kode_unit"], first["unit_kerja"]) == (
        "dukcapil",
        "Dinas Kependudukan dan Pencatatan Sipil",
    )
    assert first["perilaku_diputuskan_oleh"] == "Bernadete Tefa"
    assert first["hasil_kerja_dicatat_oleh"] == "Bernadete Tefa"
    assert first["hasil_kerja"] == "Sesuai Ekspektasi"

    content = ev.export_workbook(
        w.s,
        period,
        actor=w.spv,
        tz=WITA,
        place="Kupang",
        now=datetime(2027, 1, 4, 1, tzinfo=UTC),
    )
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    cells = [[v for v in row if v is not None] for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == ["Bukti Dukung Umpan Balik Masyarakat untuk Penilaian Kinerja Pegawai"]
    assert cells[1] == ["Periode: 2026-Q4 (1 Oktober 2026 s.d. 31 Desember 2026)"]
    assert cells[2] == ["Unit kerja: Dinas Kependudukan dan Pencatatan Sipil"]
    assert cells[3] == ["Difinalisasi oleh Bernadete Tefa pada 1 Januari 2027 00.00 WITA"]
    assert cells[ev.XLSX_HEADER_ROW - 1] == list(ev.EXPORT_HEADERS)
    # The same table as the CSV (an empty text reads back as an empty cell).
    assert ev.xlsx_table(sheet)[1:] == [[v if v != "" else None for v in r.values()] for r in rows]
    signature = [c[0] for c in cells[ev.XLSX_HEADER_ROW + len(rows) :] if c]
    assert signature == [
        "Kupang, 4 Januari 2027",
        "Kepala Dinas Kependudukan dan Pencatatan Sipil",
        "Agustinus Lay",
        "NIP. 197003152000031004",
    ]


def test_unit_without_a_head_account_gets_lines_to_sign_by_hand(w: World) -> None:
    head = w.s.get(AppUser, w.head.user_id)
    assert head is not None
    head.active = False
    w.s.add(head)
    period = w.period()
    assert ev.unit_head(w.s, period) == ev.Signatory(
        "Kepala Dinas Kependudukan dan Pencatatan Sipil", "", ""
    )


def test_readers_cannot_finalize_at_all(w: World) -> None:
    period = w.period()
    w.decide_all(period)
    with pytest.raises(Forbidden):
        ev.finalize(w.s, period, actor=w.head, tz=WITA, now=END_Q4)


@given(
    st.integers(0, 10_000),
    st.floats(1, 4),
    st.floats(1, 4),
    st.sampled_from(["above", "below", "equal"]),
    st.integers(0, 50),
    st.booleans(),
    st.dictionaries(st.sampled_from(["pungli", "diskriminasi"]), st.integers(1, 5)),
)
def test_stored_reason_figures_are_plain_json(
    n: int,
    score: float,
    mean: float,
    relation: str,
    substantiated: int,
    insufficient: bool,
    serious: dict[str, int],
) -> None:
    """The hand-written JSON of a reason is exactly what json.dumps writes, and reads back."""
    params = ReasonParams(
        n, score, score - 0.1, score + 0.1, mean, relation, substantiated, insufficient, serious
    )
    data = dataclasses.asdict(params)
    if not serious:
        del data["serious"]
    assert params.to_json() == json.dumps(data, sort_keys=True)
    assert ReasonParams.from_json(params.to_json()) == params
