"""Migrations build the schema on an empty database, and match the models exactly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from core.shared.db import make_engine
from core.shared.migrate import alembic_config, is_at_head, upgrade


def test_upgrade_empty_database_and_no_pending_diff(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    assert not is_at_head(engine)
    upgrade(fresh_db_url)
    assert is_at_head(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"unit", "officer", "survey_response", "conversation_state", "app_user"} <= tables
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []
    upgrade(fresh_db_url)  # running it again is harmless
    engine.dispose()


def test_upgrade_keeps_existing_rows(fresh_db_url: str) -> None:
    """A database with users at revision 0003 upgrades to head (new NOT NULL columns)."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    upgrade(fresh_db_url, "0003")
    engine = make_engine(fresh_db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO app_user (username, password_hash, role, active, created_at) "
                "VALUES ('old', '$argon2id$x', 'admin', true, :now)"
            ),
            {"now": datetime(2026, 1, 1, tzinfo=UTC)},
        )
    upgrade(fresh_db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT language FROM app_user")).scalar_one() == "id"
    engine.dispose()


# Officers' snapshots at 0008 and the reasons the code of 0008 wrote for them (id, en).
REASONS_AT_0008 = [
    (
        (12, 3.61, 3.42, 3.80, 3.20, False, 0),
        "12 tanggapan, skor 3,61 (3,42-3,80), di atas rerata unit 3,20; "
        "tidak ada pengaduan terbukti",
        "12 responses, score 3.61 (3.42-3.80), above the unit's 3.20; no substantiated complaint",
    ),
    (
        (1, 2.2049, 1.5, 3.9, 3.2, True, 1),
        "1 tanggapan (data belum cukup), skor 2,20 (1,50-3,90), di bawah rerata unit 3,20; "
        "1 pengaduan terbukti",
        "1 response (insufficient data), score 2.20 (1.50-3.90), below the unit's 3.20; "
        "1 substantiated complaint",
    ),
    (
        (3, 3.204, 2.951, 3.455, 3.2, True, 2),
        "3 tanggapan (data belum cukup), skor 3,20 (2,95-3,46), sama dengan rerata unit 3,20; "
        "2 pengaduan terbukti",
        "3 responses (insufficient data), score 3.20 (2.95-3.46), equal to the unit's 3.20; "
        "2 substantiated complaints",
    ),
    (
        (40, 2.3333333333333335, 2.1166666, 2.5499999, 3.0051, False, 5),
        "40 tanggapan, skor 2,33 (2,12-2,55), di bawah rerata unit 3,01; 5 pengaduan terbukti",
        "40 responses, score 2.33 (2.12-2.55), below the unit's 3.01; 5 substantiated complaints",
    ),
]


def test_upgrade_turns_stored_reasons_into_codes_that_read_the_same(fresh_db_url: str) -> None:
    """An evaluated period at 0008 (reasons stored as text per language) upgrades to head: each
    officer's reason is a code plus figures that render the very same text in both languages."""
    from datetime import date, datetime

    from sqlalchemy import text
    from sqlmodel import Session, col, select

    from core.access import Actor
    from core.evaluations.models import EvaluationPeriod, OfficerEvaluation
    from core.evaluations.service import evaluation_reason, evaluation_views
    from core.people.models import Role

    upgrade(fresh_db_url, "0008")
    engine = make_engine(fresh_db_url)
    now = datetime(2026, 12, 1)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO unit (id, code, name, active, created_at) "
                "VALUES (1, 'dukcapil', 'Dukcapil', true, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                'INSERT INTO evaluation_period (id, name, kind, start, "end", status, created_at) '
                "VALUES (1, '2026-Q4', 'quarterly', :start, :end, 'open', :now)"
            ),
            {"start": date(2026, 10, 1), "end": date(2026, 12, 31), "now": now},
        )
        for i, ((n, score, low, high, mean, few, sub), reason, reason_en) in enumerate(
            REASONS_AT_0008, start=1
        ):
            nip = f"19800101200501100{i}"
            conn.execute(
                text(
                    "INSERT INTO officer (id, nip, name, position, unit_id, active, public_code, "
                    "created_at) VALUES (:i, :nip, :name, 'Staf', 1, true, :code, :now)"
                ),
                {"i": i, "nip": nip, "name": f"Officer {i}", "code": f"OF{i}", "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO officer_evaluation (id, period_id, officer_id, nip, officer_name,"
                    " unit_id, survey_n, score, score_low, score_high, unit_mean, insufficient,"
                    " complaints_received, complaints_substantiated, cases_overdue,"
                    " nonconf_complaints_received, nonconf_complaints_substantiated,"
                    " nonconf_cases_overdue, suggested_level, suggestion_reason,"
                    " suggestion_reason_en, updated_at) VALUES (:i, 1, :i, :nip, :name, 1, :n,"
                    " :score, :low, :high, :mean, :few, :sub, :sub, 0, 0, 0, 0, 'meets',"
                    " :reason, :reason_en, :now)"
                ),
                {
                    "i": i,
                    "nip": nip,
                    "name": f"Officer {i}",
                    "n": n,
                    "score": score,
                    "low": low,
                    "high": high,
                    "mean": mean,
                    "few": few,
                    "sub": sub,
                    "reason": reason,
                    "reason_en": reason_en,
                    "now": now,
                },
            )
        conn.execute(  # a decision refers to an evaluation: the table is rebuilt under it
            text(
                "INSERT INTO evaluation_event (period_id, officer_evaluation_id, kind, detail,"
                " created_at) VALUES (1, 1, 'confirmed', 'above', :now)"
            ),
            {"now": now},
        )
    upgrade(fresh_db_url)
    columns = {c["name"] for c in inspect(engine).get_columns("officer_evaluation")}
    assert {"suggestion_reason_code", "suggestion_reason_params"} <= columns
    assert not {"suggestion_reason", "suggestion_reason_en"} & columns
    expected = [(reason, reason_en) for _, reason, reason_en in REASONS_AT_0008]
    with Session(engine) as session:
        rows = session.exec(select(OfficerEvaluation).order_by(col(OfficerEvaluation.id))).all()
        assert [(evaluation_reason(r, "id"), evaluation_reason(r, "en")) for r in rows] == expected
        period = session.get(EvaluationPeriod, 1)
        assert period is not None
        spv = Actor(user_id=1, username="spv", role=Role.supervisor, unit_ids=frozenset({1}))
        views = evaluation_views(session, period, actor=spv)
        assert [(v.suggestion_reason, v.suggestion_reason_en) for v in views] == expected
    with engine.begin() as conn:  # and back: the texts are written again from the figures
        cfg = alembic_config(fresh_db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT suggestion_reason, suggestion_reason_en FROM officer_evaluation ORDER BY id"
            )
        ).all()
        assert [tuple(r) for r in stored] == expected
        assert conn.execute(text("SELECT count(*) FROM evaluation_event")).scalar_one() == 1
    engine.dispose()


def test_the_inbox_indexes_go_down_and_come_back(fresh_db_url: str) -> None:
    """0016 adds the indexes the inbox's views are counted and paged from; down removes them
    and up builds them again."""
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    wanted = {"ix_cases_unit_id_status_due_at_id", "ix_cases_assignee_id_status_unit_id_due_at_id"}

    def indexes() -> set[str]:
        return {str(i["name"]) for i in inspect(engine).get_indexes("cases")}

    assert wanted <= indexes()
    with engine.begin() as conn:
        cfg = alembic_config(fresh_db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0015")
    assert not wanted & indexes()
    upgrade(fresh_db_url)
    assert wanted <= indexes() and is_at_head(engine)
    engine.dispose()


def test_postgresql_knows_how_common_a_searched_word_is(fresh_db_url: str) -> None:
    """0017 gives PostgreSQL statistics on the lowered complaint text (the inbox's search
    expression), and goes down and up again; SQLite needs none."""
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)

    def statistics() -> list[str]:
        if engine.dialect.name != "postgresql":
            return []
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT stxname FROM pg_statistic_ext"))
            return [str(name) for (name,) in rows]

    expected = ["st_cases_lower_description"] if engine.dialect.name == "postgresql" else []
    assert statistics() == expected
    with engine.begin() as conn:
        cfg = alembic_config(fresh_db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0016")
    assert statistics() == []
    upgrade(fresh_db_url)
    assert statistics() == expected and is_at_head(engine)
    engine.dispose()
