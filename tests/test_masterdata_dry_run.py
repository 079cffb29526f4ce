"""The officer import's dry run (every row's result, each refusal as a rule the console can
say in Indonesian, nothing written) and who may preview a unit's digest.

NIP rules: core.masterdata.nip (Peraturan Kepala BKN 22/2007 for PNS numbers, PP 49/2018
for PPPK); every refusal it can give maps to a catalog key, none to the generic "other"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from core.access import actor_for
from core.digests.figures import IsoWeek
from core.digests.preview import (
    may_preview_digest,
    may_send_digest,
    preview_digest,
    previewable_units,
)
from core.masterdata.dry_run import explain, preview_officer_import
from core.masterdata.models import Officer
from core.masterdata.nip import InvalidNip, validate_nip
from core.people.models import Role
from core.shared.errors import Forbidden, NotFound
from tests.factories import make_officer, make_unit, make_user

TODAY = date(2026, 11, 30)
WITA = ZoneInfo("Asia/Makassar")


@pytest.mark.parametrize(
    ("nip", "key", "params"),
    [
        ("19850412201003100a", "nip_digits", {}),
        ("12345", "nip_length", {"n": "5"}),
        ("198513122010031001", "nip_birth_date", {"digits": "19851312"}),
        ("189001012010031001", "nip_birth_date", {"digits": "18900101"}),
        ("202712012010031001", "nip_birth_future", {"born": "2027-12-01"}),
        ("198504122010033001", "nip_sex", {"digit": "3"}),
        ("198504122010031000", "nip_sequence", {}),
        ("198504122010001001", "nip_code_zero", {}),
        ("198504122027031001", "nip_tmt_future", {"tmt": "2027-03"}),
        ("198504120000031001", "nip_tmt_invalid", {}),
        ("198504121985011001", "nip_tmt_before_birth", {"tmt": "1985-01", "born": "1985-04-12"}),
        ("198504122000011001", "nip_pns_too_young", {"tmt": "2000-01", "age": "14", "limit": "18"}),
        ("194001012005011001", "nip_pns_too_old", {"tmt": "2005-01", "age": "65", "limit": "57"}),
        ("198504122010211001", "nip_pppk_before", {"year": "2010", "first": "2019"}),
        ("198504122027211001", "nip_pppk_future", {"year": "2027"}),
        ("200501012024211001", "nip_pppk_too_young",
         {"born": "2005-01-01", "year": "2024", "limit": "20"}),
        ("195001012020211001", "nip_pppk_too_old",
         {"born": "1950-01-01", "year": "2020", "limit": "64"}),
    ],
)  # fmt: skip
def test_every_nip_refusal_has_its_own_key(nip: str, key: str, params: dict[str, str]) -> None:
    with pytest.raises(InvalidNip) as refused:
        validate_nip(nip, today=TODAY)
    reason = explain("nip", str(refused.value))
    assert (reason.key, reason.params) == (key, params)


def test_an_unknown_reason_is_kept_word_for_word() -> None:
    reason = explain("name", "something new")
    assert (reason.key, reason.params) == ("other", {"detail": "something new"})


def _count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Officer)).one())


def test_the_dry_run_shows_every_row_and_writes_nothing(session: Session) -> None:
    unit = make_unit(session, "dukcapil")
    other = make_unit(session, "dinkes")
    make_officer(session, unit, "Lama", nip="198504122010031001")
    spv = make_user(session, "spv", Role.supervisor, [unit])
    session.commit()
    actor = actor_for(session, spv.id or 0)
    assert actor is not None
    before = _count(session)
    raw = (
        "nip;name;unit_code\n"
        "198504122010031001;Lama Baru;dukcapil\n"  # known NIP: updated
        "199001012015032002;Fransiska Lake;dukcapil\n"  # new
        "199203152019033005;Yosef Manek;dukcapil\n"  # digit 15 is 3
        f"199101012016031003;Di Luar;{other.code}\n"  # not one of the supervisor's units
        "199001012015032002;Dua Kali;dukcapil\n"  # the same NIP as row 3
    ).encode()
    preview = preview_officer_import(session, raw, actor=actor)
    assert [(r.line, r.action) for r in preview.rows] == [
        (2, "update"), (3, "create"), (4, "error"), (5, "error"), (6, "error"),
    ]  # fmt: skip
    assert [r.key for r in preview.rows[2].reasons] == ["nip_sex"]
    assert [r.key for r in preview.rows[3].reasons] == ["not_yours"]
    assert preview.rows[4].reasons[0].key == "nip_repeated"
    assert preview.rows[4].reasons[0].params == {"row": "3"}
    assert not preview.ok and preview.bad_rows == 3
    session.commit()
    assert _count(session) == before

    fixed = (
        b"nip,name,unit_code\n"
        b"198504122010031001,Lama Baru,dukcapil\n"
        b"199001012015032002,F,dukcapil\n"
    )
    preview = preview_officer_import(session, fixed, actor=actor)
    assert preview.ok and (preview.created, preview.updated) == (1, 1)
    session.commit()
    assert _count(session) == before
    assert (
        session.exec(select(Officer.name).where(Officer.nip == "198504122010031001")).one()
        == "Lama"
    )


def test_a_file_without_a_required_column_is_refused_as_a_whole(session: Session) -> None:
    unit = make_unit(session, "dukcapil")
    admin = make_user(session, "admin", Role.admin)
    session.commit()
    actor = actor_for(session, admin.id or 0)
    assert actor is not None and unit.id
    preview = preview_officer_import(session, b"nip,name\n1,2\n", actor=actor)
    assert [(r.key, r.params) for r in preview.file_errors] == [
        ("column_missing", {"columns": "unit_code"})
    ]
    assert preview.rows == [] and not preview.ok
    assert (
        preview_officer_import(session, b"\xff\xfe", actor=actor).file_errors[0].key == "not_utf8"
    )


def test_unit_heads_preview_their_own_units_digest_admins_any(session: Session) -> None:
    mine = make_unit(session, "dukcapil", "Dukcapil")
    theirs = make_unit(session, "dinkes", "Dinkes")
    users = {
        "kadis": make_user(session, "kadis", Role.unit_head, [mine]),
        "spv": make_user(session, "spv", Role.supervisor, [mine]),
        "admin": make_user(session, "admin", Role.admin),
    }
    session.commit()
    actors = {name: actor_for(session, u.id or 0) for name, u in users.items()}
    kadis, spv, admin = actors["kadis"], actors["spv"], actors["admin"]
    assert kadis is not None and spv is not None and admin is not None
    week = IsoWeek(2026, 47)
    now = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)

    def preview(code: str, actor: object) -> str:
        unit, data = preview_digest(
            session,
            code,
            week,
            WITA,
            1000,
            actor=actor,
            now=now,
            min_responses=10,  # type: ignore[arg-type]
        )
        return f"{unit.code} {data.week}"

    assert preview("dukcapil", kadis) == "dukcapil 2026-W47"
    with pytest.raises(NotFound):
        preview("dinkes", kadis)
    with pytest.raises(Forbidden):
        preview("dukcapil", spv)
    assert preview("dinkes", admin) == "dinkes 2026-W47"
    assert [u.code for u in previewable_units(session, actor=kadis)] == ["dukcapil"]
    assert [u.code for u in previewable_units(session, actor=admin)] == ["dinkes", "dukcapil"]
    assert previewable_units(session, actor=spv) == []
    assert may_preview_digest(actor=kadis, unit_id=mine.id)
    assert not may_send_digest(actor=kadis, unit_id=mine.id)
    assert may_send_digest(actor=admin, unit_id=theirs.id)
    assert not may_preview_digest(actor=spv, unit_id=mine.id)
