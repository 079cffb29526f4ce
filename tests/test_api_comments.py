"""Survey comments reach the unit (issue 16): through the API (a unit's comments, newest first,
paged, searchable, only for a unit the caller may see, never an identity and never a time
finer than the day) and in the weekly digest (the week's newest few, without identity)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.digests.figures import survey_digest
from core.digests.render import render_digest
from core.digests.service import IsoWeek
from core.masterdata.models import Service, Unit
from core.people.models import Role
from core.shared.config import Settings
from tests.factories import add_response, bearer, make_service, make_unit, make_user
from tests.test_digests import WITA

W46 = IsoWeek(2026, 46)  # Monday 9 - Sunday 15 November 2026
LONG = "Antrean sangat panjang dan " * 12  # 324 characters


def _comment(
    s: Session, unit: Unit, text: str, at: datetime, service: Service | None = None
) -> None:
    r = add_response(s, unit, [3] * 9, at=at, service=service, citizen_id=None)
    r.comment = text
    s.add(r)


def _office(engine: Engine) -> None:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        other = make_unit(s, "dinkes", "Dinas Kesehatan")
        ktp = make_service(s, unit, "KTP-el")
        make_user(s, "admin", Role.admin)
        make_user(s, "kadis", Role.unit_head, [unit])
        make_user(s, "kadinkes", Role.unit_head, [other])
        # 23.30 WITA on 10 November, 00.30 WITA on 11 November (both 10 November in UTC).
        _comment(
            s, unit, "Petugas ramah, terima kasih.", datetime(2026, 11, 10, 15, 30, tzinfo=UTC), ktp
        )
        _comment(s, unit, "Ruang tunggu panas.", datetime(2026, 11, 10, 16, 30, tzinfo=UTC))
        _comment(s, unit, LONG, datetime(2026, 11, 12, 2, 0, tzinfo=UTC), ktp)
        _comment(s, unit, "Antrean lama sekali.", datetime(2026, 11, 13, 2, 0, tzinfo=UTC), ktp)
        _comment(s, unit, "Minggu lalu: berkas hilang.", datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
        _comment(s, other, "Obat habis.", datetime(2026, 11, 12, 2, 0, tzinfo=UTC))
        s.commit()


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    _office(engine)
    with TestClient(create_app(settings, engine)) as c:
        yield c


def test_a_unit_head_pages_through_the_units_comments(client: TestClient) -> None:
    kadis = bearer(client, "kadis")
    url = "/scores/units/dukcapil/comments"
    first = client.get(url, params={"limit": 2}, headers=kadis)
    assert first.status_code == 200
    body = first.json()
    assert body["unit_code"] == "dukcapil"
    assert [c["text"] for c in body["comments"]] == ["Antrean lama sekali.", LONG]
    assert body["comments"][0] == {
        "day": "2026-11-13",
        "service_name": "KTP-el",
        "text": "Antrean lama sekali.",
    }
    # The position of the next page names a comment, not a time.
    assert body["next"] is not None and body["next"].isdigit()
    second = client.get(url, params={"limit": 2, "after": body["next"]}, headers=kadis).json()
    assert [(c["day"], c["text"]) for c in second["comments"]] == [
        ("2026-11-11", "Ruang tunggu panas."),  # 00.30 WITA: the local day
        ("2026-11-10", "Petugas ramah, terima kasih."),
    ]
    third = client.get(url, params={"limit": 2, "after": second["next"]}, headers=kadis).json()
    assert [c["text"] for c in third["comments"]] == ["Minggu lalu: berkas hilang."]
    assert third["next"] is None

    found = client.get(url, params={"q": "ANTREAN"}, headers=kadis).json()["comments"]
    assert [c["text"] for c in found] == ["Antrean lama sekali.", LONG]
    week = client.get(url, params={"start": "2026-11-11", "end": "2026-11-12"}, headers=kadis)
    assert [c["text"] for c in week.json()["comments"]] == [LONG, "Ruang tunggu panas."]


def test_comments_only_for_a_unit_the_caller_may_see(client: TestClient) -> None:
    other_head = bearer(client, "kadinkes")
    hidden = client.get("/scores/units/dukcapil/comments", headers=other_head)
    assert hidden.status_code == 404
    unknown = client.get("/scores/units/tidak-ada/comments", headers=other_head)
    assert unknown.json()["detail"] == hidden.json()["detail"].replace("dukcapil", "tidak-ada")
    own = client.get("/scores/units/dinkes/comments", headers=other_head).json()
    assert [c["text"] for c in own["comments"]] == ["Obat habis."]
    # A position from another unit's comments is refused, not followed.
    admin = bearer(client, "admin")
    first = client.get("/scores/units/dukcapil/comments?limit=1", headers=admin).json()
    refused = client.get(
        "/scores/units/dinkes/comments", params={"after": first["next"]}, headers=admin
    )
    assert refused.status_code == 422
    assert client.get("/scores/units/dukcapil/comments?after=x1", headers=admin).status_code == 422
    assert (
        client.get("/scores/units/dukcapil/comments?start=1900-01-01", headers=admin).status_code
        == 422
    )


def test_the_weekly_digest_quotes_the_weeks_newest_comments(engine: Engine) -> None:
    _office(engine)
    with Session(engine) as s:
        unit = s.exec(select(Unit).where(Unit.code == "dukcapil")).one()
        data = survey_digest(s, unit, W46, WITA, 1000)
    text = render_digest(data, "id")
    lines = text.splitlines()
    start = lines.index("💬 Komentar warga minggu ini (tanpa identitas):")
    cut = LONG.strip()[:199].rstrip()  # 200 characters with the ellipsis
    assert lines[start + 1 :] == [
        "• 13 Nov, KTP-el: “Antrean lama sekali.”",
        f"• 12 Nov, KTP-el: “{cut}…”",
        "• 11 Nov: “Ruang tunggu panas.”",
    ]
    assert "berkas hilang" not in text and "Obat habis" not in text  # another week, unit
    english = render_digest(data, "en")
    assert "💬 Citizens' comments this week (without identity):" in english
    assert "• 11 Nov: “Ruang tunggu panas.”" in english
