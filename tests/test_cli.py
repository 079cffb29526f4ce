"""The `asn-feedback` command: migrations, demo data, users, officer import, config errors."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner

from app.cli import cli
from core.cases.models import Case, CaseStatus, Privacy
from core.masterdata.models import Officer, Unit
from core.outbox.addresses import citizen_address
from core.outbox.models import OutboundMessage, OutboxStatus
from core.people.models import AppUser
from core.people.users import authenticate
from core.shared.db import make_engine
from core.surveys.models import SurveyResponse
from tests.factories import make_unit

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    return db_url


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC


def test_seed_demo_into_a_migrated_empty_database(
    monkeypatch: pytest.MonkeyPatch, fresh_db_url: str, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", fresh_db_url)
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["seed-demo"])
    assert result.exit_code == 0, result.output
    logins = dict(
        zip(
            (
                line.split("username: ")[1]
                for line in result.output.splitlines()
                if "username: " in line
            ),
            (
                line.split("password: ")[1]
                for line in result.output.splitlines()
                if "password: " in line
            ),
            strict=True,
        )
    )
    # admin, supervisor, unit head, and an officer who reads their own evaluation
    assert set(logins) == {"admin", "pengawas", "kadis", "petugas"}
    assert "Supervisor (dukcapil, dinkes" in result.output
    engine = make_engine(fresh_db_url)
    with Session(engine) as s:
        units = s.exec(select(Unit)).all()
        assert len(units) == 15
        assert "Dinas Kependudukan dan Pencatatan Sipil" in {u.name for u in units}
        assert s.exec(select(func.count()).select_from(SurveyResponse)).one() >= 300
        admin = s.exec(select(AppUser).where(AppUser.username == "admin")).one()
        assert logins["admin"] not in admin.password_hash
        assert admin.password_hash.startswith("$argon2")
        for username, password in logins.items():
            assert authenticate(s, username, password) is not None
        petugas = s.exec(select(AppUser).where(AppUser.username == "petugas")).one()
        assert petugas.role == "officer" and petugas.officer_id is not None
        # Complaints in every state, some overdue, some confidential, for the console.
        cases = s.exec(select(Case)).all()
        assert len(cases) >= 40 and {c.status for c in cases} == set(CaseStatus)
        assert {c.privacy for c in cases} == set(Privacy)
        now = datetime.now(UTC)
        assert any(c.due_at is not None and _aware(c.due_at) < now for c in cases)
        assert all(_aware(c.received_at) < now for c in cases)
        # Citizens who wrote to the bot can be told (a case page's previews say so); their
        # past notices were delivered but one, which shows an undelivered notice's flag.
        from_bot = [c for c in cases if c.channel == "telegram"]
        assert from_bot and all(c.citizen_id and citizen_address(s, c.citizen_id) for c in from_bot)
        states = Counter(m.status for m in s.exec(select(OutboundMessage)).all())
        assert states[OutboxStatus.failed] == 1 and states[OutboxStatus.sent] > 40
        assert states[OutboxStatus.pending] == 0
    # Never into a database that has data.
    again = runner.invoke(cli, ["seed-demo"])
    assert again.exit_code == 1 and "already has data" in again.output
    quiet = runner.invoke(cli, ["seed-demo", "--if-empty"])
    assert quiet.exit_code == 0 and "not loaded" in quiet.output
    with Session(engine) as s:
        assert len(s.exec(select(Unit)).all()) == 15
    engine.dispose()


def test_user_create_reads_password_from_stdin(env: str, engine: Engine) -> None:
    with Session(engine) as s:
        make_unit(s, "dukcapil")
        s.commit()
    args = [
        "user",
        "create",
        "--username",
        "siti",
        "--role",
        "supervisor",
        "--unit",
        "dukcapil",
        "--password-stdin",
    ]
    result = runner.invoke(cli, args, input="a long enough password\n")
    assert result.exit_code == 0, result.output
    with Session(engine) as s:
        assert authenticate(s, "siti", "a long enough password") is not None
    short = runner.invoke(cli, [*args[:3], "budi", *args[4:]], input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    bad_role = runner.invoke(
        cli,
        ["user", "create", "--username", "x1x", "--role", "king", "--password-stdin"],
        input="whatever-long-pass\n",
    )
    assert bad_role.exit_code == 2 and "--role must be one of" in bad_role.output
    no_unit = runner.invoke(
        cli,
        [
            "user",
            "create",
            "--username",
            "x2x",
            "--role",
            "viewer",
            "--unit",
            "nope",
            "--password-stdin",
        ],
        input="whatever-long-pass\n",
    )
    assert no_unit.exit_code == 1 and "unknown unit code(s): nope" in no_unit.output


def test_user_help_says_how_the_password_is_read_and_what_it_needs() -> None:
    for command in ("create", "reset-password"):
        result = runner.invoke(cli, ["user", command, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        words = " ".join(result.output.replace("│", " ").split())
        assert "without it you are asked twice" in words, words
        assert "at least 12 characters, not a common password" in words, words
    create = runner.invoke(cli, ["user", "create", "--help"], terminal_width=200).output
    assert "needs at least one --unit" in " ".join(create.replace("│", " ").split())


def test_officers_import_dry_run_and_errors(env: str, engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as s:
        make_unit(s, "dukcapil")
        s.commit()
    good = tmp_path / "good.csv"
    good.write_text("nip,name,unit_code\n199001012015011001,Agustinus Tefa,dukcapil\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("nip,name,unit_code\n199001012015011001,A,dukcapil\n1990,B,dukcapil\n")

    dry = runner.invoke(cli, ["officers", "import", str(good), "--dry-run"])
    assert dry.exit_code == 0 and "would create 1" in dry.output
    failed = runner.invoke(cli, ["officers", "import", str(bad)])
    assert failed.exit_code == 1
    assert "row 3, column nip: NIP must be 18 digits, got 4" in failed.output
    with Session(engine) as s:
        assert s.exec(select(Officer)).all() == []
    done = runner.invoke(cli, ["officers", "import", str(good)])
    assert done.exit_code == 0 and "created 1" in done.output
    with Session(engine) as s:
        assert [o.name for o in s.exec(select(Officer)).all()] == ["Agustinus Tefa"]


@pytest.mark.parametrize(
    ("env_vars", "message"),
    [
        ({"DATABASE_URL": "mysql://x"}, "Configuration error: DATABASE_URL: use sqlite"),
        ({"TIMEZONE": "Mars/Olympus"}, "Configuration error: TIMEZONE: use an IANA time zone"),
        ({"API_PORT": "eighty"}, "Configuration error: API_PORT:"),
        (
            {"ENVIRONMENT": "production", "JWT_SECRET": "changeme"},
            "Configuration error: JWT_SECRET: must be set to a random value in production",
        ),
        ({"JWT_SECRET": "short"}, "Configuration error: JWT_SECRET: must be at least 32"),
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "Configuration error: TELEGRAM_BOT_TOKEN:"),
        (
            {"TELEGRAM_WEBHOOK_URL": "https://x.example/hook", "TELEGRAM_WEBHOOK_SECRET": "short"},
            "Configuration error: TELEGRAM_WEBHOOK_SECRET: must be 16-256 characters",
        ),
        ({"DIGEST_CRON": "every monday"}, "Configuration error: DIGEST_CRON: use a crontab line"),
    ],
)
def test_bad_configuration_fails_with_one_line_naming_the_key(
    tmp_path: Path, env_vars: dict[str, str], message: str
) -> None:
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "JWT"))}
    environ.update(env_vars)
    proc = subprocess.run(
        [sys.executable, "-m", "app", "db", "upgrade"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]


def test_a_database_without_tables_says_to_run_db_upgrade(
    tmp_path: Path, fresh_db_url: str
) -> None:
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "JWT"))}
    environ.update(DATABASE_URL=fresh_db_url, ENVIRONMENT="test")
    for args in (["user", "list"], ["seed-demo"], ["cases", "autoclose"]):
        proc = subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=tmp_path,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 3, (args, proc.stderr)
        assert proc.stderr.strip().splitlines() == [
            "Error: the database has no tables yet (or an older schema): "
            "run `asn-feedback db upgrade` first"
        ], (args, proc.stderr)


def test_postgres_url_forms_are_normalised() -> None:
    from core.shared.config import load_settings

    for url in ("postgres://u@h/db", "postgresql://u@h/db"):
        assert load_settings(database_url=url, _env_file=None).database_url == (
            "postgresql+psycopg://u@h/db"
        )


def test_cases_autoclose_command(env: str, engine: Engine) -> None:
    from datetime import UTC, datetime, timedelta

    from core.cases.models import Case

    with Session(engine) as s:
        unit = make_unit(s, "dukcapil")
        old = datetime.now(UTC) - timedelta(days=20)
        s.add(
            Case(
                reference="KPG-2611-0001",
                unit_id=unit.id or 0,
                category="lainnya",
                description="x" * 30,
                status="resolved",
                resolved_at=old,
                verify_due_at=old,
                resolve_due_at=old,
            )
        )
        s.commit()
    result = runner.invoke(cli, ["cases", "autoclose"])
    assert result.exit_code == 0 and "closed 1 case(s)" in result.output
    with Session(engine) as s:
        assert s.exec(select(Case)).one().status == "closed"


def _user(engine: Engine, username: str) -> AppUser:
    with Session(engine) as s:
        return s.exec(select(AppUser).where(AppUser.username == username)).one()


def test_user_administration_commands(env: str, engine: Engine) -> None:
    from core.people.models import AccessAudit
    from tests.factories import make_officer

    with Session(engine) as s:
        dukcapil = make_unit(s, "dukcapil")
        make_unit(s, "pajak")
        make_officer(s, dukcapil, "Agustinus Tefa", nip="198504122010031007")
        s.commit()

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = runner.invoke(cli, ["user", *args], input=stdin)
        return result.exit_code, result.output

    code, out = run(
        "create", "--username", "siti", "--role", "viewer", "--unit", "dukcapil",
        "--display-name", "Siti Bano", "--password-stdin", stdin="a long enough password\n",
    )  # fmt: skip
    assert code == 0, out
    code, out = run("set-role", "--username", "siti", "--role", "supervisor")
    assert (code, out.strip()) == (0, "siti is now supervisor")
    code, out = run("set-units", "--username", "siti", "--unit", "pajak", "--unit", "dukcapil")
    assert (code, out.strip()) == (0, "siti units: dukcapil, pajak")
    code, out = run("link-officer", "--username", "siti", "--nip", "198504122010031007")
    assert (code, out.strip()) == (0, "siti is linked to officer 198504122010031007")
    code, out = run("list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["USERNAME", "ROLE", "STATUS", "UNITS", "OFFICER", "NIP", "NAME"]
    assert lines[1].split() == [
        "siti", "supervisor", "active", "dukcapil,pajak", "198504122010031007", "Siti", "Bano",
    ]  # fmt: skip
    assert lines[-1] == "1 account(s)"

    before = _user(engine, "siti").token_version
    weak = run("reset-password", "--username", "siti", "--password-stdin", stdin="password1234\n")
    assert weak[0] == 1 and "most common passwords" in weak[1]
    new = "kopi hujan sepeda lampu\n"
    code, out = run("reset-password", "--username", "siti", "--password-stdin", stdin=new)
    assert (code, out.strip()) == (0, "password of siti reset")
    with Session(engine) as s:
        assert authenticate(s, "siti", "kopi hujan sepeda lampu") is not None
        assert authenticate(s, "siti", "a long enough password") is None
    code, out = run("deactivate", "--username", "siti")
    assert (code, out.strip()) == (0, "siti is deactivated")
    assert _user(engine, "siti").token_version == before + 2  # each change ends old tokens
    code, out = run("list", "--inactive")
    assert "siti" in out and "inactive" in out
    assert run("reactivate", "--username", "siti")[1].strip() == "siti is active"
    code, out = run("unlock", "--username", "siti")
    assert code == 0 and out.startswith("siti unlocked (")

    code, out = run("deactivate", "--username", "nobody")
    assert code == 1 and "no user named 'nobody'" in out
    code, out = run("link-officer", "--username", "siti", "--nip", "199001012015011001")
    assert code == 1 and "no officer with NIP 199001012015011001" in out
    assert run("link-officer", "--username", "siti")[0] == 2
    assert run("set-role", "--username", "siti", "--role", "king")[0] == 2
    with Session(engine) as s:
        audit = s.exec(select(AccessAudit).order_by(col(AccessAudit.id))).all()
    assert [a.action for a in audit] == [
        "user_created",
        "user_role_changed",
        "user_units_changed",
        "user_officer_linked",
        "user_password_reset",
        "user_deactivated",
        "user_reactivated",
        "user_unlocked",
    ]
    assert all(a.actor_user_id is None and (a.detail or "").endswith("(by cli)") for a in audit)


def test_chat_on_an_empty_database_says_to_migrate_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started from another folder, the chat finds no tables: one clear line, no traceback."""
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    monkeypatch.setenv("ENVIRONMENT", "test")
    result = runner.invoke(cli, ["chat", "--lang", "id"], input="/start\n")
    assert result.exit_code == 1
    assert "has no tables: run `asn-feedback db upgrade` first" in result.output
    assert "Traceback" not in result.output
