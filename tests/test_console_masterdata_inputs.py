"""The master-data and digest pages answer every odd input with a page that says what is wrong
(400), or that the thing is not there / not theirs (404 / 403): never a 500. And each page
reads in both languages."""

from __future__ import annotations

import base64
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from core.masterdata.models import Officer, Service, Unit
from core.people.models import AppUser, Role
from core.policies import build
from core.shared.config import Settings
from tests.contacts import link_telegram
from tests.factories import (
    PASSWORD,
    make_officer,
    make_service,
    make_unit,
    make_user,
    record_running_bot,
)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> TestClient:
    with Session(engine, expire_on_commit=False) as s:
        a, b = make_unit(s, "unit-a", "Unit A"), make_unit(s, "unit-b", "Unit B")
        make_service(s, a, "Loket A")
        make_service(s, b, "Loket B")
        make_officer(s, a, "Petugas A")
        make_officer(s, b, "Petugas B")
        make_user(s, "admin", Role.admin)
        make_user(s, "spv-a", Role.supervisor, [a])
        make_user(s, "head-a", Role.unit_head, [a])
        make_user(s, "viewer-a", Role.viewer, [a])
        record_running_bot(s)
        s.commit()
    return TestClient(create_site(build(settings, engine)))


def _log_in(client: TestClient, username: str, lang: str = "id") -> str:
    client.cookies.clear()
    form = client.get("/staff/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    r = client.post(
        "/staff/login",
        data={"username": username, "password": PASSWORD, "csrf": csrf.group(1), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get("/staff/units" if username != "head-a" else "/staff/digests").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token is not None
    if lang == "en":
        client.post("/staff/language", data={"csrf": token.group(1), "lang": "en", "next": "/"})
    return token.group(1)


def _ids(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            "service_b": s.exec(select(Service.id).where(Service.name == "Loket B")).one() or 0,
            "officer_b": s.exec(select(Officer.id).where(Officer.name == "Petugas B")).one() or 0,
            "service_a": s.exec(select(Service.id).where(Service.name == "Loket A")).one() or 0,
        }


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_page_reads_in_both_languages(client: TestClient, lang: str) -> None:
    _log_in(client, "admin", lang)
    for path in (
        "/staff/units", "/staff/units?q=unit", "/staff/units/unit-a", "/staff/officers/import",
        "/staff/digests", "/staff/digests?unit=unit-b&week=2026-W40",
    ):  # fmt: skip
        r = client.get(path)
        assert r.status_code == 200, path
        assert ("Unit &amp; petugas" if lang == "id" else "Units &amp; officers") in r.text
    assert client.get("/staff/units/unit-a/qr.svg").status_code == 200


def test_odd_inputs_are_answered_never_with_a_500(client: TestClient, engine: Engine) -> None:
    csrf = _log_in(client, "spv-a")
    ids = _ids(engine)
    gets = {
        "/staff/units/unit-b": 404,  # not theirs: as if it did not exist
        "/staff/units/nope": 404,
        "/staff/units/UNIT-A": 400,
        "/staff/units/unit-a?edit_officer=99999999999": 400,
        "/staff/units/unit-a/qr.gif": 400,
        "/staff/units/unit-a/qr.png?service=99999": 404,
        f"/staff/units/unit-a/qr.png?service={ids['service_b']}": 404,
        "/staff/units/unit-a/qr.png?officer=NOT-A-CODE": 400,
        "/staff/units/unit-b/qr-sheet.pdf": 404,
        "/staff/digests": 403,  # a supervisor receives no digest
        "/staff/officers/import?created=abc": 400,
    }
    for path, status in gets.items():
        assert client.get(path).status_code == status, path
    posts: list[tuple[str, dict[str, str], int]] = [
        ("/staff/units", {"csrf": csrf, "code": "x", "name": "X"}, 403),
        ("/staff/units/unit-a", {"code": "x"}, 403),  # no CSRF token
        ("/staff/units/unit-a", {"csrf": csrf, "active": "0"}, 403),  # admins only
        ("/staff/units/unit-a", {"csrf": csrf, "name": "A", "population": "-5"}, 400),
        ("/staff/units/unit-a", {"csrf": csrf, "name": "A", "population": "400000000"}, 400),
        ("/staff/units/unit-a", {"csrf": csrf, "name": "   ", "population": ""}, 400),
        ("/staff/units/unit-a/services", {"csrf": csrf, "name": "Loket A"}, 400),  # taken
        ("/staff/units/unit-a/services", {"csrf": csrf, "name": "\x00"}, 400),
        ("/staff/units/unit-b/services", {"csrf": csrf, "name": "Baru"}, 404),
        (f"/staff/services/{ids['service_b']}", {"csrf": csrf, "name": "X"}, 404),
        ("/staff/services/0", {"csrf": csrf, "name": "X"}, 400),
        ("/staff/services/99999999999", {"csrf": csrf, "name": "X"}, 400),
        (f"/staff/officers/{ids['officer_b']}", {"csrf": csrf, "active": "0"}, 404),
        ("/staff/units/unit-a/officers", {"csrf": csrf, "nip": "123", "name": "X"}, 400),
        ("/staff/officers/import", {"csrf": csrf, "payload": "%%%"}, 400),
        ("/staff/officers/import", {"csrf": csrf, "payload": ""}, 400),
        ("/staff/digests/send", {"csrf": csrf, "unit": "unit-a", "week": "2026-W48"}, 403),
    ]
    for path, form, status in posts:
        r = client.post(path, data=form, follow_redirects=False)
        assert r.status_code == status, (path, form, r.status_code)
    r = client.post(
        "/staff/units/unit-a/officers",
        data={"csrf": csrf, "nip": "198504122010033001", "name": "X"},
    )
    assert r.status_code == 400 and "Angka ke-15 NIP" in r.text
    r = client.post(
        "/staff/officers/import/check", data={"csrf": csrf}, files={"file": ("a.csv", b"")}
    )
    assert r.status_code == 400 and "Pilih berkas CSV" in r.text
    with Session(engine) as s:
        assert s.exec(select(Unit).where(Unit.code == "x")).first() is None


def test_a_unit_head_and_an_admin_on_the_digest_page(client: TestClient, engine: Engine) -> None:
    csrf = _log_in(client, "head-a")
    assert client.get("/staff/digests?unit=unit-b").status_code == 404
    assert client.get("/staff/digests?week=2026-W99").status_code == 400
    assert client.get("/staff/digests?week=minggu").status_code == 400
    assert client.get("/staff/digests/unit-a/2026-W60/chart.png").status_code == 400
    page = client.get("/staff/digests?week=2026-W40")
    assert page.status_code == 200 and "Kirim sekarang" not in page.text
    send = {"csrf": csrf, "unit": "unit-a", "week": "2026-W40"}
    assert client.post("/staff/digests/send", data=send).status_code == 403
    assert client.get("/staff/units").status_code == 403
    csrf = _log_in(client, "admin")
    send["csrf"] = csrf
    nobody = client.post("/staff/digests/send", data=send)  # head-a has not linked Telegram
    assert nobody.status_code == 409 and "belum memiliki kepala unit yang terhubung" in nobody.text
    with Session(engine) as s:
        link_telegram(s, s.exec(select(AppUser).where(AppUser.username == "head-a")).one(), 8804)
        s.commit()
    assert client.post("/staff/digests/send", data=send, follow_redirects=False).status_code == 303
    assert client.post("/staff/digests/send", data=send).status_code == 409
    bad = {**send, "week": "2026-W60"}
    assert client.post("/staff/digests/send", data=bad).status_code == 400


def test_an_admin_edits_an_officer_and_moves_them_to_another_unit(
    client: TestClient, engine: Engine
) -> None:
    csrf = _log_in(client, "admin")
    with Session(engine) as s:
        officer = s.exec(select(Officer).where(Officer.name == "Petugas A")).one()
        b = s.exec(select(Unit).where(Unit.code == "unit-b")).one()
    page = client.get(f"/staff/units/unit-a?edit_officer={officer.id}")
    assert 'id="edit-officer-unit"' in page.text
    form = {
        "csrf": csrf, "name": "Petugas A Baru", "position": "Analis", "unit_code": "unit-b",
        "active": "1",
    }  # fmt: skip
    r = client.post(f"/staff/officers/{officer.id}", data=form, follow_redirects=False)
    assert r.status_code == 303
    with Session(engine) as s:
        moved = s.get_one(Officer, officer.id)
        assert (moved.name, moved.position, moved.unit_id, moved.active) == (
            "Petugas A Baru", "Analis", b.id, True,
        )  # fmt: skip
    off = {"csrf": csrf, "active": "0"}
    assert client.post(f"/staff/officers/{officer.id}", data=off).status_code == 200
    with Session(engine) as s:
        assert s.get_one(Officer, officer.id).active is False


def test_units_and_services_come_from_csv_after_a_dry_run(
    client: TestClient, engine: Engine
) -> None:
    csrf = _log_in(client, "admin")
    assert client.get("/staff/units-import").status_code == 200
    units = (
        b"code,name,parent_code\nkec-alak,Kecamatan Alak,\nkel-penkase,Kelurahan Penkase,kec-alak\n"
    )
    r = client.post(
        "/staff/units-import/check",
        data={"csrf": csrf, "kind": "units"},
        files={"file": ("u.csv", units)},
    )
    assert r.status_code == 200 and "Semua 2 baris benar" in r.text
    with Session(engine) as s:
        assert s.exec(select(Unit).where(Unit.code == "kec-alak")).first() is None
    payload = re.search(r'name="payload" value="([^"]+)"', r.text)
    assert payload is not None
    form = {"csrf": csrf, "kind": "units", "payload": payload.group(1)}
    r = client.post("/staff/units-import", data=form)
    assert r.status_code == 200 and "Impor unit selesai: 2 unit baru" in r.text
    with Session(engine) as s:
        alak = s.exec(select(Unit).where(Unit.code == "kec-alak")).one()
        penkase = s.exec(select(Unit).where(Unit.code == "kel-penkase")).one()
        assert penkase.parent_id == alak.id

    csrf = _log_in(client, "spv-a")
    page = client.get("/staff/units-import")
    assert page.status_code == 200 and 'id="units-file"' not in page.text
    bad = b"unit_code,name\nunit-a,Legalisir\nunit-b,Lain\n"
    files = {"file": ("s.csv", bad)}
    r = client.post(
        "/staff/units-import/check", data={"csrf": csrf, "kind": "services"}, files=files
    )
    assert r.status_code == 200 and "1 dari 2 baris bermasalah" in r.text
    assert 'name="payload"' not in r.text
    files = {"file": ("u.csv", units)}
    r = client.post("/staff/units-import/check", data={"csrf": csrf, "kind": "units"}, files=files)
    assert r.status_code == 403
    r = client.post("/staff/units-import/check", data={"csrf": csrf, "kind": "x"}, files=files)
    assert r.status_code == 400
    forged = base64.b64encode(bad).decode()
    r = client.post(
        "/staff/units-import", data={"csrf": csrf, "kind": "services", "payload": forged}
    )
    assert r.status_code == 400 and "Ditolak" in r.text
    with Session(engine) as s:
        assert s.exec(select(Service).where(Service.name == "Legalisir")).first() is None
