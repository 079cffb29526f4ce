"""Migrations build the schema on an empty database, and match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from core.shared.db import make_engine
from core.shared.migrate import is_at_head, upgrade


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
