"""The recap of complaints of a unit and period (rekap pengaduan): the figures on both
engines, counted only over the cases the reader may open (a unit head's recap leaves out the
`rahasia` case, a supervisor's counts it); the median handling time in working days across a
weekend and an office closed day; the XLSX and the PDF; the API's scope."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.access import Actor, actor_for
from core.cases.calendar import office_sla
from core.cases.models import Case, CaseOutcome, CaseStatus, ClosedDay, Privacy
from core.cases.recap import Recap, complaint_recap, recap_pdf, recap_signatory, recap_xlsx
from core.cases.sla import SlaPolicy
from core.masterdata.models import Unit
from core.people.models import AppUser, Role
from core.shared.config import Settings
from core.surveys.unit_scores import Period
from tests.factories import bearer, local, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
CLOSED = date(2026, 11, 24)  # an office closed day (Tuesday)
_refs = itertools.count(1)


def add_case(
    session: Session,
    unit: Unit,
    *,
    received: datetime,
    category: str = "lainnya",
    privacy: Privacy = Privacy.biasa,
    status: CaseStatus = CaseStatus.received,
    resolved: datetime | None = None,
    resolve_due: datetime | None = None,
    due: datetime | None = None,
    outcome: CaseOutcome | None = None,
) -> Case:
    assert unit.id is not None
    case = Case(
        reference=f"ADU-TEST-{next(_refs):05d}",
        unit_id=unit.id,
        category=category,
        description="Uraian kejadian untuk rekap",
        privacy=privacy.value,
        status=status.value,
        received_at=received,
        verify_due_at=received + timedelta(days=5),
        resolve_due_at=resolve_due or received + timedelta(days=60),
        due_at=due,
        resolved_at=resolved,
        outcome=outcome.value if outcome else None,
    )
    session.add(case)
    return case


@dataclass
class Scene:
    unit: Unit
    other: Unit


def _scene(session: Session) -> Scene:
    unit = make_unit(session, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
    other = make_unit(session, "dinkes", "Dinas Kesehatan")
    session.add(ClosedDay(day=CLOSED, description="Hari tutup kantor"))
    # Friday -> Monday: 1 working day (the weekend skipped); resolved before its deadline.
    add_case(
        session,
        unit,
        received=local(date(2026, 11, 13)),
        category="pungli",
        status=CaseStatus.resolved,
        resolved=local(date(2026, 11, 16)),
        outcome=CaseOutcome.substantiated,
    )
    # Thursday -> Wednesday: 3 working days (weekend and the closed Tuesday skipped); late.
    add_case(
        session,
        unit,
        received=local(date(2026, 11, 19)),
        category="penundaan_berlarut",
        privacy=Privacy.anonim,
        status=CaseStatus.closed,
        resolved=local(date(2026, 11, 25)),
        resolve_due=local(date(2026, 11, 22)),
        outcome=CaseOutcome.partly,
    )
    # The confidential one: Monday -> Monday, 5 working days.
    add_case(
        session,
        unit,
        received=local(date(2026, 11, 2)),
        category="pungli",
        privacy=Privacy.rahasia,
        status=CaseStatus.resolved,
        resolved=local(date(2026, 11, 9)),
        outcome=CaseOutcome.unsubstantiated,
    )
    # Open and past its running deadline.
    add_case(
        session,
        unit,
        received=local(date(2026, 11, 3)),
        status=CaseStatus.in_progress,
        due=local(date(2026, 11, 20)),
    )
    # Confidential, open, within its deadline.
    add_case(
        session,
        unit,
        received=local(date(2026, 11, 30), hour=20),  # 30 Nov 20:00 WITA
        privacy=Privacy.rahasia,
        due=local(date(2026, 12, 3)),
    )
    # Outside the recap: received in October (local day), another unit.
    add_case(session, unit, received=local(date(2026, 10, 31), hour=23))
    add_case(session, other, received=local(date(2026, 11, 10)))
    make_user(session, "spv", Role.supervisor, [unit])
    make_user(session, "kadis", Role.unit_head, [unit])
    make_user(session, "spv-dinkes", Role.supervisor, [other])
    session.commit()
    return Scene(unit, other)


def _recap(session: Session, scene: Scene, username: str) -> Recap:
    user = session.exec(select(AppUser).where(AppUser.username == username)).one()
    assert user.id is not None
    actor = actor_for(session, user.id)
    assert actor is not None
    sla = office_sla(session, SlaPolicy(tz=WITA))
    return complaint_recap(session, scene.unit, NOVEMBER, sla, actor=actor, now=NOW)


def test_a_supervisor_counts_every_case_of_the_period_the_confidential_too(
    session: Session,
) -> None:
    recap = _recap(session, _scene(session), "spv")
    assert recap.received == 5
    assert dict(recap.by_category)["pungli"] == 2
    assert dict(recap.by_category)["penundaan_berlarut"] == 1
    assert dict(recap.by_category)["lainnya"] == 2
    assert dict(recap.by_status) == {
        "received": 1,
        "verified": 0,
        "in_progress": 1,
        "waiting_citizen": 0,
        "resolved": 2,
        "closed": 1,
        "rejected": 0,
    }
    assert (recap.resolved, recap.resolved_on_time, recap.resolved_late) == (3, 2, 1)
    assert (recap.open, recap.open_overdue) == (2, 1)
    assert dict(recap.outcomes) == {
        "substantiated": 1,
        "partly": 1,
        "unsubstantiated": 1,
        "not_our_authority": 0,
    }
    # Working days 1, 3 (weekend and the closed Tuesday skipped) and 5: the median is 3.
    assert recap.median_working_days == 3.0


def test_a_unit_heads_recap_leaves_out_the_confidential_cases(session: Session) -> None:
    recap = _recap(session, _scene(session), "kadis")
    assert recap.received == 3
    assert dict(recap.by_category)["pungli"] == 1
    assert dict(recap.outcomes)["unsubstantiated"] == 0
    assert (recap.resolved, recap.open) == (2, 1)
    assert recap.median_working_days == 2.0  # of 1 and 3


def test_a_period_without_resolved_cases_has_no_median(session: Session) -> None:
    scene = _scene(session)
    admin = Actor(user_id=0, username="admin", role=Role.admin)
    sla = office_sla(session, SlaPolicy(tz=WITA))
    december = Period(date(2026, 12, 1), date(2026, 12, 31))
    recap = complaint_recap(session, scene.unit, december, sla, actor=admin, now=NOW)
    assert (recap.received, recap.median_working_days) == (0, None)


def test_the_workbook_and_the_printable_recap_carry_the_figures(session: Session) -> None:
    scene = _scene(session)
    recap = _recap(session, scene, "spv")
    sheet = load_workbook(io.BytesIO(recap_xlsx(recap, tz_name="Asia/Makassar"))).active
    assert sheet is not None
    rows = {(r[0], r[1]): r[2] for r in sheet.iter_rows(values_only=True) if len(r) > 2}
    labels = {r[0]: r[1] for r in sheet.iter_rows(values_only=True)}
    assert labels["Unit"] == "Dinas Kependudukan dan Pencatatan Sipil"
    assert labels["Periode"] == "2026-11-01 s.d. 2026-11-30"
    assert rows[("Pengaduan", "Diterima pada periode")] == 5
    assert rows[("Kategori", "Permintaan imbalan / pungli")] == 2
    assert rows[("Tenggat", "Selesai melewati tenggat")] == 1
    assert rows[("Hasil", "Terbukti sebagian")] == 1
    assert rows[("Waktu penanganan", "Median (diterima s.d. selesai)")] == "3,0 hari kerja"

    pdf = recap_pdf(
        recap,
        recap_signatory(session, recap),
        place="Kupang",
        today_local=NOW.astimezone(WITA),
    )
    assert pdf.startswith(b"%PDF")
    text = pdf.decode("latin-1")
    assert "REKAP PENGADUAN" in text
    assert "Dinas Kependudukan dan Pencatatan Sipil" in text
    assert "1 November 2026 s.d. 30 November 2026" in text
    assert "3,0 hari kerja" in text
    assert "Kupang, 1 Desember 2026" in text


def test_the_api_serves_the_recap_of_units_in_scope_only(
    settings: Settings, engine: Engine
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        _scene(session)
    with TestClient(create_app(settings, engine)) as client:
        head = bearer(client, "kadis")
        query = "unit=dukcapil&start=2026-11-01&end=2026-11-30"
        r = client.get(f"/cases/recap.xlsx?{query}", headers=head)
        assert r.status_code == 200, r.text
        assert (
            'filename="rekap-dukcapil-2026-11-01-2026-11-30.xlsx"'
            in r.headers["content-disposition"]
        )
        sheet = load_workbook(io.BytesIO(r.content)).active
        assert sheet is not None
        rows = {(x[0], x[1]): x[2] for x in sheet.iter_rows(values_only=True) if len(x) > 2}
        assert rows[("Pengaduan", "Diterima pada periode")] == 3  # no rahasia case

        r = client.get(f"/cases/recap.pdf?{query}", headers=bearer(client, "spv"))
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert b"Dinas Kependudukan dan Pencatatan Sipil" in r.content

        other = bearer(client, "spv-dinkes")
        for suffix in ("xlsx", "pdf"):
            r = client.get(f"/cases/recap.{suffix}?{query}", headers=other)
            assert r.status_code == 404, r.text
        backwards = "unit=dukcapil&start=2026-12-01&end=2026-11-01"
        r = client.get(f"/cases/recap.xlsx?{backwards}", headers=head)
        assert r.status_code == 422
        assert client.get(f"/cases/recap.xlsx?{query}").status_code == 401
