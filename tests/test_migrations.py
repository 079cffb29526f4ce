"""Migrations build the schema on an empty database, and match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from core.db import make_engine
from core.migrate import is_at_head, upgrade


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
