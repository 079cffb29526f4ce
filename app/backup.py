"""`asn-feedback db backup` and `db restore`: one archive with the database and the photos,
taken while the service runs, restored only while it does not.

A backup is one file, readable by its owner only (0600): a gzip'd tar holding

- `manifest.json`: format, moment (UTC), the schema revision, what it holds, checksums;
- `database.sqlite3`: the SQLite database copied with SQLite's online backup API
  (`sqlite3.Connection.backup`), in one step under one read transaction, so the copy is the
  database as it was at one moment, while the service goes on writing (WAL mode: readers and
  the writer do not wait for each other); or, on PostgreSQL, `database.pgdump`: pg_dump's
  custom format, of the very snapshot the manifest's counts are read in;
- `attachments/...`: ATTACHMENTS_DIR, read after the database: a photo is written to disk
  before its row is committed, so every photo the copied rows name is in the archive.

Each backup is recorded for the console's backup page (core/backups.py).

How we know the service runs: every long-running command (`serve`, `api`, `bot`,
`scheduler`) holds a shared lock (flock) on `<database>.lock` for its whole life, and
`db restore` takes it exclusively, without waiting. The kernel drops a lock when its process
ends, however it ends (a crash, SIGKILL), so a lock is never stale, unlike a pid file; and a
service started during a restore refuses to start. That lock lives on the SQLite database's
host. PostgreSQL's service may run on other hosts: there, a restore is refused while any other
client is connected to the database (the service's processes keep pooled connections open
while they run), and a service started during the restore finds the schema incomplete (the
restore is one transaction) and stops. On PostgreSQL both commands need pg_dump and
pg_restore (postgresql-client); without them they explain how to do it by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from core.backups import BackupRecord, record_backup, sqlite_path
from core.shared.config import Settings
from core.shared.files import (
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    create_private_file,
    make_private_dirs,
)

FORMAT = "asn-feedback-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database.sqlite3"
PG_DATABASE = "database.pgdump"  # pg_dump --format=custom
ATTACHMENTS = "attachments"
LOCK_SUFFIX = ".lock"
CHUNK = 1024 * 1024

# Held for the life of the process by `hold_service_lock` (a lock lives as long as its file).
_HELD: list[IO[bytes]] = []


class BackupError(Exception):
    """Why a backup or restore was refused or failed, in words for the operator."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    manifest: dict[str, object]


@dataclass(frozen=True)
class RestoreResult:
    database: Path
    attachments_dir: Path
    manifest: dict[str, object]


# The service's lock ----------------------------------------------------------------------


def lock_path(settings: Settings) -> Path | None:
    """`<database>.lock` next to the SQLite database; None for PostgreSQL."""
    database = sqlite_path(settings)
    return None if database is None else database.with_name(database.name + LOCK_SUFFIX)


def _open_lock(path: Path) -> IO[bytes]:
    make_private_dirs(path.parent)
    create_private_file(path)
    return path.open("rb")


def hold_service_lock(settings: Settings) -> None:
    """Mark this process as a running service until it ends (see the module's docstring);
    BackupError when a restore is running."""
    path = lock_path(settings)
    if path is None:
        return
    handle = _open_lock(path)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise BackupError(
            f"a restore (asn-feedback db restore) is replacing the database {sqlite_path(settings)}"
            ": start the service again when it has finished"
        ) from None
    _HELD.append(handle)


@contextlib.contextmanager
def _service_stopped(settings: Settings) -> Iterator[None]:
    """Hold the lock exclusively: no service runs, and none starts, until the block ends."""
    path = lock_path(settings)
    assert path is not None
    handle = _open_lock(path)
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                "the service is running on this database (a serve, api, bot or scheduler "
                f"process holds {path}): stop it first, then restore"
            ) from None
        yield
    finally:
        handle.close()


# PostgreSQL ------------------------------------------------------------------------------


def postgres_backup_help(settings: Settings) -> str:
    url = make_url(settings.database_url)
    database = url.database or "asnfb"
    safe = url.set(drivername="postgresql", password=None).render_as_string(hide_password=True)
    attachments = settings.attachments_dir
    return "\n".join(
        (
            "DATABASE_URL is PostgreSQL: take the backup with PostgreSQL's own tools, while the",
            "service runs (pg_dump reads one consistent snapshot), plus the photos:",
            f"  pg_dump --format=custom --file={database}.pgdump '{safe}'",
            f"  tar -czf attachments.tar.gz -C '{attachments}' .",
            "Restore them (service stopped) into an empty database, then bring the schema up",
            "to date and check the service answers /readyz with 200:",
            f"  pg_restore --no-owner --dbname='{safe}' {database}.pgdump",
            f"  tar -xzf attachments.tar.gz -C '{attachments}'",
            "  asn-feedback db upgrade",
            "(pg_dump and pg_restore come with the postgresql-client package.)",
        )
    )


def _require_tool(name: str, settings: Settings) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed on this machine (apt-get install postgresql-client); "
            "without it:\n" + postgres_backup_help(settings)
        )
    return found


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """DATABASE_URL as pg_dump and pg_restore take it, and their environment: the password
    goes in PGPASSWORD, never on a command line that `ps` shows."""
    url = make_url(settings.database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - pg_dump/pg_restore
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}")


def pg_snapshot(settings: Settings, copy: Path) -> dict[str, object]:
    """pg_dump of the database into `copy`, of the very snapshot in which the schema revision
    and the counts of the manifest are read (pg_export_snapshot)."""
    pg_dump = _require_tool("pg_dump", settings)
    dsn, env = _libpq(settings)
    engine = create_engine(settings.database_url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            snapshot_id = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar())
            facts: dict[str, object] = {
                "schema_revision": ",".join(
                    sorted(
                        str(row[0])
                        for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")
                    )
                ),
                "survey_responses": int(
                    conn.exec_driver_sql(_COUNTS["survey_responses"]).scalar() or 0
                ),
                "cases": int(conn.exec_driver_sql(_COUNTS["cases"]).scalar() or 0),
            }
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", f"--file={copy}", dsn],
                env,
                "pg_dump",
            )
            conn.rollback()  # nothing was written: the snapshot is released
    finally:
        engine.dispose()
    os.chmod(copy, PRIVATE_FILE_MODE)
    return facts


# Backup ----------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


_COUNTS = {
    "survey_responses": "SELECT count(*) FROM survey_response",
    "cases": "SELECT count(*) FROM cases",
}


def _count(conn: sqlite3.Connection, what: str) -> int:
    try:
        return int(conn.execute(_COUNTS[what]).fetchone()[0])
    except sqlite3.OperationalError:  # an empty or older database: no such table
        return 0


def _revision(conn: sqlite3.Connection) -> str:
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        return ""
    return ",".join(sorted(str(row[0]) for row in rows))


def snapshot(database: Path, copy: Path) -> dict[str, object]:
    """Copy `database` into `copy` with SQLite's online backup API, as one moment of it;
    returns what the copy holds."""
    # mode=rw: never create an empty database where the real one was expected
    source = sqlite3.connect(f"file:{quote(str(database.resolve()))}?mode=rw", uri=True, timeout=30)
    try:
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # pages=-1: every page in one step, one read transaction
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = target.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"the copy of the database fails SQLite's check: {check}")
            facts: dict[str, object] = {
                "schema_revision": _revision(target),
                "survey_responses": _count(target, "survey_responses"),
                "cases": _count(target, "cases"),
            }
        finally:
            target.close()
    finally:
        source.close()
    os.chmod(copy, PRIVATE_FILE_MODE)
    return facts


def _attachment_files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.name.endswith(".tmp"):
            yield path


def _add_file(archive: tarfile.TarFile, path: Path, name: str) -> int:
    """Add `path` as `name` (owner-only, no owner names); its size, or -1 if it is gone."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:  # removed meanwhile (a citizen's erasure): not in this backup
        return -1
    with handle:
        info = archive.gettarinfo(fileobj=handle, arcname=name)
        info.mode, info.uid, info.gid, info.uname, info.gname = PRIVATE_FILE_MODE, 0, 0, "", ""
        archive.addfile(info, handle)
        return info.size


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, moment: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), PRIVATE_FILE_MODE, int(moment.timestamp())
    archive.addfile(info, io.BytesIO(data))


def backup_target(path: Path, now: datetime) -> Path:
    """`path`, or in a folder, `asn-feedback-<UTC moment>.tar.gz` in it."""
    if path.is_dir():
        return path / f"asn-feedback-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    return path


def take_backup(
    settings: Settings, path: Path, *, force: bool = False, now: datetime | None = None
) -> BackupResult:
    """Write the archive of the database and the photos to `path` (a file, or a folder to
    put a dated file in) and record it for the console; BackupError says why not."""
    database = sqlite_path(settings)
    if database is None:
        _require_tool("pg_dump", settings)
    elif not database.is_file():
        raise BackupError(f"there is no database at {database} (check DATABASE_URL)")
    moment = now or datetime.now(UTC)
    target = backup_target(path, moment)
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist: create it first")
    if target.exists() and not force:
        raise BackupError(f"{target} exists: choose another name, or add --force to replace it")
    attachments = Path(settings.attachments_dir)
    work = Path(tempfile.mkdtemp(prefix=".asn-feedback-backup-", dir=target.parent))  # 0700
    partial = target.with_name(f".{target.name}.part")
    try:
        if database is None:
            copy = work / PG_DATABASE
            facts = pg_snapshot(settings, copy)
        else:
            copy = work / DATABASE
            facts = snapshot(database, copy)
        # A new file only, never through a link someone planted under the predictable name.
        partial.unlink(missing_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        fd = os.open(partial, flags, PRIVATE_FILE_MODE)
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as archive:
                # The photos go into a second, temporary tar so that the manifest, which
                # counts them, can come first in the archive.
                photos = work / "attachments.tar"
                files = total = 0
                with tarfile.open(photos, mode="w") as inner:
                    for file in _attachment_files(attachments):
                        name = f"{ATTACHMENTS}/{file.relative_to(attachments).as_posix()}"
                        size = _add_file(inner, file, name)
                        if size >= 0:
                            files, total = files + 1, total + size
                manifest: dict[str, object] = {
                    "format": FORMAT,
                    "version": VERSION,
                    "created_at": moment.astimezone(UTC).isoformat(),
                    "database": "postgresql" if database is None else "sqlite",
                    **facts,
                    "database_bytes": copy.stat().st_size,
                    "database_sha256": _sha256(copy),
                    "attachment_files": files,
                    "attachment_bytes": total,
                }
                body = (json.dumps(manifest, indent=2) + "\n").encode()
                _add_bytes(archive, MANIFEST, body, moment)
                _add_file(archive, copy, copy.name)
                with tarfile.open(photos, mode="r") as inner:
                    for member in inner:
                        extracted = inner.extractfile(member)
                        if extracted is not None:
                            archive.addfile(member, extracted)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"could not copy the database {database}: {exc}") from None
    except SQLAlchemyError as exc:
        raise BackupError(f"could not read the database: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
        partial.unlink(missing_ok=True)
    size = target.stat().st_size
    record_backup(
        settings,
        BackupRecord(
            taken_at=moment,
            path=str(target.resolve()),
            size=size,
            schema_revision=str(manifest["schema_revision"]),
            survey_responses=int(str(manifest["survey_responses"])),
            cases=int(str(manifest["cases"])),
            attachments=files,
        ),
    )
    return BackupResult(target, size, manifest)


# Restore ---------------------------------------------------------------------------------


def read_manifest(archive: tarfile.TarFile) -> dict[str, object]:
    try:
        member = archive.getmember(MANIFEST)
        handle = archive.extractfile(member)
        manifest = json.loads(handle.read() if handle is not None else b"")
    except (KeyError, ValueError):
        raise BackupError("this is not an asn-feedback backup (no manifest.json)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this is not an asn-feedback backup (unknown manifest)")
    if manifest.get("version") != VERSION:
        raise BackupError(
            f"this backup has format version {manifest.get('version')}; this asn-feedback "
            f"reads version {VERSION}: restore it with the version that wrote it"
        )
    return manifest


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from core.shared.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        return all(script.get_revision(rev) is not None for rev in revision.split(",") if rev)
    except CommandError:
        return False


def _members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's photos; BackupError for anything but plain files in known places."""
    photos = []
    for member in archive.getmembers():
        name = member.name
        if name in (MANIFEST, DATABASE, PG_DATABASE):
            continue
        parts = Path(name).parts
        if (
            not member.isfile()
            or len(parts) < 2
            or parts[0] != ATTACHMENTS
            or ".." in parts
            or name.startswith("/")
        ):
            raise BackupError(f"the backup holds an unexpected entry {name!r}: not restored")
        photos.append(member)
    return photos


def _copy_member(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> str:
    """Write `member` to `target` (0600); its sha256."""
    source = archive.extractfile(member)
    if source is None:
        raise BackupError(f"the backup's {member.name} cannot be read")
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    os.fchmod(fd, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _holds_data(database: Path) -> bool:
    """A row in any table but Alembic's (an empty file, or one after `db upgrade` only, is
    not data to lose)."""
    if not database.is_file() or database.stat().st_size == 0:
        return False
    conn = sqlite3.connect(f"file:{quote(str(database.resolve()))}?mode=ro", uri=True)
    try:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
            )
        ]
        quoted = (name.replace('"', '""') for name in tables)
        return any(
            conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone()  # noqa: S608 - names from sqlite_master
            for name in quoted
        )
    except sqlite3.DatabaseError:  # not a database we can read: treat it as data
        return True
    finally:
        conn.close()


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[tarfile.TarFile]:
    """The archive at `path`; a damaged one is a BackupError, whenever it shows."""
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            yield archive
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path} is not a readable backup ({exc}): nothing was changed") from None


def restore_backup(settings: Settings, path: Path, *, force: bool = False) -> RestoreResult:
    """Replace the database and the photos with the archive at `path`, then bring the schema
    up to date. Refused while the service runs, and over existing data without `force`."""
    database = sqlite_path(settings)
    kind = "sqlite" if database is not None else "postgresql"
    if database is None:
        _require_tool("pg_restore", settings)
    if not path.is_file():
        raise BackupError(f"there is no backup at {path}")
    attachments = Path(settings.attachments_dir)
    stopped = _service_stopped(settings) if database is not None else _pg_unused(settings)
    with stopped:
        with _opened(path) as archive:
            manifest = read_manifest(archive)
            if manifest.get("database") != kind:
                raise BackupError(
                    f"this is a backup of a {manifest.get('database')} database and "
                    f"DATABASE_URL is {kind}: restore it into a {manifest.get('database')} one"
                )
            revision = str(manifest.get("schema_revision", ""))
            if not _known_revision(revision):
                raise BackupError(
                    f"this backup is of a newer schema ({revision}) than this asn-feedback "
                    "knows: install the version that wrote it (or a later one) first"
                )
            where = str(database) if database is not None else "DATABASE_URL"
            if not force and (
                _holds_data(database) if database is not None else bool(_pg_tables(settings, True))
            ):
                raise BackupError(
                    f"the database at {where} holds data: add --force to replace it with "
                    "the backup (take a backup of it first if you may need it)"
                )
            if not force and _has_files(attachments):
                raise BackupError(
                    f"{attachments} holds files: add --force to replace them with the backup's"
                )
            if database is not None:
                _unpack(archive, manifest, DATABASE, attachments, partial(_swap_sqlite, database))
            else:
                _unpack(archive, manifest, PG_DATABASE, attachments, partial(_pg_load, settings))
        from core.shared.migrate import upgrade

        upgrade(settings.database_url)
    shown = (
        database if database is not None else Path(make_url(settings.database_url).database or "")
    )
    return RestoreResult(shown, attachments, manifest)


def _unpack(
    archive: tarfile.TarFile,
    manifest: dict[str, object],
    name: str,
    attachments: Path,
    load: Callable[[Path], None],
) -> None:
    """Unpack the database (`name`) and the photos next to their places and check them;
    then `load` puts the database in place and the photos are swapped in."""
    photos = _members(archive)
    make_private_dirs(attachments.parent)
    work = Path(tempfile.mkdtemp(prefix=".asn-feedback-restore-", dir=attachments.parent))
    unpacked = Path(
        tempfile.mkdtemp(prefix=f".{attachments.name}.restore-", dir=attachments.parent)
    )
    try:
        copy = work / name
        try:
            member = archive.getmember(name)
            if _copy_member(archive, member, copy) != manifest.get("database_sha256"):
                raise BackupError(
                    "the backup's database does not match its checksum: nothing was changed"
                )
            for photo in photos:
                relative = Path(*Path(photo.name).parts[1:])
                make_private_dirs((unpacked / relative).parent)
                _copy_member(archive, photo, unpacked / relative)
        except (KeyError, OSError, tarfile.TarError) as exc:
            # A damaged or hand-made archive (no database, a name twice, a file where a
            # folder is): said plainly, before anything is replaced.
            raise BackupError(
                f"the backup cannot be unpacked ({type(exc).__name__}): nothing was changed"
            ) from None
        load(copy)
        old = attachments.with_name(f".{attachments.name}.old-{os.getpid()}")
        if attachments.exists():
            os.replace(attachments, old)
        os.replace(unpacked, attachments)
        os.chmod(attachments, PRIVATE_DIR_MODE)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(unpacked, ignore_errors=True)


def _swap_sqlite(database: Path, copy: Path) -> None:
    """Put the restored SQLite file in place of the old one."""
    make_private_dirs(database.parent)
    for leftover in (database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal")):
        leftover.unlink(missing_ok=True)  # an old WAL must never be applied to the new file
    shutil.move(copy, database)  # a rename when on one file system
    os.chmod(database, PRIVATE_FILE_MODE)


# PostgreSQL restore ------------------------------------------------------------------------


@contextlib.contextmanager
def _pg_connection(settings: Settings) -> Iterator[Connection]:
    engine = create_engine(settings.database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


@contextlib.contextmanager
def _pg_unused(settings: Settings) -> Iterator[None]:
    """No other client is connected to the database: the service's processes keep their
    pooled connections open while they run, so a connection is the sign of one."""
    with _pg_connection(settings) as conn:
        others = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        ).scalar()
    if others:
        raise BackupError(
            f"the service is running on this database ({others} other connection(s) are open "
            "to it): stop it first, then restore"
        )
    yield


def _pg_tables(settings: Settings, with_rows: bool) -> list[str]:
    """The tables of the current schema (`with_rows`: only those holding a row, Alembic's
    own aside)."""
    with _pg_connection(settings) as conn:
        names = [
            str(name)
            for name in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "ORDER BY tablename"
                )
            ).scalars()
        ]
        if not with_rows:
            return names
        quote_name = conn.dialect.identifier_preparer.quote
        return [
            name
            for name in names
            if name != "alembic_version"
            and conn.execute(text(f"SELECT 1 FROM {quote_name(name)} LIMIT 1")).first()  # noqa: S608 - names from pg_tables
        ]


def _pg_load(settings: Settings, copy: Path) -> None:
    """Empty the schema (what --force allowed) and pg_restore the dump in one transaction."""
    pg_restore = _require_tool("pg_restore", settings)
    with _pg_connection(settings) as conn:
        quote_name = conn.dialect.identifier_preparer.quote
        for name in _pg_tables(settings, False):
            conn.execute(text(f"DROP TABLE IF EXISTS {quote_name(name)} CASCADE"))
        conn.commit()
    dsn, env = _libpq(settings)
    _run(  # on failure the database is left empty: restore again once the cause is fixed
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={dsn}",
            str(copy),
        ],
        env,
        "pg_restore",
    )
