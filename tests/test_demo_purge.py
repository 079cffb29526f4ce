"""`asn-feedback demo purge`: the demo data goes, real data stays, and the purge is refused
(with nothing removed) while a real record refers to demo data. The demo officers' NIPs
tell the sex their names do."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

import core.tables  # noqa: F401  (every table, to count them all)
from app.cli import cli
from core.access import actor_for
from core.cases.intake import record_complaint
from core.cases.policy import CasePolicy, ComplaintDraft
from core.cases.sla import SlaPolicy
from core.demo import GIVEN_NAMES, seed_demo
from core.masterdata.models import DemoRecord, Officer, Unit
from core.masterdata.nip import parse_nip
from core.people.models import AppUser, Intake, Role
from core.shared.config import Settings
from core.surveys.models import SurveyResponse
from tests.factories import add_response, make_officer, make_unit, make_user

runner = CliRunner()
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, engine: Engine, db_url: str, tmp_path: Path) -> Engine:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    return engine


def _seed(engine: Engine, settings: Settings) -> None:
    with Session(engine, expire_on_commit=False) as s:
        seed_demo(s, settings.tz, surveys=80, policy=CasePolicy(sla=SlaPolicy(tz=settings.tz)),
                  now=NOW)  # fmt: skip
        s.commit()


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        counts = {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }
    return {name: n for name, n in counts.items() if n}


def test_purge_removes_the_demo_and_keeps_the_offices_own_unit(
    env: Engine, settings: Settings
) -> None:
    _seed(env, settings)
    with Session(env, expire_on_commit=False) as s:  # real data that refers to no demo row
        real = make_unit(s, "bkpsdm", "Badan Kepegawaian")
        officer = make_officer(s, real, "Maria Lado")
        add_response(s, real, [4] * 9, officer=officer)
        make_user(s, "budi", Role.supervisor, [real])
        s.commit()
    before = _counts(env)
    assert before["unit"] == 16 and before["cases"] == 40

    looked = runner.invoke(cli, ["demo", "purge", "--dry-run"])
    assert looked.exit_code == 0, looked.output
    assert "15 unit" in looked.output and "40 cases" in looked.output
    assert "nothing was removed" in looked.output and _counts(env) == before

    done = runner.invoke(cli, ["demo", "purge", "--yes"])
    assert done.exit_code == 0, done.output
    assert "the demo logins no longer work" in done.output
    assert _counts(env) == {"unit": 1, "officer": 1, "survey_response": 1, "app_user": 1,
                            "user_unit": 1, "access_audit": 1}  # fmt: skip
    with Session(env) as s:
        assert [u.code for u in s.exec(select(Unit)).scalars()] == ["bkpsdm"]
        assert s.exec(select(AppUser.username)).scalars().all() == ["budi"]  # no demo login
    again = runner.invoke(cli, ["demo", "purge", "--yes"])
    assert again.exit_code == 1 and "no demo data" in again.output


def test_purge_is_refused_while_a_real_complaint_names_a_demo_unit(
    env: Engine, settings: Settings
) -> None:
    _seed(env, settings)
    with Session(env, expire_on_commit=False) as s:
        admin = make_user(s, "budi", Role.admin)
        dukcapil = s.exec(select(Unit).where(Unit.code == "dukcapil")).scalars().one()
        assert admin.id is not None and dukcapil.id is not None
        actor = actor_for(s, admin.id)
        assert actor is not None
        case = record_complaint(
            s,
            ComplaintDraft(unit_id=dukcapil.id, category="lainnya", channel=Intake.counter,
                           description="Antrean di loket KTP-el tidak bergerak sejak pagi."),
            CasePolicy(sla=SlaPolicy(tz=settings.tz)),
            actor=actor,
            now=NOW,
        )  # fmt: skip
        s.commit()
        reference = case.reference
    before = _counts(env)

    refused = runner.invoke(cli, ["demo", "purge", "--yes"])
    assert refused.exit_code == 1
    assert "nothing was removed" in refused.output and reference in refused.output
    assert "complaints about demo units" in refused.output
    assert _counts(env) == before


def test_purge_is_refused_while_a_real_answer_or_account_uses_a_demo_unit(
    env: Engine, settings: Settings
) -> None:
    _seed(env, settings)
    with Session(env, expire_on_commit=False) as s:
        dinkes = s.exec(select(Unit).where(Unit.code == "dinkes")).scalars().one()
        add_response(s, dinkes, [3] * 9)  # a real citizen's answer (channel "test")
        make_user(s, "kapus", Role.unit_head, [dinkes])
        s.commit()
    before = _counts(env)
    refused = runner.invoke(cli, ["demo", "purge", "--yes"])
    assert refused.exit_code == 1
    assert "survey answers about demo units" in refused.output
    assert "accounts scoped to a demo unit or linked to a demo officer: kapus" in refused.output
    assert _counts(env) == before
    with Session(env) as s:
        demo_answers = s.exec(
            select(func.count()).where(SurveyResponse.channel == "demo")
        ).scalar_one()
        assert demo_answers == 80


def test_every_demo_officers_nip_tells_the_sex_of_their_name(
    session: Session, settings: Settings
) -> None:
    seed_demo(session, settings.tz, surveys=0, now=NOW)
    sex_of = dict(GIVEN_NAMES)
    officers = session.exec(select(Officer)).scalars().all()
    assert len(officers) > 30
    assert {sex for _, sex in GIVEN_NAMES} == {1, 2}
    for officer in officers:
        given = officer.name.split()[0]
        assert parse_nip(officer.nip).sex == sex_of[given], (officer.name, officer.nip)
    assert {parse_nip(o.nip).sex for o in officers} == {1, 2}  # both men and women serve


def test_demo_seeded_before_it_was_listed_is_found_and_purged(
    env: Engine, settings: Settings
) -> None:
    _seed(env, settings)
    with Session(env, expire_on_commit=False) as s:
        s.execute(DemoRecord.__table__.delete())  # type: ignore[attr-defined]
        real = make_unit(s, "bkpsdm", "Badan Kepegawaian")
        make_officer(s, real, "Yosef Tefa")
        s.commit()
    done = runner.invoke(cli, ["demo", "purge", "--yes"])
    assert done.exit_code == 0, done.output
    assert _counts(env) == {"unit": 1, "officer": 1}
