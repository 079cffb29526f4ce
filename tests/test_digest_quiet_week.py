"""A unit head's digest after a quiet week (issue 16): one line saying the week was quiet,
then the quarter's figures, so a first digest is never empty. And "send digest now" for a
unit with no linked head says so and uses nothing up: the real send later still goes out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from admin_api import create_app
from core.digests.models import DigestRun
from core.digests.service import IsoWeek, send_all_digests, send_unit_digest
from core.masterdata.models import Unit
from core.people.models import AppUser, Role
from core.shared.config import Settings
from core.shared.errors import Conflict
from tests.contacts import link_telegram, messages_to
from tests.factories import add_response, bearer, make_unit, make_user
from tests.test_digests import WITA

W46 = IsoWeek(2026, 46)  # Monday 9 - Sunday 15 November 2026; nothing happens in it
SENT_AT = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # Monday 08.00 WITA


def _quarter_responses(engine: Engine) -> None:
    """10 responses in October (this quarter), none in the digest's week."""
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Dukcapil", service_population=100)
        head = make_user(s, "kadis", Role.unit_head, [unit])
        link_telegram(s, head, 901)
        make_user(s, "admin", Role.admin)
        for i in range(10):
            answers = [3, 3, 2, 3, 3, 3, 3, 3, 4] if i % 2 else [3] * 9
            add_response(
                s, unit, answers, datetime(2026, 10, 5, 2, tzinfo=UTC) + timedelta(hours=i)
            )
        s.commit()


def test_a_quiet_week_is_one_line_then_the_quarter(engine: Engine) -> None:
    _quarter_responses(engine)
    report = send_all_digests(engine, W46, WITA, 1000, "w1", now=SENT_AT, min_responses=10)
    assert report.units == 1 and report.messages == 1  # the text, no chart of a quiet week
    with Session(engine) as s:
        [message] = messages_to(s, 901)
    text = json.loads(message.params)["text"]
    assert text.splitlines() == [
        "📊 Dinas Dukcapil, 2026-W46: tidak ada pengaduan dan survei baru minggu ini.",
        "",
        # By hand: NRR 3 for seven elements, 2.5 and 3.5 for the others: 25 x 27/9 = 75.
        "IKM kuartal ini: 75,00 (C), 10 responden dari minimal 80",
        "Unsur terendah kuartal ini: Waktu Penyelesaian (2,50), Persyaratan (3,00)",
    ]


def test_send_now_without_a_linked_head_says_so_and_uses_nothing_up(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dinkes", "Dinas Kesehatan")
        head = make_user(s, "kadinkes", Role.unit_head, [unit])  # not linked to Telegram
        s.commit()
    with pytest.raises(Conflict, match="no linked unit head") as refused:
        send_unit_digest(engine, unit.id or 0, W46, WITA, 1000, "w1", now=SENT_AT)
    assert refused.value.why == "digest.no_recipient"
    with Session(engine) as s:
        assert s.exec(select(DigestRun)).all() == []  # the week is not used up
        link_telegram(s, s.get_one(AppUser, head.id), 950)
        s.commit()
    assert send_unit_digest(engine, unit.id or 0, W46, WITA, 1000, "w1", now=SENT_AT) == 1
    with Session(engine) as s:
        assert len(messages_to(s, 950)) == 1


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with Session(engine) as s:
        unit = make_unit(s, "dinkes", "Dinas Kesehatan")
        make_user(s, "admin", Role.admin)
        make_user(s, "kadinkes", Role.unit_head, [unit])
        s.commit()
    with TestClient(create_app(settings, engine)) as c:
        yield c


def test_the_api_answers_no_linked_head_and_sends_later(client: TestClient, engine: Engine) -> None:
    admin = bearer(client, "admin")
    refused = client.post("/digests/dinkes/2026-W46/send", headers=admin)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "the unit has no linked unit head"
    assert refused.json()["reason"] == "digest.no_recipient"
    with Session(engine) as s:
        assert s.exec(select(DigestRun)).all() == []
        kadinkes = s.exec(select(AppUser).where(AppUser.username == "kadinkes")).one()
        link_telegram(s, kadinkes, 951)
        s.commit()
    sent = client.post("/digests/dinkes/2026-W46/send", headers=admin)
    assert sent.status_code == 200 and sent.json() == {"queued_messages": 1}
    with Session(engine) as s:
        assert s.exec(select(Unit.code)).all() == ["dinkes"]
        assert len(messages_to(s, 951)) == 1
