"""What the last backup was: the status file `asn-feedback db backup` writes (app/backup.py)
and the console's backup page reads.

No table holds it (a restore would bring back an old status with the old data): a small JSON
file, readable by the service's user only (0600), next to the SQLite database
(`<database>.backup.json`), or for PostgreSQL in the folder that holds ATTACHMENTS_DIR
(`asn-feedback.backup.json`). It names the archive, when it was taken, its size and what it
holds; the page says whether it is older than BACKUP_MAX_AGE_HOURS."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from core.access import Actor
from core.shared.config import Settings
from core.shared.errors import Forbidden
from core.shared.files import make_private_dirs, write_private_file

STATUS_SUFFIX = ".backup.json"
POSTGRES_STATUS_NAME = "asn-feedback.backup.json"


@dataclass(frozen=True)
class BackupRecord:
    """One backup taken: the archive, its moment (UTC), size in bytes and contents."""

    taken_at: datetime
    path: str
    size: int
    schema_revision: str
    survey_responses: int
    cases: int
    attachments: int


@dataclass(frozen=True)
class BackupStatus:
    """The last backup as an admin sees it."""

    last: BackupRecord | None
    max_age: timedelta
    stale: bool  # none yet, or older than max_age
    archive_present: bool  # the archive is still where it was written (as this host sees it)
    database_kind: str  # "sqlite" or "postgresql"
    status_file: str


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite database file of DATABASE_URL; None for PostgreSQL, memory or URI names."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def status_path(settings: Settings) -> Path:
    """Where the last backup is recorded (see the module's docstring)."""
    database = sqlite_path(settings)
    if database is not None:
        return database.with_name(database.name + STATUS_SUFFIX)
    return Path(settings.attachments_dir).parent / POSTGRES_STATUS_NAME


def record_backup(settings: Settings, record: BackupRecord) -> Path:
    """Write `record` as the last backup (0600, replaced in one step); returns the file."""
    target = status_path(settings)
    make_private_dirs(target.parent)
    body = {**asdict(record), "taken_at": record.taken_at.astimezone(UTC).isoformat()}
    write_private_file(target, (json.dumps(body, indent=2) + "\n").encode())
    return target


def read_record(path: Path) -> BackupRecord | None:
    """The recorded backup; None when there is none or the file is not ours to read."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        taken_at = datetime.fromisoformat(str(body["taken_at"]))
        return BackupRecord(
            taken_at=taken_at if taken_at.tzinfo else taken_at.replace(tzinfo=UTC),
            path=str(body["path"]),
            size=int(body["size"]),
            schema_revision=str(body.get("schema_revision", "")),
            survey_responses=int(body.get("survey_responses", 0)),
            cases=int(body.get("cases", 0)),
            attachments=int(body.get("attachments", 0)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def backup_status(settings: Settings, *, actor: Actor, now: datetime) -> BackupStatus:
    """The last backup, and whether it is older than BACKUP_MAX_AGE_HOURS (admins only)."""
    if not actor.is_admin:
        raise Forbidden("only an admin may see the backups")
    path = status_path(settings)
    last = read_record(path)
    max_age = timedelta(hours=settings.backup_max_age_hours)
    stale = last is None or now - last.taken_at > max_age
    present = last is not None and Path(last.path).is_file()
    kind = (
        "sqlite"
        if sqlite_path(settings) is not None
        else make_url(settings.database_url).get_backend_name()
    )
    return BackupStatus(last, max_age, stale, present, kind, str(path))
