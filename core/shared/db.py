"""Engine and session factory. SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from core.shared.files import create_private_file, make_private_dirs

SQLITE_BUSY_TIMEOUT_MS = 10_000
# FastAPI runs sync routes on up to 40 threads: the pool must be able to serve them all,
# or requests queue for a connection and time out under load (found by bench/load_bench.py).
POOL_SIZE = 10
MAX_OVERFLOW = 40


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # The driver must not open transactions by itself: SQLAlchemy emits BEGIN (below), so
    # that SAVEPOINTs work and a writer can ask for BEGIN IMMEDIATE.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _create_private_database(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by this user only, before SQLite
    creates it with the umask's mode; SQLite gives its -wal and -shm files the same mode."""
    if str(path).startswith("file:"):  # a URI filename: SQLite opens it as it is told
        return
    make_private_dirs(path.parent)
    create_private_file(path)


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        pool: dict[str, Any] = {}
        if database and database != ":memory:":
            _create_private_database(Path(database))
            pool = {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW}
        engine = create_engine(
            url,
            # Errors name the statement, never its values (a message's text, a number).
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": 10},
            **{**pool, **kwargs},
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        hide_parameters=True,
        **{"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW, **kwargs},
    )


WRITE_OPTION = "asn_feedback_writes"


def _on_sqlite_begin(conn: Any) -> None:
    """A transaction that will write takes the write lock at BEGIN (IMMEDIATE).

    In WAL mode a transaction that read first and then writes fails at once with "database
    is locked" (SQLITE_BUSY_SNAPSHOT, no busy wait) when another writer committed after its
    read began; taking the lock first makes it wait its turn instead."""
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The engine for a unit of work that will write (see `_on_sqlite_begin`)."""
    return engine.execution_options(**{WRITE_OPTION: True})


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on error.

    `write=True` for a unit of work that will write: on SQLite it starts with the write
    lock (see `_on_sqlite_begin`); elsewhere it changes nothing."""
    bind = writer(engine) if write else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
