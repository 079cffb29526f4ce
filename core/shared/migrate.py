"""Alembic, driven from code: `asn-feedback db upgrade` and the tests use this."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate through our own engine, so SQLite gets its folder and pragmas."""
    _migrate(url, lambda cfg: command.upgrade(cfg, revision))


def downgrade(url: str, revision: str) -> None:
    _migrate(url, lambda cfg: command.downgrade(cfg, revision))


def _migrate(url: str, action: Callable[[Config], None]) -> None:
    """Run `action` in one transaction. On SQLite, foreign keys are off while it runs and
    checked before it commits (SQLite's own procedure for schema changes: a table that rows
    refer to can then be rebuilt; the pragma only takes effect outside a transaction)."""
    from core.shared.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            raw = conn.connection.dbapi_connection
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    cfg = alembic_config(url)
                    cfg.attributes["connection"] = conn
                    action(cfg)
                    if sqlite:
                        _check_foreign_keys(conn)
            finally:
                if sqlite and raw is not None:
                    raw.execute("PRAGMA foreign_keys=ON")
    finally:
        engine.dispose()


def _check_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration would break {len(broken)} foreign keys: {broken[:5]}")


def is_at_head(engine: Engine) -> bool:
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == set(script.get_heads())
