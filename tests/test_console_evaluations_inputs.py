"""The evaluation pages answer bad input with the page and a clear message (400), refusals
with their reason, and never a 500 (issue 13's rule for every console form); a read-only
user's forged posts are refused by the server, not only hidden."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from core.access import Actor
from core.evaluations import service as ev
from core.evaluations.models import EvaluationPeriod, OfficerEvaluation
from core.people.models import Role
from core.policies import build
from core.shared.config import Settings
from tests.factories import PASSWORD, make_officer, make_unit, make_user

NOV = date(2026, 11, 1)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        make_unit(s, "dinkes", "Dinas Kesehatan")
        make_officer(s, unit, "Yohanes Ndun", nip="198504122010031001")
        spv = make_user(s, "spv", Role.supervisor, [unit])
        make_user(s, "head", Role.unit_head, [unit])
        actor = Actor(spv.id or 0, "spv", Role.supervisor, frozenset({unit.id or 0}))
        period = ev.create_period(s, "monthly", NOV, ["dukcapil"], actor=actor)
        policies = build(settings, engine)
        ev.compute_period(s, period, policies.evaluations, settings.tz, actor=actor)
        s.commit()
    with TestClient(create_site(build(settings, engine))) as c:
        yield c


def _log_in(client: TestClient, username: str) -> str:
    client.cookies.clear()
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/login").text)
    assert found is not None
    r = client.post(
        "/staff/login",
        data={"username": username, "password": PASSWORD, "csrf": found.group(1), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/staff/evaluations").text)
    assert token is not None
    return token.group(1)


def _period_id(engine: Engine) -> int:
    with Session(engine) as s:
        return s.exec(select(EvaluationPeriod.id)).one() or 0


def test_bad_input_answers_the_page_with_the_reason(client: TestClient, engine: Engine) -> None:
    csrf = _log_in(client, "spv")
    pid = _period_id(engine)
    cases = [
        ({"kind": "weekly", "start": "2026-11-01", "units": "dukcapil"}, "jenis periode"),
        ({"kind": "monthly", "start": "1 Nov", "units": "dukcapil"}, "Tanggal mulai tidak valid"),
        ({"kind": "monthly", "start": "2026-11-01"}, "sedikitnya satu unit"),
        ({"kind": "quarterly", "start": "2026-11-01", "units": "dukcapil"}, "1 Oktober"),
        ({"kind": "monthly", "start": "9999-99-99", "units": "dukcapil"}, "tidak valid"),
    ]
    for data, words in cases:
        r = client.post("/staff/evaluations", data={"csrf": csrf, **data})
        assert r.status_code == 400, (data, r.status_code)
        assert words in r.text, data
    # Another unit's code answers as an unknown one.
    r = client.post(
        "/staff/evaluations",
        data={"csrf": csrf, "kind": "monthly", "start": "2026-11-01", "units": "dinkes"},
    )
    assert r.status_code in (400, 404) and "Internal" not in r.text

    decide = f"/staff/evaluations/{pid}/officers"
    with Session(engine) as s:
        eid = s.exec(select(OfficerEvaluation.id)).one()
    r = client.post(f"{decide}/{eid}", data={"csrf": csrf, "behaviour": "excellent"})
    assert r.status_code == 400 and "Pilih tingkat dari daftar" in r.text
    r = client.post(f"{decide}/{eid}", data={"csrf": csrf})
    assert r.status_code == 400 and "Pilih keputusan" in r.text
    r = client.post(f"{decide}/{eid}", data={"csrf": csrf, "behaviour": "below"})
    assert r.status_code == 400 and "tuliskan alasannya" in r.text
    for bad in ("x", "0", "99999999999", "424242"):
        r = client.post(f"{decide}/{bad}", data={"csrf": csrf, "results": "meets"})
        assert r.status_code == 404, bad
    r = client.post(f"/staff/evaluations/{pid}/results", data={"csrf": csrf})
    assert r.status_code == 400 and "Pilih berkas CSV" in r.text
    r = client.post(
        f"/staff/evaluations/{pid}/results",
        data={"csrf": csrf},
        files={"file": ("hasil.csv", b"\xff\xfe\x00bad", "text/csv")},
    )
    assert r.status_code == 400 and "CSV UTF-8" in r.text
    r = client.post(
        f"/staff/evaluations/{pid}/results",
        data={"csrf": csrf},
        files={"file": ("hasil.csv", b"nama,nilai\nA,B\n", "text/csv")},
    )
    assert r.status_code == 400 and "kolom wajib tidak ada" in r.text
    # Finalizing before November is over: a supervisor is told only an admin may.
    r = client.post(f"/staff/evaluations/{pid}/finalize", data={"csrf": csrf, "early_reason": "x"})
    assert r.status_code in (400, 409)
    assert "Hanya administrator" in r.text or "tanpa keputusan" in r.text
    assert client.get(f"/staff/evaluations/{pid}?done=bogus").status_code == 400
    assert client.get(f"/staff/evaluations/{pid}/export.xlsx").status_code == 409
    # Without the form's CSRF token nothing happens.
    r = client.post(f"/staff/evaluations/{pid}/compute", data={}, follow_redirects=False)
    assert r.status_code != 303


def test_a_unit_head_reads_but_every_change_is_refused(client: TestClient, engine: Engine) -> None:
    csrf = _log_in(client, "head")
    pid = _period_id(engine)
    page = client.get(f"/staff/evaluations/{pid}")
    assert page.status_code == 200 and "Yohanes Ndun" in page.text
    assert "eval-suggestion" not in page.text and "Buat periode" not in page.text
    for path, data in (
        ("/staff/evaluations", {"kind": "monthly", "start": "2026-12-01", "units": "dukcapil"}),
        (f"/staff/evaluations/{pid}/compute", {}),
        (f"/staff/evaluations/{pid}/finalize", {"early_reason": "x"}),
    ):
        r = client.post(path, data={"csrf": csrf, **data}, follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
    assert client.get(f"/staff/evaluations/{pid}/finalize").status_code == 403
