"""Migration 0014 gives the survey responses of a 0013 database their respondent keys, so
the officer scores' caps hold for them after an erasure; and goes back down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session

from core.people.citizens import erase_citizen, get_citizen
from core.people.models import Channel
from core.shared.config import get_settings
from core.shared.db import make_engine
from core.shared.migrate import downgrade, upgrade
from core.surveys.officer_scores import ScorePolicy, officer_scores, unit_priors
from core.surveys.respondents import respondent_key

NOW = datetime(2026, 11, 2, 2, 0)
LO = datetime(2026, 10, 31, 16, tzinfo=UTC)
HI = datetime(2026, 11, 30, 16, tzinfo=UTC)


def _seed_0013(url: str) -> None:
    """Ani (Telegram 5001) rated officer 1 four times on one day (through four services),
    Budi (whose only contact is on WhatsApp) once over Telegram, and one response lost its
    citizen to an erasure before 0014."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO unit (id, code, name, active, created_at)"
                " VALUES (1, 'u', 'U', true, :t)"
            ),
            {"t": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO officer (id, nip, name, position, unit_id, active, public_code,"
                " created_at) VALUES (1, '198504122010031001', 'Yohanes', '', 1, true, 'c1', :t)"
            ),
            {"t": NOW},
        )
        for citizen_id in (1, 2):
            conn.execute(
                text("INSERT INTO citizen (id, language, created_at) VALUES (:id, 'id', :t)"),
                {"id": citizen_id, "t": NOW},
            )
        conn.execute(
            text(
                "INSERT INTO contact (channel, address, citizen_id, created_at) VALUES"
                " ('telegram', '5001', 1, :t), ('whatsapp', '+62811', 2, :t)"
            ),
            {"t": NOW},
        )
        rows: list[tuple[int | None, int]] = [(1, 4), (1, 4), (1, 4), (1, 4), (2, 2), (None, 1)]
        for i, (cid, q) in enumerate(rows, start=1):
            conn.execute(
                text(
                    "INSERT INTO survey_response (id, unit_id, officer_id, citizen_id, q1, q2,"
                    " q3, q4, q5, q6, q7, q8, q9, channel, local_date, created_at) VALUES"
                    " (:id, 1, 1, :cid, 3, 3, 3, 3, 3, :q, :q, 3, 3, 'telegram', :d, :t)"
                ),
                {"id": i, "cid": cid, "q": q, "d": NOW.date(), "t": NOW},
            )
    engine.dispose()


def _keys(url: str) -> dict[int, int | None]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, respondent_key FROM survey_response ORDER BY id"))
        keys = {int(r[0]): r[1] for r in rows}
    engine.dispose()
    return keys


@pytest.fixture
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The installation's own key, as `db upgrade` reads it from the environment."""
    monkeypatch.setenv("PSEUDONYM_KEY", "installation-key-" + "x" * 30)
    get_settings.cache_clear()
    yield get_settings().pseudonym_key
    monkeypatch.undo()
    get_settings.cache_clear()


def test_0014_keys_existing_responses_and_goes_back(fresh_db_url: str, pseudonym_key: str) -> None:
    secret = pseudonym_key
    upgrade(fresh_db_url, "0013")
    _seed_0013(fresh_db_url)
    upgrade(fresh_db_url, "0014")

    ani = respondent_key(secret, "telegram:5001")  # as submission computes it today
    budi = respondent_key(secret, "citizen:2")  # no Telegram contact: the citizen row
    assert _keys(fresh_db_url) == {1: ani, 2: ani, 3: ani, 4: ani, 5: budi, 6: None}

    upgrade(fresh_db_url)  # today's erasure runs on today's schema (it forgets demo markers)
    engine = make_engine(fresh_db_url)
    policy = ScorePolicy(prior_weight=10, citizen_cap=3)
    with Session(engine) as s:
        citizen = get_citizen(s, Channel.telegram, "5001")
        assert citizen is not None
        erase_citizen(s, citizen)
        s.commit()
        # Ani's four answers count once after her erasure: Ani, Budi and the unknown one.
        score = officer_scores(s, [(1, 1)], LO, HI, policy)[1]
        assert score.n == 3 and score.raw_mean == (4 + 2 + 1) / 3
        assert unit_priors(s, [1], LO, HI, policy)[1].n == 3
    engine.dispose()

    downgrade(fresh_db_url, "0013")
    engine = make_engine(fresh_db_url)
    columns = {c["name"] for c in inspect(engine).get_columns("survey_response")}
    assert "respondent_key" not in columns and "citizen_id" in columns
    engine.dispose()
    upgrade(fresh_db_url, "0014")  # and up again: the erased answers have no key any more
    assert _keys(fresh_db_url) == {1: None, 2: None, 3: None, 4: None, 5: budi, 6: None}


def test_0014_refuses_to_key_real_answers_with_the_public_development_key(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside the tests, real answers are never keyed with the key written in the source
    (anyone could confirm who gave them): `db upgrade` says to set PSEUDONYM_KEY."""
    upgrade(fresh_db_url, "0013")
    _seed_0013(fresh_db_url)
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.delenv("PSEUDONYM_KEY", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="set PSEUDONYM_KEY"):
            upgrade(fresh_db_url, "0014")
        assert "respondent_key" not in _columns(fresh_db_url)  # nothing half done
        monkeypatch.setenv("PSEUDONYM_KEY", "k" * 40)
        get_settings.cache_clear()
        upgrade(fresh_db_url, "0014")
        assert _keys(fresh_db_url)[1] == respondent_key("k" * 40, "telegram:5001")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def _columns(url: str) -> set[str]:
    engine = make_engine(url)
    names = {c["name"] for c in inspect(engine).get_columns("survey_response")}
    engine.dispose()
    return names
