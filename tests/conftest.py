"""Test fixtures. `--db sqlite` (default) or `--db postgres`; tests using a database are
marked `db` automatically so the PostgreSQL run can select them with `-m db`."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

import core.tables  # noqa: F401  (registers tables)
from bot import build_application
from core.shared.config import Settings, load_settings
from core.shared.db import make_engine
from tests.bot_api_server import BotApiServer
from tests.botkit import BotUnderTest, FakeTelegram, ScriptedCitizen

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DB_FIXTURES = {"engine", "session", "db_url", "fresh_db_url", "settings"}
# Cheap argon2 hashes in the tests and in the processes they start (core.people.passwords); the
# tests that measure the production parameters say so.
os.environ.setdefault("ASN_FEEDBACK_CHEAP_ARGON2", "1")

# Property tests (hypothesis, schemathesis): "ci", the default, keeps `make test` fast with a
# bounded number of examples; HYPOTHESIS_PROFILE=thorough digs deeper. No deadline and no
# too-slow check: a busy machine is slow, not wrong. A failure prints the blob to replay it.
hypothesis_settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
hypothesis_settings.register_profile(
    "thorough", hypothesis_settings.get_profile("ci"), max_examples=1000
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=("sqlite", "postgres"), default="sqlite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
    # Browser tests last: Playwright's sync API keeps an event loop running in this thread
    # from its first use, and the asyncio tests after it could not start theirs.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    from tests.console_kit import CHROMIUM

    if not Path(CHROMIUM).exists():  # .ci/run installs it; a bare machine says what to do
        missing = pytest.mark.skip(reason=f"no {CHROMIUM}: apt-get install chromium")
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(missing)
    if config.getoption("--db") == "postgres":  # browser tests: SQLite, plus one smoke test
        sqlite_only = [
            item
            for item in items
            if item.get_closest_marker("browser") and not item.get_closest_marker("pg_smoke")
        ]
        if sqlite_only:
            config.hook.pytest_deselected(items=sqlite_only)
            items[:] = [item for item in items if item not in sqlite_only]


class PgDatabases:
    """Creates uniquely named databases on the test server and drops them afterwards."""

    def __init__(self, base_url: str) -> None:
        self.base = make_url(base_url)
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self) -> str:
        name = f"asnfb_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def pg_databases(db_kind: str) -> Iterator[PgDatabases | None]:
    if db_kind != "postgres":
        yield None
        return
    dbs = PgDatabases(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    yield dbs
    dbs.drop_all()


def _new_db_url(pg: PgDatabases | None, tmp: Path) -> str:
    if pg is not None:
        return pg.create()
    return f"sqlite:///{tmp / f'{uuid.uuid4().hex[:8]}.db'}"


@pytest.fixture(scope="session")
def db_url(pg_databases: PgDatabases | None, tmp_path_factory: pytest.TempPathFactory) -> str:
    return _new_db_url(pg_databases, tmp_path_factory.mktemp("db"))


@pytest.fixture
def fresh_db_url(pg_databases: PgDatabases | None, tmp_path: Path) -> str:
    """An empty database of its own (migration tests)."""
    return _new_db_url(pg_databases, tmp_path)


@pytest.fixture(scope="session")
def _schema_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(_schema_engine: Engine) -> Engine:
    """The shared test database, emptied before each test."""
    with _schema_engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
    return _schema_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def settings(db_url: str) -> Settings:
    return load_settings(
        database_url=db_url,
        environment="test",
        telegram_bot_token="123456:TEST-TOKEN",
        timezone="Asia/Makassar",
        _env_file=None,
    )


@pytest.fixture
def bot_api() -> Iterator[BotApiServer]:
    """A local HTTP server speaking the Bot API, for bots run over real HTTP."""
    server = BotApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def bot_settings(settings: Settings) -> Settings:
    """The settings `bot` runs with: a module overrides this fixture to change them."""
    return settings


@pytest.fixture
async def bot(bot_settings: Settings, engine: Engine) -> AsyncIterator[BotUnderTest]:
    """The real bot `Application`, initialized, answering through a `FakeTelegram`."""
    tg = FakeTelegram()
    app = build_application(bot_settings, engine, request=tg)
    await app.initialize()
    yield BotUnderTest(app, tg)
    await app.shutdown()


@pytest.fixture
def citizen(bot: BotUnderTest) -> Callable[[int], ScriptedCitizen]:
    """Citizens in private chats with `bot`, by their Telegram user id."""
    return bot.chat


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright launches the distribution's Chromium (tests/console_kit.py)."""
    from tests.console_kit import CHROMIUM, CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
