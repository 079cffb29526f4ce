"""Complaints that arrive elsewhere (counter, phone, letter), recorded by staff in core."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from core.access import Actor
from core.cases.intake import (
    CitizenContact,
    IntakeField,
    IntakeInputError,
    intake_choices,
    normalise_email,
    normalise_lapor_id,
    normalise_phone,
    record_complaint,
)
from core.cases.lifecycle import verify
from core.cases.models import Case, CaseEvent, CaseStatus
from core.cases.policy import CasePolicy, ComplaintDraft, RuleBroken
from core.cases.sla import SlaPolicy
from core.masterdata.models import Unit
from core.people.models import Citizen, Contact, Intake, Role
from core.shared.errors import Forbidden, InvalidInput
from tests.factories import make_officer, make_service, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
POLICY = CasePolicy(sla=SlaPolicy(tz=WITA))
T0 = datetime(2026, 11, 12, 2, 0, tzinfo=UTC)  # Thursday 10:00 WITA
DESC = "Warga menelepon: berkas KK hilang di loket sejak dua minggu lalu."


def _actor(session: Session, name: str, role: Role, units: list[Unit]) -> Actor:
    user = make_user(session, name, role, units)
    assert user.id is not None
    return Actor(user.id, name, role, frozenset(u.id for u in units if u.id))


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
    other = make_unit(session, "dinkes", "Dinas Kesehatan")
    return {
        "unit": unit,
        "other": other,
        "officer": make_officer(session, unit, "Yohanes Ndun"),
        "foreign_officer": make_officer(session, other, "Maria Bria"),
        "service": make_service(session, unit, "Kartu Keluarga"),
        "spv": _actor(session, "spv", Role.supervisor, [unit]),
        "viewer": _actor(session, "viewer", Role.viewer, [unit]),
    }


def _draft(unit: object, **kw: object) -> ComplaintDraft:
    assert isinstance(unit, Unit) and unit.id is not None
    return ComplaintDraft(
        unit_id=unit.id,
        category=str(kw.pop("category", "penundaan_berlarut")),
        description=str(kw.pop("description", DESC)),
        channel=kw.pop("channel", Intake.phone),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def _count(session: Session, table: type) -> int:
    return int(session.exec(select(func.count()).select_from(table)).one())


def test_a_phone_complaint_becomes_a_case_recorded_by_the_staff_member(
    session: Session, world: dict[str, object]
) -> None:
    spv = world["spv"]
    assert isinstance(spv, Actor)
    officer, service = world["officer"], world["service"]
    case = record_complaint(
        session,
        _draft(world["unit"], officer_id=officer.id, service_id=service.id),  # type: ignore[attr-defined]
        POLICY,
        actor=spv,
        now=T0,
        contact=CitizenContact(phone="0812-3456-7890", email="Warga@Contoh.CO.ID"),
        lapor_id=" 2611-abc-001 ",
    )
    assert case.reference.startswith("KPG-2611-")
    assert (case.channel, case.status, case.lapor_id) == ("phone", "received", "2611-ABC-001")
    # The same deadlines as any case: verification within 3 working days.
    assert case.verify_due_at == POLICY.sla.verify_due(T0) and case.due_at is not None
    created = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
    assert (created.kind, created.actor_kind, created.actor_user_id) == (
        "created",
        "user",
        spv.user_id,
    )
    citizen = session.get(Citizen, case.citizen_id)
    assert citizen is not None and citizen.phone == "+6281234567890"
    contacts = session.exec(select(Contact).where(Contact.citizen_id == citizen.id)).all()
    assert [(c.channel, c.address) for c in contacts] == [("email", "Warga@contoh.co.id")]
    # The lifecycle goes on as for any case.
    verify(session, case, POLICY, actor=spv, now=T0)
    assert case.status == CaseStatus.verified


def test_without_a_contact_no_citizen_is_stored(session: Session, world: dict[str, object]) -> None:
    spv = world["spv"]
    assert isinstance(spv, Actor)
    case = record_complaint(
        session, _draft(world["unit"], channel=Intake.letter), POLICY, actor=spv, now=T0
    )
    assert case.citizen_id is None and case.lapor_id is None and case.channel == "letter"
    assert _count(session, Citizen) == 0


def test_the_same_email_again_is_the_same_citizen(
    session: Session, world: dict[str, object]
) -> None:
    spv = world["spv"]
    assert isinstance(spv, Actor)
    first, second = (
        record_complaint(
            session,
            _draft(world["unit"], channel=Intake.counter),
            POLICY,
            actor=spv,
            now=T0,
            contact=CitizenContact(email=email),
        )
        for email in ("ana@contoh.id", "ana@CONTOH.id")
    )
    assert first.citizen_id == second.citizen_id and _count(session, Contact) == 1


@pytest.mark.parametrize(
    ("contact", "lapor_id", "field"),
    [
        (CitizenContact(email="warga@contoh"), None, IntakeField.email),
        (CitizenContact(email="warga contoh@mail.id"), None, IntakeField.email),
        (CitizenContact(phone="12345"), None, IntakeField.phone),
        (CitizenContact(phone="0812 34ab 567"), None, IntakeField.phone),
        (CitizenContact(), "LAPOR/2611/01", IntakeField.lapor_id),
        (CitizenContact(), "A" * 41, IntakeField.lapor_id),
    ],
)
def test_a_malformed_contact_or_tracking_number_stores_nothing(
    session: Session,
    world: dict[str, object],
    contact: CitizenContact,
    lapor_id: str | None,
    field: IntakeField,
) -> None:
    spv = world["spv"]
    assert isinstance(spv, Actor)
    with pytest.raises(IntakeInputError) as broken:
        record_complaint(
            session,
            _draft(world["unit"]),
            POLICY,
            actor=spv,
            now=T0,
            contact=contact,
            lapor_id=lapor_id,
        )
    assert broken.value.field is field
    assert _count(session, Case) == 0 and _count(session, Citizen) == 0


def test_the_same_rules_as_a_citizens_report(session: Session, world: dict[str, object]) -> None:
    spv = world["spv"]
    assert isinstance(spv, Actor)
    unit = world["unit"]
    with pytest.raises(RuleBroken):
        record_complaint(session, _draft(unit, description="pendek"), POLICY, actor=spv, now=T0)
    with pytest.raises(InvalidInput):
        record_complaint(session, _draft(unit, category="gosip"), POLICY, actor=spv, now=T0)
    foreign = world["foreign_officer"]
    with pytest.raises(InvalidInput):
        record_complaint(
            session,
            _draft(unit, officer_id=foreign.id),  # type: ignore[attr-defined]
            POLICY,
            actor=spv,
            now=T0,
        )
    with pytest.raises(IntakeInputError):  # a citizen's own channel is not recorded by staff
        record_complaint(session, _draft(unit, channel=Intake.telegram), POLICY, actor=spv, now=T0)
    assert _count(session, Case) == 0


def test_only_handlers_of_the_unit_may_record(session: Session, world: dict[str, object]) -> None:
    viewer, spv = world["viewer"], world["spv"]
    assert isinstance(viewer, Actor) and isinstance(spv, Actor)
    with pytest.raises(Forbidden):
        record_complaint(session, _draft(world["unit"]), POLICY, actor=viewer, now=T0)
    with pytest.raises(Forbidden):
        record_complaint(session, _draft(world["other"]), POLICY, actor=spv, now=T0)
    assert _count(session, Case) == 0
    assert intake_choices(session, actor=viewer) == []
    choices = intake_choices(session, actor=spv)
    assert [c.unit.code for c in choices] == ["dukcapil"]
    assert [o.name for o in choices[0].officers] == ["Yohanes Ndun"]
    assert [s.name for s in choices[0].services] == ["Kartu Keluarga"]


def test_contact_and_tracking_number_formats() -> None:
    assert normalise_phone(" +62 812-3456-7890 ") == "+6281234567890"
    assert normalise_phone("(0380) 821234") == "+62380821234"
    assert normalise_phone("  ") is None
    assert normalise_email(" a.b+c@Mail.Kupangkota.go.id ") == "a.b+c@mail.kupangkota.go.id"
    assert normalise_lapor_id("lap-2611-0099") == "LAP-2611-0099"
    for bad in ("-123", "12 34", "123-"):
        with pytest.raises(IntakeInputError):
            normalise_lapor_id(bad)
