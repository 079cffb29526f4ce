"""`asn-feedback db backup` and `db restore` (app/backup.py): a backup taken while citizens'
surveys and complaints keep arriving holds every one that was acknowledged before it began,
photos included, and restores into a fresh place; a restore is refused while the service
runs on the database, over existing data without --force, and from a damaged archive. The
first two run on PostgreSQL too (`--db postgres`: pg_dump and pg_restore); without them the
commands explain what to run by hand."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import signal
import stat
import subprocess
import sys
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.cli import cli
from core.backups import read_record, status_path
from core.cases import service as svc
from core.cases.attachments import store_photo
from core.cases.models import Attachment, Case
from core.masterdata.models import Unit
from core.people.models import Channel
from core.shared.config import Settings, load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from core.surveys.models import SurveyResponse
from core.surveys.submission import SurveyDraft, submit_survey
from tests.botkit import jpeg_with_gps
from tests.conftest import PgDatabases
from tests.contacts import telegram_citizen
from tests.factories import make_unit
from tests.processes import free_port, process_env, spawn, wait_http
from tests.waiting import TIMEOUT, eventually

runner = CliRunner()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@dataclass
class Place:
    """Where one installation keeps its data: the database and the photos."""

    folder: Path
    url: str

    @property
    def database(self) -> Path:
        """The SQLite file (of a place on SQLite)."""
        database = make_url(self.url).database
        assert self.url.startswith("sqlite") and database
        return Path(database)

    @property
    def attachments(self) -> Path:
        return self.folder / "data" / "attachments"

    def settings(self) -> Settings:
        return load_settings(
            database_url=self.url,
            environment="test",
            attachments_dir=str(self.attachments),
            _env_file=None,
        )

    def env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point `asn-feedback` run in this process (CliRunner) at this place."""
        monkeypatch.chdir(self.folder)  # no stray .env is read
        monkeypatch.setenv("DATABASE_URL", self.url)
        monkeypatch.setenv("ATTACHMENTS_DIR", str(self.attachments))
        monkeypatch.setenv("ENVIRONMENT", "test")

    def ids(self) -> tuple[set[int], set[str], dict[str, str]]:
        """Survey ids, case references, and each stored photo's sha256 by its path."""
        engine = make_engine(self.url)
        try:
            with Session(engine) as s:
                surveys = set(s.exec(select(SurveyResponse.id)).all())
                cases = set(s.exec(select(Case.reference)).all())
                photos = {
                    str(a.path): str(a.sha256)
                    for a in s.exec(select(Attachment).where(col(Attachment.path).is_not(None)))
                }
        finally:
            engine.dispose()
        return {i for i in surveys if i is not None}, cases, photos


def place(tmp_path: Path, name: str, url: str | None = None) -> Place:
    """A place on SQLite, or on the database at `url`."""
    folder = tmp_path / name
    folder.mkdir()
    return Place(folder, url or f"sqlite:///{folder / 'data' / 'asn-feedback.db'}")


def another(pg_databases: PgDatabases | None, tmp_path: Path, name: str) -> Place:
    """A second place, on the database kind of this run (`--db`)."""
    return place(tmp_path, name, pg_databases.create() if pg_databases is not None else None)


def other_connections(url: str) -> int:
    """Clients connected to this PostgreSQL database besides this query (0 on SQLite)."""
    if not url.startswith("postgresql"):
        return 0
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND pid <> pg_backend_pid() "
                        "AND backend_type = 'client backend'"
                    )
                ).scalar()
                or 0
            )
    finally:
        engine.dispose()


@dataclass
class Writer:
    """Citizens answering surveys and filing complaints, through core, as fast as they can:
    each id is listed once its transaction has committed (acknowledged to the citizen)."""

    engine: Engine
    settings: Settings
    unit_id: int
    surveys: list[int] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        policy = svc.CasePolicy.from_settings(self.settings)
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                with Session(self.engine, expire_on_commit=False) as s:
                    citizen = telegram_citizen(s, 50_000 + n)
                    if n % 2:
                        response = submit_survey(
                            s,
                            SurveyDraft(unit_id=self.unit_id, answers=(3,) * 9, comment=f"#{n}"),
                            citizen_id=citizen.id,
                            tz=self.settings.tz,
                            pseudonym_key=self.settings.pseudonym_key,
                        )
                        s.commit()
                        with self.lock:
                            self.surveys.append(response.id or 0)
                    else:
                        case = svc.file_complaint(
                            s,
                            citizen,
                            svc.ComplaintDraft(
                                unit_id=self.unit_id,
                                category="lainnya",
                                description=f"Antrean loket KTP-el tidak bergerak ({n}).",
                            ),
                            policy,
                        )
                        s.commit()
                        with self.lock:
                            self.cases.append(case.reference)
        except BaseException as exc:
            self.errors.append(exc)

    def acknowledged(self) -> tuple[set[int], set[str]]:
        with self.lock:
            return set(self.surveys), set(self.cases)


def _seed(live: Place) -> tuple[int, str]:
    """A unit, and a complaint with a stored photo; the unit's id and the photo's path."""
    upgrade(live.url)
    engine = make_engine(live.url)
    settings = live.settings()
    try:
        with Session(engine, expire_on_commit=False) as s:
            unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
            case = svc.file_complaint(
                s,
                telegram_citizen(s, 7001),
                svc.ComplaintDraft(
                    unit_id=unit.id or 0,
                    category="pungli",
                    description="Diminta uang tambahan untuk mempercepat KTP-el.",
                ),
                svc.CasePolicy.from_settings(settings),
            )
            photo = Attachment(
                case_id=case.id or 0, source=Channel.telegram.value, reference="AgACphoto1"
            )
            s.add(photo)
            s.flush()
            store_photo(s, photo, jpeg_with_gps(), live.attachments, 1_000_000)
            s.commit()
            return unit.id or 0, str(photo.path)
    finally:
        engine.dispose()


def test_a_backup_taken_during_writes_restores_every_acknowledged_survey_and_case(
    fresh_db_url: str,
    pg_databases: PgDatabases | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = place(tmp_path, "live", fresh_db_url)
    unit_id, photo = _seed(live)
    engine = make_engine(live.url)
    writer = Writer(engine, live.settings(), unit_id)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        eventually(lambda: len(writer.acknowledged()[0]) >= 20, "the writer to be busy")
        surveys_before, cases_before = writer.acknowledged()
        live.env(monkeypatch)
        archive = tmp_path / "backups" / "tonight.tar.gz"
        archive.parent.mkdir()
        taken = runner.invoke(cli, ["db", "backup", str(archive)])
        surveys_after = writer.acknowledged()[0]
        eventually(
            lambda: len(writer.acknowledged()[0]) > len(surveys_after) + 5,
            "the writer to go on after the backup",
        )
    finally:
        writer.stop.set()
        thread.join(TIMEOUT)
        engine.dispose()
    assert writer.errors == []  # no write was refused while the backup ran
    assert taken.exit_code == 0, taken.output
    assert "survey responses" in taken.output and "1 photos" in taken.output
    assert mode(archive) == 0o600
    record = read_record(status_path(live.settings()))
    assert record is not None and record.path == str(archive.resolve())
    assert record.size == archive.stat().st_size and record.attachments == 1
    assert mode(status_path(live.settings())) == 0o600

    fresh = another(pg_databases, tmp_path, "fresh")
    fresh.env(monkeypatch)
    restored = runner.invoke(cli, ["db", "restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert "the database is at the latest schema" in restored.output
    surveys, cases, photos = fresh.ids()
    assert sorted(surveys_before - surveys) == []  # every survey acknowledged before it
    assert sorted(cases_before - cases) == []  # every complaint acknowledged before it
    everything = writer.acknowledged()
    assert surveys <= everything[0] and len(cases - everything[1]) == 1  # and the seeded one
    # the photo: in place, the same bytes, private
    copied = fresh.attachments / photo
    assert hashlib.sha256(copied.read_bytes()).hexdigest() == photos[photo]
    assert mode(copied) == 0o600 and mode(copied.parent) == 0o700
    if fresh.url.startswith("sqlite"):
        assert mode(fresh.database) == 0o600


def test_restore_is_refused_while_the_service_runs_then_the_restored_service_is_ready(
    fresh_db_url: str,
    pg_databases: PgDatabases | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = place(tmp_path, "live", fresh_db_url)
    _seed(live)
    live.env(monkeypatch)
    archive = tmp_path / "backup.tar.gz"
    assert runner.invoke(cli, ["db", "backup", str(archive)]).exit_code == 0

    office = another(pg_databases, tmp_path, "office")  # in use, to be replaced by the backup
    upgrade(office.url)
    port = free_port()
    env = process_env(office.url, ATTACHMENTS_DIR=str(office.attachments), JWT_SECRET="j" * 48)
    log = office.folder / "serve.log"
    serve = spawn(["serve", "--port", str(port)], env, log)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=serve)
        refused = _asn_feedback(["db", "restore", "--force", str(archive)], env)
        assert refused.returncode == 2
        assert "the service is running" in refused.stderr and "stop it first" in refused.stderr
        assert office.ids()[1] == set()  # the office's database was left alone
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(TIMEOUT)

    eventually(lambda: other_connections(office.url) == 0, "the service's connections to end")
    done = _asn_feedback(["db", "restore", "--force", str(archive)], env)
    assert done.returncode == 0, done.stderr
    assert office.ids()[1] == live.ids()[1] != set()
    serve = spawn(["serve", "--port", str(port)], env, log)
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz", proc=serve)  # the schema is current
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(TIMEOUT)


def test_the_service_does_not_start_while_a_restore_holds_the_database(tmp_path: Path) -> None:
    office = place(tmp_path, "office")
    upgrade(office.url)
    env = process_env(office.url, ATTACHMENTS_DIR=str(office.attachments), JWT_SECRET="j" * 48)
    lock = office.database.with_name(office.database.name + ".lock")
    with lock.open("a+b") as held:  # what `db restore` holds while it works
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        started = _asn_feedback(["scheduler"], env)
    assert started.returncode == 1
    assert "a restore (asn-feedback db restore) is replacing the database" in started.stderr


def _asn_feedback(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_restore_keeps_existing_data_without_force_and_refuses_a_damaged_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = place(tmp_path, "live")
    _seed(live)
    live.env(monkeypatch)
    archive = tmp_path / "backup.tar.gz"
    assert runner.invoke(cli, ["db", "backup", str(archive)]).exit_code == 0
    again = runner.invoke(cli, ["db", "backup", str(archive)])
    assert again.exit_code == 2 and "add --force to replace it" in again.output
    assert runner.invoke(cli, ["db", "backup", "--force", str(archive)]).exit_code == 0

    other = place(tmp_path, "other")
    other.env(monkeypatch)
    upgrade(other.url)
    engine = make_engine(other.url)
    with Session(engine) as s:
        make_unit(s, "dinkes", "Dinas Kesehatan")
        s.commit()
    engine.dispose()
    kept = runner.invoke(cli, ["db", "restore", str(archive)])
    assert kept.exit_code == 2 and "add --force" in kept.output
    assert other.ids()[1] == set()

    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    broken = runner.invoke(cli, ["db", "restore", "--force", str(damaged)])
    assert broken.exit_code == 2 and "not a readable backup" in broken.output
    stranger = tmp_path / "photos.tar.gz"
    with tarfile.open(stranger, "w:gz") as tar:
        tar.add(live.attachments, arcname="attachments")
    foreign = runner.invoke(cli, ["db", "restore", "--force", str(stranger)])
    assert foreign.exit_code == 2 and "not an asn-feedback backup" in foreign.output
    newer = _rewritten(archive, tmp_path / "newer.tar.gz", schema_revision="9999")
    later = runner.invoke(cli, ["db", "restore", "--force", str(newer)])
    assert later.exit_code == 2 and "newer schema (9999)" in later.output
    tampered = _rewritten(archive, tmp_path / "tampered.tar.gz", database_sha256="0" * 64)
    changed = runner.invoke(cli, ["db", "restore", "--force", str(tampered)])
    assert changed.exit_code == 2 and "does not match its checksum" in changed.output
    twice = _photo_twice(archive, tmp_path / "twice.tar.gz")
    doubled = runner.invoke(cli, ["db", "restore", "--force", str(twice)])
    assert doubled.exit_code == 2 and "cannot be unpacked" in doubled.output, doubled.output
    engine = make_engine(other.url)
    with Session(engine) as s:  # still the other office's data
        assert [u.code for u in s.exec(select(Unit)).all()] == ["dinkes"]
    engine.dispose()


def _photo_twice(archive: Path, target: Path) -> Path:
    """A copy of `archive` that holds its photo twice under one name (made by hand)."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as copy:
        photos = 0
        for member in source.getmembers():
            data = source.extractfile(member) if member.isfile() else None
            body = data.read() if data is not None else b""
            copy.addfile(member, io.BytesIO(body) if member.isfile() else None)
            if member.isfile() and member.name.startswith("attachments/"):
                copy.addfile(member, io.BytesIO(body))
                photos += 1
        assert photos, "the backup holds a photo to double"
    return target


def _rewritten(archive: Path, target: Path, **changes: str) -> Path:
    """A copy of `archive` whose manifest says otherwise."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member)
            assert data is not None
            body = data.read()
            if member.name == "manifest.json":
                body = json.dumps({**json.loads(body), **changes}).encode()
                member.size = len(body)
            copy.addfile(member, io.BytesIO(body))
    return target


def test_a_database_with_only_the_schema_is_replaced_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = place(tmp_path, "live")
    _seed(live)
    live.env(monkeypatch)
    archive = tmp_path / "backup.tar.gz"
    assert runner.invoke(cli, ["db", "backup", str(archive)]).exit_code == 0
    new_server = place(tmp_path, "new")
    upgrade(new_server.url)  # `db upgrade` first, as the install guide says: no data yet
    new_server.env(monkeypatch)
    restored = runner.invoke(cli, ["db", "restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert new_server.ids()[1] == live.ids()[1] != set()


def test_without_postgresql_client_backup_and_restore_explain_pg_dump_and_pg_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without postgresql-client
    monkeypatch.setenv("DATABASE_URL", "postgresql://asnfb:hunter2@db.internal/asnfb")
    monkeypatch.setenv("ENVIRONMENT", "test")
    for args in (["db", "backup", str(tmp_path)], ["db", "restore", str(tmp_path / "x")]):
        told = runner.invoke(cli, args)
        assert told.exit_code == 2
        assert "is not installed on this machine (apt-get install postgresql-client)" in told.output
        assert "pg_dump --format=custom" in told.output and "pg_restore" in told.output
        assert "asn-feedback db upgrade" in told.output and "/readyz" in told.output
        assert "hunter2" not in told.output  # the password is not printed
    assert list(tmp_path.iterdir()) == []
