"""Migration 0015 adds the office's closed days (one standing entry per day, removed ones
kept beside it) and takes them away again."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from core.shared.db import make_engine
from core.shared.migrate import downgrade, upgrade

NOW = datetime(2026, 11, 30, 8, 0)
INSERT = text(
    "INSERT INTO closed_day (day, description, created_at, removed_at) "
    "VALUES (:day, :description, :now, :removed)"
)


def test_closed_days_come_and_go_with_0015(fresh_db_url: str) -> None:
    upgrade(fresh_db_url, "0014")
    engine = make_engine(fresh_db_url)
    assert "closed_day" not in inspect(engine).get_table_names()
    upgrade(fresh_db_url, "0015")
    inspector = inspect(engine)
    assert "closed_day" in inspector.get_table_names()
    day = date(2026, 12, 2)
    with engine.begin() as conn:
        conn.execute(INSERT, {"day": day, "description": "Dibuka lagi", "now": NOW, "removed": NOW})
        conn.execute(INSERT, {"day": day, "description": "Libur", "now": NOW, "removed": None})
    with pytest.raises(IntegrityError), engine.begin() as conn:  # one standing entry per day
        conn.execute(INSERT, {"day": day, "description": "Lagi", "now": NOW, "removed": None})
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT description FROM closed_day ORDER BY id")).all()
    assert [r[0] for r in rows] == ["Dibuka lagi", "Libur"]
    engine.dispose()
    downgrade(fresh_db_url, "0014")
    engine = make_engine(fresh_db_url)
    assert "closed_day" not in inspect(engine).get_table_names()
    engine.dispose()
    upgrade(fresh_db_url)
