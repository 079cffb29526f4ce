"""Evaluation periods and officer scores through the admin API: every route x role x scope,
CSV import, exports equal to the period's figures."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.access import Actor
from core.cases import service as svc
from core.cases.models import CaseOutcome, Privacy
from core.cases.sla import SlaPolicy
from core.evaluations import service as ev
from core.evaluations.models import EvaluationPeriod, Level
from core.masterdata.models import Unit
from core.people.models import Role
from core.policies import build
from core.shared.config import Settings
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, add_response, local, make_officer, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
ROLES = ("admin", "supervisor", "unit_head", "viewer")
Q4 = date(2026, 10, 1)
AFTER_Q4 = datetime(2026, 12, 31, 16, tzinfo=UTC)  # 1 January 2027 00:00 WITA


@dataclass
class Api:
    client: TestClient
    engine: Engine
    units: dict[str, Unit]
    officers: dict[str, int]
    admin: Actor
    tokens: dict[str, str]

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def period(self, unit: str, state: str = "computed") -> tuple[int, int]:
        """A period of one unit: (period id, first officer evaluation id)."""
        with Session(self.engine, expire_on_commit=False) as s:
            p = ev.create_period(s, "quarterly", Q4, [f"unit-{unit}"], actor=self.admin)
            ev.compute_period(s, p, ev.EvaluationPolicy(), WITA, actor=self.admin)
            rows = ev.evaluations(s, p)
            if state == "finalized":
                for r in rows:
                    ev.decide_behaviour(s, p, r.id or 0, None, actor=self.admin)
                    ev.set_results_level(s, p, r.id or 0, Level.meets, actor=self.admin)
                ev.finalize(s, p, actor=self.admin, tz=WITA, now=AFTER_Q4)
            elif state == "decided":
                for r in rows:
                    ev.decide_behaviour(s, p, r.id or 0, None, actor=self.admin)
                    ev.set_results_level(s, p, r.id or 0, Level.meets, actor=self.admin)
            s.commit()
            return p.id or 0, rows[0].id or 0


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[Api]:
    with Session(engine, expire_on_commit=False) as s:
        a = make_unit(s, "unit-a", "Unit A")
        b = make_unit(s, "unit-b", "Unit B")
        oa = make_officer(s, a, "Yohanes Ndun", nip="198504122010031001")
        ob = make_officer(s, b, "Petrus Seran", nip="199001012015011002")
        admin = make_user(s, "admin", Role.admin)
        for role in ("supervisor", "unit_head", "viewer"):
            make_user(s, role, Role(role), [a])
        for i in range(8):
            cid = telegram_citizen(s, 50_000 + i).id
            add_response(
                s,
                a,
                [3, 3, 3, 3, 3, 4, 4, 3, 3],
                local(date(2026, 11, 3)),
                officer=oa,
                citizen_id=cid,
            )
            add_response(
                s,
                b,
                [3, 3, 3, 3, 3, 2, 2, 3, 3],
                local(date(2026, 11, 3)),
                officer=ob,
                citizen_id=cid,
            )
        s.commit()
        officers = {"a": oa.id or 0, "b": ob.id or 0}
        actor = Actor(admin.id or 0, "admin", Role.admin)
    # The API's clock: the quarter under evaluation has ended.
    with TestClient(create_app(build(settings, engine, clock=lambda: AFTER_Q4))) as client:
        tokens = {
            r: client.post("/auth/token", data={"username": r, "password": PASSWORD}).json()[
                "access_token"
            ]
            for r in ROLES
        }
        yield Api(client, engine, {"a": a, "b": b}, officers, actor, tokens)


def _csv(nip_unit: str) -> dict[str, Any]:
    nip = "198504122010031001" if nip_unit == "a" else "199001012015011002"
    return {"files": {"file": ("r.csv", f"nip,results_level\n{nip},sesuai\n".encode(), "text/csv")}}


# Evaluating is for those who may open every case of the period's units (EVALUATE).
WRITE = {"admin": 200, "supervisor": 200, "unit_head": 403, "viewer": 403}
READ = dict.fromkeys(ROLES, 200)
HIDDEN = {"admin": 200, "supervisor": 404, "unit_head": 404, "viewer": 404}
# Another unit's master data answers as an unknown one would (no existence probe).
OUT_404 = {"admin": 200, "supervisor": 404, "unit_head": 404, "viewer": 404}
# name: (method, path template, needs period state, body builder, in scope, out of scope)
Case_ = tuple[
    str, str, str | None, Callable[[str], dict[str, Any]] | None, dict[str, int], dict[str, int]
]
CASES: dict[str, Case_] = {
    "create": (
        "POST",
        "/evaluation-periods",
        None,
        lambda u: {"json": {"kind": "monthly", "start": "2026-11-01", "unit_codes": [f"unit-{u}"]}},
        {**WRITE, "admin": 201, "supervisor": 201},
        {"admin": 201, "supervisor": 404, "unit_head": 403, "viewer": 403},
    ),
    "list": ("GET", "/evaluation-periods", None, None, READ, READ),
    "get": ("GET", "/evaluation-periods/{p}", "computed", None, READ, HIDDEN),
    "compute": ("POST", "/evaluation-periods/{p}/compute", "computed", None, WRITE, HIDDEN),
    "decision": (
        "POST",
        "/evaluation-periods/{p}/officers/{e}/decision",
        "computed",
        lambda u: {"json": {"confirm": True, "results_level": "above"}},
        WRITE,
        HIDDEN,
    ),
    "results": ("POST", "/evaluation-periods/{p}/results", "computed", _csv, WRITE, HIDDEN),
    "finalize": ("POST", "/evaluation-periods/{p}/finalize", "decided", None, WRITE, HIDDEN),
    "audit": ("GET", "/evaluation-periods/{p}/audit", "computed", None, READ, HIDDEN),
    "csv": ("GET", "/evaluation-periods/{p}/export.csv", "finalized", None, READ, HIDDEN),
    "xlsx": ("GET", "/evaluation-periods/{p}/export.xlsx", "finalized", None, READ, HIDDEN),
    "officer-scores": (
        "GET",
        "/scores/officers?unit=unit-{u}&start=2026-10-01&end=2026-12-31",
        None,
        None,
        READ,
        OUT_404,
    ),
    "officer-score": (
        "GET",
        "/scores/officers/{o}?start=2026-10-01&end=2026-12-31",
        None,
        None,
        READ,
        OUT_404,
    ),
}


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role_in_and_out_of_scope(api: Api, role: str) -> None:
    failures = []
    for name, (method, template, state, body, in_scope, out_scope) in CASES.items():
        for unit, expected in (("a", in_scope), ("b", out_scope)):
            pid, eid = api.period(unit, state) if state else (0, 0)
            path = template.format(p=pid, e=eid, u=unit, o=api.officers[unit])
            r = api.client.request(
                method, path, headers=api.h(role), **(body(unit) if body else {})
            )
            if r.status_code != expected[role]:
                failures.append(f"{name} {unit}: {r.status_code} != {expected[role]} {r.text[:80]}")
    assert failures == []


def test_full_period_through_the_api_and_exports(api: Api) -> None:
    c, h = api.client, api.h("supervisor")
    created = c.post(
        "/evaluation-periods",
        headers=h,
        json={"kind": "quarterly", "start": "2026-10-01", "unit_codes": ["unit-a"]},
    )
    assert created.status_code == 201 and created.json()["name"] == "2026-Q4"
    pid = created.json()["id"]
    bad = c.post(
        "/evaluation-periods",
        headers=h,
        json={"kind": "quarterly", "start": "2026-11-01", "unit_codes": ["unit-a"]},
    )
    assert bad.status_code == 422 and "quarterly" in bad.json()["detail"]
    detail = c.post(f"/evaluation-periods/{pid}/compute", headers=h).json()
    [row] = detail["officers"]
    assert row["nip"] == "198504122010031001" and row["survey_n"] == 8
    assert row["suggestion_reason_en"].startswith("8 responses, score ")
    early = c.post(f"/evaluation-periods/{pid}/finalize", headers=h)
    assert early.status_code == 409 and "still need a decision" in early.json()["detail"]
    assert early.json()["missing"] == [
        {
            "evaluation_id": row["id"],
            "officer_name": "Yohanes Ndun",
            "nip": "198504122010031001",
            "fields": ["behaviour_level", "results_level"],
        }
    ]
    override = c.post(
        f"/evaluation-periods/{pid}/officers/{row['id']}/decision",
        headers=h,
        json={"behaviour_level": "below"},
    )
    if row["suggested_level"] != "below":
        assert override.status_code == 422 and "needs a reason" in override.json()["detail"]
    decided = c.post(
        f"/evaluation-periods/{pid}/officers/{row['id']}/decision",
        headers=h,
        json={
            "behaviour_level": "below",
            "override_reason": "Sering terlambat.",
            "results_level": "meets",
        },
    ).json()
    assert decided["rating"] == "Kurang/Misconduct"
    bad_csv = c.post(
        f"/evaluation-periods/{pid}/results",
        headers=h,
        files={"file": ("r.csv", b"nip,results_level\n123,sesuai\n", "text/csv")},
    )
    assert bad_csv.status_code == 422 and bad_csv.json()["errors"][0]["column"] == "nip"
    assert c.get(f"/evaluation-periods/{pid}/export.csv", headers=h).status_code == 409
    final = c.post(f"/evaluation-periods/{pid}/finalize", headers=h)
    assert final.status_code == 200 and final.json()["status"] == "finalized"
    again = c.post(f"/evaluation-periods/{pid}/compute", headers=h)
    assert again.status_code == 409 and "finalized" in again.json()["detail"]

    period = c.get(f"/evaluation-periods/{pid}", headers=h).json()["officers"][0]
    text = c.get(f"/evaluation-periods/{pid}/export.csv", headers=h).content.decode("utf-8-sig")
    [exported] = list(csv.DictReader(io.StringIO(text)))
    assert exported["nip"] == period["nip"] and exported["predikat"] == "Kurang/Misconduct"
    assert float(exported["skor"]) == round(period["score"], 2)
    assert exported["perilaku"] == "Di Bawah Ekspektasi"
    assert exported["alasan_perubahan"] == "Sering terlambat."
    assert (exported["kode_unit"], exported["unit_kerja"]) == ("unit-a", "Unit A")
    assert exported["perilaku_diputuskan_oleh"] == "supervisor"
    assert exported["hasil_kerja_dicatat_oleh"] == "supervisor"
    wb = load_workbook(
        io.BytesIO(c.get(f"/evaluation-periods/{pid}/export.xlsx", headers=h).content)
    )
    assert wb.active is not None
    texts = [v for row in wb.active.iter_rows(values_only=True) for v in row if v is not None]
    assert texts[:3] == [
        "Bukti Dukung Umpan Balik Masyarakat untuk Penilaian Kinerja Pegawai",
        "Periode: 2026-Q4 (1 Oktober 2026 s.d. 31 Desember 2026)",
        "Unit kerja: Unit A",
    ]
    # Signed where EVALUATION_SIGNATURE_PLACE says, on the API's day (WITA), by the head of
    # the unit (an account without a linked officer: its name, the NIP left to fill in).
    assert texts[-4:] == [
        "Kupang, 1 Januari 2027",
        "Kepala Unit A",
        "unit_head",
        "NIP. " + "." * 24,
    ]
    rows = ev.xlsx_table(wb.active)
    assert rows[0] == list(ev.EXPORT_COLUMNS)
    assert (
        rows[1][0] == period["nip"]
        and rows[1][ev.EXPORT_COLUMNS.index("predikat")] == "Kurang/Misconduct"
    )
    audit = c.get(f"/evaluation-periods/{pid}/audit", headers=h).json()
    kinds = [e["kind"] for e in audit]
    assert kinds == ["created", "computed", "overridden", "results_set", "finalized"]
    assert {e["actor_name"] for e in audit} == {"supervisor"}
    assert [e["officer_name"] for e in audit[2:4]] == ["Yohanes Ndun", "Yohanes Ndun"]


def test_officer_scores_for_any_range(api: Api) -> None:
    r = api.client.get(
        "/scores/officers?unit=unit-a&start=2026-11-01&end=2026-11-30", headers=api.h("viewer")
    ).json()
    assert [(o["officer_name"], o["n"], o["raw_mean"]) for o in r] == [("Yohanes Ndun", 8, 4.0)]
    empty = api.client.get(
        f"/scores/officers/{api.officers['a']}?start=2026-01-01&end=2026-01-31",
        headers=api.h("viewer"),
    ).json()
    assert empty["n"] == 0 and empty["insufficient"] is True and empty["raw_mean"] is None
    bad = api.client.get(
        "/scores/officers?unit=unit-a&start=2026-12-01&end=2026-11-01", headers=api.h("viewer")
    )
    assert bad.status_code == 422


def test_periods_list_is_scoped(api: Api) -> None:
    api.period("a")
    api.period("b")
    names = {r: len(api.client.get("/evaluation-periods", headers=api.h(r)).json()) for r in ROLES}
    assert names == {"admin": 2, "supervisor": 1, "unit_head": 1, "viewer": 1}
    with Session(api.engine) as s:
        assert len(s.exec(select(EvaluationPeriod)).all()) == 2


def _complaint(api: Api, privacy: Privacy, outcome: CaseOutcome) -> None:
    """A complaint naming unit A's officer, received and resolved in the period."""
    policy = svc.CasePolicy(sla=SlaPolicy(tz=WITA), complaints_per_day=100)
    at = local(date(2026, 11, 4))
    with Session(api.engine) as s:
        citizen = telegram_citizen(s, 60_000 + len(privacy.value))
        case = svc.file_complaint(
            s,
            citizen,
            svc.ComplaintDraft(
                unit_id=api.units["a"].id or 0,
                officer_id=api.officers["a"],
                category="pungli",
                privacy=privacy,
                description="Petugas meminta uang tambahan di loket.",
            ),
            policy,
            now=at,
        )
        svc.verify(s, case, policy, actor=api.admin, now=at)
        svc.assign(s, case, actor=api.admin, assignee_id=api.admin.user_id, now=at)
        svc.resolve(s, case, outcome, "Diperiksa.", actor=api.admin, now=at)
        s.commit()


def test_readers_without_full_evidence_see_no_suggestion_and_final_decisions_only(
    api: Api,
) -> None:
    _complaint(api, Privacy.rahasia, CaseOutcome.substantiated)
    _complaint(api, Privacy.biasa, CaseOutcome.unsubstantiated)
    c = api.client
    pid = c.post(
        "/evaluation-periods",
        headers=api.h("supervisor"),
        json={"kind": "quarterly", "start": "2026-10-01", "unit_codes": ["unit-a"]},
    ).json()["id"]
    [row] = c.post(f"/evaluation-periods/{pid}/compute", headers=api.h("supervisor")).json()[
        "officers"
    ]
    assert (row["complaints_received"], row["complaints_substantiated"]) == (2, 1)
    # One substantiated complaint of a serious category (pungli) suggests "below", and the
    # reason names the category: for evaluators, who may open the rahasia case.
    assert row["suggested_level"] == "below"
    assert row["suggestion_reason"].endswith(
        "1 pengaduan terbukti, di antaranya kategori berat: Permintaan imbalan / pungli (1) "
        "(satu saja sudah menyarankan di bawah ekspektasi)"
    )
    assert "Request for payment / illegal levy (1)" in row["suggestion_reason_en"]
    decided = c.post(
        f"/evaluation-periods/{pid}/officers/{row['id']}/decision",
        headers=api.h("supervisor"),
        json={
            "behaviour_level": "meets",
            "override_reason": "Lihat laporan.",
            "results_level": "meets",
        },
    )
    assert decided.status_code == 200, decided.text

    def seen(role: str) -> dict[str, Any]:
        body = c.get(f"/evaluation-periods/{pid}", headers=api.h(role)).json()
        [officer] = body["officers"]
        return {"full": body["full_evidence"], **officer}

    for role in ("admin", "supervisor"):
        full = seen(role)
        assert full["full"] is True and full["complaints_received"] == 2
        assert full["suggested_level"] == row["suggested_level"] and full["override_reason"]
    for role in ("unit_head", "viewer"):
        part = seen(role)
        assert part["full"] is False
        assert (part["complaints_received"], part["complaints_substantiated"]) == (1, 0)
        assert part["suggested_level"] is None and part["suggestion_reason"] is None
        assert part["suggestion_reason_en"] is None
        assert (part["behaviour_level"], part["rating"], part["override_reason"]) == (
            None,
            None,
            None,
        )  # not before the period is final
        audit = c.get(f"/evaluation-periods/{pid}/audit", headers=api.h(role)).json()
        assert [e["kind"] for e in audit] == [
            "created",
            "computed",
            "behaviour_decided",
            "results_set",
        ]
        assert [e["detail"] for e in audit[2:]] == [None, None]
    full_audit = c.get(f"/evaluation-periods/{pid}/audit", headers=api.h("supervisor")).json()
    assert full_audit[2]["kind"] == "overridden" and "Lihat laporan." in full_audit[2]["detail"]

    assert c.post(f"/evaluation-periods/{pid}/finalize", headers=api.h("supervisor")).is_success
    final = seen("viewer")
    assert (final["behaviour_level"], final["results_level"], final["rating"]) == (
        "meets",
        "meets",
        "Baik",
    )
    # Nothing a unit head or viewer reads names the rahasia case's category.
    for role in ("unit_head", "viewer"):
        read = [
            c.get(f"/evaluation-periods/{pid}{tail}", headers=api.h(role))
            for tail in ("", "/audit", "/export.csv", "/export.xlsx")
        ]
        assert all(r.status_code == 200 for r in read)
        text = " ".join(r.text for r in read[:3]).lower()
        sheet = load_workbook(io.BytesIO(read[3].content)).active
        assert sheet is not None
        text += " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row).lower()
        assert "pungli" not in text and "imbalan" not in text and "berat" not in text, role
    assert final["suggested_level"] is None and final["override_reason"] is None
    for role, received, suggestion in (("viewer", "1", ""), ("supervisor", "2", "x")):
        text = c.get(f"/evaluation-periods/{pid}/export.csv", headers=api.h(role)).text
        [exported] = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        assert exported["pengaduan_diterima"] == received
        assert bool(exported["saran_perilaku"]) is bool(suggestion)
        assert bool(exported["alasan_perubahan"]) is bool(suggestion)
        sheet = load_workbook(
            io.BytesIO(c.get(f"/evaluation-periods/{pid}/export.xlsx", headers=api.h(role)).content)
        ).active
        assert sheet is not None
        header, values = ev.xlsx_table(sheet)
        cells = dict(zip(header, values, strict=True))
        assert str(cells["pengaduan_diterima"]) == received
        assert bool(cells["saran_perilaku"]) is bool(suggestion)


def test_finalizing_before_the_end_needs_an_admin_and_a_reason(api: Api) -> None:
    """The API's clock is 1 January 2027 00:00 WITA: January 2027 has not ended."""
    c = api.client
    pid = c.post(
        "/evaluation-periods",
        headers=api.h("supervisor"),
        json={"kind": "monthly", "start": "2027-01-01", "unit_codes": ["unit-a"]},
    ).json()["id"]
    [row] = c.post(f"/evaluation-periods/{pid}/compute", headers=api.h("supervisor")).json()[
        "officers"
    ]
    decided = c.post(
        f"/evaluation-periods/{pid}/officers/{row['id']}/decision",
        headers=api.h("supervisor"),
        json={"confirm": True, "results_level": "meets"},
    )
    assert decided.status_code == 200, decided.text
    path = f"/evaluation-periods/{pid}/finalize"
    refused = c.post(path, headers=api.h("supervisor"), json={"early_reason": "Cepat"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "the period runs until 31 January 2027: it can be finalized from 1 February 2027 "
        "00:00 WITA; only an administrator may finalize it earlier, giving a reason"
    )
    no_reason = c.post(path, headers=api.h("admin"))
    assert no_reason.status_code == 422 and "give the reason" in no_reason.json()["detail"]
    too_long = c.post(path, headers=api.h("admin"), json={"early_reason": "x" * 2001})
    assert too_long.status_code == 422
    done = c.post(
        path, headers=api.h("admin"), json={"early_reason": "Mutasi pegawai per 15 Januari."}
    )
    assert done.status_code == 200 and done.json()["status"] == "finalized"
    last = c.get(f"/evaluation-periods/{pid}/audit", headers=api.h("supervisor")).json()[-1]
    assert (last["kind"], last["actor_name"]) == ("finalized_early", "admin")
    assert last["detail"].endswith(
        "before the period ended (2027-01-31): Mutasi pegawai per 15 Januari."
    )
