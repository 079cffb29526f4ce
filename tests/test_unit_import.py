"""Units and services from CSV: every row's result before anything is written, all or none,
and only within the importer's rights (units: admins; services: their own units)."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from core.access import Actor, actor_for
from core.masterdata.models import Service, Unit
from core.masterdata.unit_import import import_services, import_units
from core.people.models import Role
from core.shared.errors import Forbidden
from tests.factories import make_service, make_unit, make_user


def _actor(session: Session, name: str, role: Role, units: list[Unit]) -> Actor:
    user = make_user(session, name, role, units)
    session.commit()
    actor = actor_for(session, user.id or 0)
    assert actor is not None
    return actor


def _units(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Unit)).one())


def test_units_are_checked_row_by_row_then_written_all_at_once(session: Session) -> None:
    make_unit(session, "kec-alak", "Kecamatan Alak")
    admin = _actor(session, "admin", Role.admin, [])
    bad = (
        b"code,name,parent_code,service_population\n"
        b"kel-penkase,Kelurahan Penkase,kec-alak,4.500\n"  # right: a new unit
        b"Kel Naioni,Kelurahan Naioni,kec-alak,\n"  # a code the rules refuse
        b"kel-manulai,Kelurahan Manulai,kec-tidak-ada,0\n"  # unknown parent, population 0
        b"kec-alak,,,\n"  # a known unit without a name
        b"kel-penkase,Lagi,,\n"  # the same code twice
    )
    before = _units(session)
    result = import_units(session, bad, actor=admin, dry_run=False)
    assert not result.ok and not result.written
    assert [(r.line, r.action) for r in result.rows] == [
        (2, "create"), (3, "error"), (4, "error"), (5, "error"), (6, "error"),
    ]  # fmt: skip
    assert [r.key for r in result.rows[1].reasons] == ["field_code"]
    assert sorted(r.key for r in result.rows[2].reasons) == [
        "field_service_population", "parent_unknown",
    ]  # fmt: skip
    assert [r.key for r in result.rows[3].reasons] == ["name_empty"]
    assert [(r.key, r.params) for r in result.rows[4].reasons] == [("code_repeated", {"row": "2"})]
    session.commit()
    assert _units(session) == before

    good = (
        b"code;name;parent_code;service_population;active\n"
        b"kel-penkase;Kelurahan Penkase;kec-alak;4.500;ya\n"
        b"kec-alak;Kecamatan Alak Baru;;;tidak\n"
    )
    checked = import_units(session, good, actor=admin, dry_run=True)
    assert checked.ok and (checked.count("create"), checked.count("update")) == (1, 1)
    session.commit()
    assert _units(session) == before
    assert import_units(session, good, actor=admin).written
    session.commit()
    penkase = session.exec(select(Unit).where(Unit.code == "kel-penkase")).one()
    alak = session.exec(select(Unit).where(Unit.code == "kec-alak")).one()
    assert (penkase.parent_id, penkase.service_population) == (alak.id, 4500)
    assert (alak.name, alak.active) == ("Kecamatan Alak Baru", False)


def test_a_chain_of_parents_may_not_come_back(session: Session) -> None:
    make_unit(session, "a")
    admin = _actor(session, "admin", Role.admin, [])
    result = import_units(session, b"code,name,parent_code\nb,B,a\na,A,b\nc,C,c\n", actor=admin)
    keys = [[r.key for r in row.reasons] for row in result.rows]
    assert keys == [["parent_cycle"], ["parent_cycle"], ["parent_self"]]


def test_only_admins_import_units(session: Session) -> None:
    unit = make_unit(session, "dukcapil")
    spv = _actor(session, "spv", Role.supervisor, [unit])
    with pytest.raises(Forbidden):
        import_units(session, b"code,name\nx,X\n", actor=spv)


def test_a_supervisor_imports_services_of_their_own_units_only(session: Session) -> None:
    mine, theirs = make_unit(session, "dukcapil"), make_unit(session, "dinkes")
    make_service(session, mine, "KTP-el")
    spv = _actor(session, "spv", Role.supervisor, [mine])
    raw = (
        b"unit_code,name,active\n"
        b"dukcapil,KTP-el,tidak\n"  # known: deactivated
        b"dukcapil,Kartu Keluarga,\n"  # new
        b"dinkes,Puskesmas,\n"  # not theirs
        b"dukcapil,Kartu Keluarga,ya\n"  # twice
        b"dukcapil,Akta,mungkin\n"  # an unknown word
    )
    result = import_services(session, raw, actor=spv)
    assert [(r.line, r.action) for r in result.rows] == [
        (2, "update"), (3, "create"), (4, "error"), (5, "error"), (6, "error"),
    ]  # fmt: skip
    assert [r.key for r in result.rows[2].reasons] == ["not_yours"]
    assert [r.key for r in result.rows[3].reasons] == ["service_repeated"]
    assert [r.key for r in result.rows[4].reasons] == ["active_word"]
    assert not result.written
    fixed = b"unit_code,name,active\ndukcapil,KTP-el,tidak\ndukcapil,Kartu Keluarga,\n"
    assert import_services(session, fixed, actor=spv).written
    session.commit()
    services = session.exec(select(Service.name, Service.active).order_by(Service.name)).all()
    assert [(n, a) for n, a in services] == [("KTP-el", False), ("Kartu Keluarga", True)]
    assert theirs.id is not None


def test_a_file_without_its_columns_is_refused_whole(session: Session) -> None:
    admin = _actor(session, "admin", Role.admin, [])
    result = import_units(session, b"kode_opd,nama_opd\nx,X\n", actor=admin)
    assert [(r.key, r.params) for r in result.file_errors] == [
        ("column_missing", {"columns": "code, name"})
    ]
    assert import_services(session, b"\xff", actor=admin).file_errors[0].key == "not_utf8"
