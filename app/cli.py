"""The `asn-feedback` command: the composition root.

Each command builds what its process runs on once, with `_policies()` (settings, engine,
every feature's policy, the clock: `core.policies.Policies`), and hands it to the API, the
bot, the scheduler or the core service it calls."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlmodel import Session

from core.shared.config import ConfigError, Settings, load_settings
from core.shared.db import make_engine, session_scope
from core.shared.errors import DomainError

if TYPE_CHECKING:
    import socket

    from core.access import Actor
    from core.people.models import Role
    from core.policies import Policies

cli = typer.Typer(
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
    help="asn-feedback: citizen feedback on public services.",
)
db_cli = typer.Typer(no_args_is_help=True, help="Database schema.")
officers_cli = typer.Typer(no_args_is_help=True, help="Officer roster.")
user_cli = typer.Typer(no_args_is_help=True, help="Admin API accounts.")
cases_cli = typer.Typer(no_args_is_help=True, help="Complaint cases.")
cli.add_typer(db_cli, name="db")
cli.add_typer(officers_cli, name="officers")
cli.add_typer(user_cli, name="user")
cli.add_typer(cases_cli, name="cases")


def _register_data_commands() -> None:
    """`units import`, `services import`, `demo purge` (app/datacli.py)."""
    from app.datacli import demo_cli, services_cli, units_cli

    cli.add_typer(units_cli, name="units")
    cli.add_typer(services_cli, name="services")
    cli.add_typer(demo_cli, name="demo")


_register_data_commands()


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _policies(settings: Settings | None = None) -> Policies:
    """The process's settings, engine, policies and clock, built once per command."""
    from core.policies import build

    settings = settings or _settings()
    return build(settings, make_engine(settings.database_url))


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from core.shared.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    typer.echo("database is at the latest schema")


@db_cli.command("backup")
def db_backup(
    path: Annotated[Path, typer.Argument(help="archive file, or a folder for a dated one")],
    force: Annotated[bool, typer.Option("--force", help="replace an existing file")] = False,
) -> None:
    """Back up the database and the photos into one archive (0600) while the service runs
    (SQLite's online backup API, or pg_dump on PostgreSQL)."""
    from app.backup import BackupError, take_backup

    try:
        done = take_backup(_settings(), path, force=force)
    except BackupError as exc:
        raise _fail(str(exc), 2) from None
    m = done.manifest
    typer.echo(
        f"{done.path}: {done.size} bytes, schema {m['schema_revision']}, "
        f"{m['survey_responses']} survey responses, {m['cases']} cases, "
        f"{m['attachment_files']} photos"
    )


@db_cli.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="an archive written by `db backup`")],
    force: Annotated[
        bool, typer.Option("--force", help="replace an existing database and photos")
    ] = False,
) -> None:
    """Restore a backup into DATABASE_URL and ATTACHMENTS_DIR, then `db upgrade`; refused
    while the service (serve, api, bot, scheduler) runs on that database."""
    from app.backup import BackupError, restore_backup

    try:
        done = restore_backup(_settings(), path, force=force)
    except BackupError as exc:
        raise _fail(str(exc), 2) from None
    m = done.manifest
    typer.echo(
        f"restored the backup of {m['created_at']} into {done.database} and "
        f"{done.attachments_dir}: {m['survey_responses']} survey responses, {m['cases']} "
        f"cases, {m['attachment_files']} photos; the database is at the latest schema"
    )


@cli.command("seed-demo")
def seed_demo_cmd(
    if_empty: Annotated[
        bool, typer.Option(help="do nothing (and succeed) when data exists")
    ] = False,
) -> None:
    """Fill an empty database with demo data for Kota Kupang and create a demo admin."""
    from core.demo import database_is_empty, seed_demo

    root = _policies()
    with session_scope(root.engine) as session:
        if not database_is_empty(session):
            if if_empty:
                typer.echo(
                    "database already has data; demo data not loaded "
                    "(log in with your account, or add one: asn-feedback user create ...)"
                )
                return
            raise _fail("the database already has data; demo data goes only into an empty one")
        result = seed_demo(session, root.settings.tz, policy=root.cases, now=root.now())
    typer.echo(
        f"demo data: {result.units} units, {result.services} services, "
        f"{result.officers} officers, {result.surveys} survey responses, "
        f"{result.cases} complaints"
    )
    typer.echo("")
    typer.echo("  Demo logins (shown once, write them down):")
    logins = (
        ("Admin (every unit)", result.admin_username, result.admin_password),
        (
            f"Supervisor ({', '.join(result.supervisor_units)})",
            result.supervisor_username,
            result.supervisor_password,
        ),
        (
            f"Unit head ({', '.join(result.head_units)})",
            result.head_username,
            result.head_password,
        ),
        (
            f"Officer {result.officer_name} (their own evaluation only)",
            result.officer_username,
            result.officer_password,
        ),
    )
    for role, username, password in logins:
        typer.echo(f"  {role}:")
        typer.echo(f"    username: {username}")
        typer.echo(f"    password: {password}")
    typer.echo("")


@officers_cli.command("import")
def officers_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check only, change nothing")] = False,
) -> None:
    """Import officers from CSV (nip, name, unit_code[, position, active]): all rows or none."""
    from core.access import Actor
    from core.masterdata.officer_import import import_officers
    from core.people.models import Role

    root = _policies()
    system = Actor(user_id=0, username="cli", role=Role.admin)
    with session_scope(root.engine) as session:
        report = import_officers(session, file.read_bytes(), actor=system, dry_run=dry_run)
        if not report.ok:
            session.rollback()
            for err in report.errors:
                typer.echo(f"row {err.row}, column {err.column or '-'}: {err.reason}", err=True)
            raise _fail(f"{len(report.errors)} bad row(s); nothing was imported")
    verb = "would create" if dry_run else "created"
    typer.echo(
        f"{verb} {report.created}, {'would update' if dry_run else 'updated'} {report.updated}"
    )


ROLE_HELP = "admin, supervisor, unit_head or viewer"
UsernameOpt = Annotated[str, typer.Option(help="login name of the account")]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help=(
            "read the password from the first line of stdin (without it you are asked "
            "twice); at least 12 characters, not a common password"
        ),
    ),
]


def _role(role: str) -> Role:
    from core.people.models import Role

    try:
        return Role(role)
    except ValueError:
        raise _fail("--role must be one of admin, supervisor, unit_head, viewer", 2) from None


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


def _cli_actor() -> Actor:
    """The command line acts as an admin (whoever can run it can read the database)."""
    from core.access import Actor
    from core.people.models import Role

    return Actor(user_id=0, username="cli", role=Role.admin)


def _on_user(username: str, change: Callable[[Session, Actor, int], str]) -> None:
    """Run `change` on the account named `username` in one transaction; print its result."""
    from core.people.users import get_user_id

    root = _policies()
    try:
        with session_scope(root.engine) as session:
            message = change(session, _cli_actor(), get_user_id(session, username))
    except DomainError as exc:
        raise _fail(exc.message) from None
    typer.echo(message)


@user_cli.command("list")
def user_list(
    role: Annotated[str | None, typer.Option(help=f"only this role: {ROLE_HELP}")] = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="only inactive accounts")] = False,
) -> None:
    """List the accounts: role, status, units, linked officer."""
    from core.people.users import list_users

    role_value = _role(role) if role is not None else None
    root = _policies()
    with session_scope(root.engine) as session:
        views = list_users(
            session, actor=_cli_actor(), role=role_value, active=False if inactive else None
        )
    rows = [("USERNAME", "ROLE", "STATUS", "UNITS", "OFFICER NIP", "NAME")]
    rows += [
        (
            v.username,
            v.role,
            "active" if v.active else "inactive",
            ",".join(v.unit_codes) or "-",
            v.officer_nip or "-",
            v.display_name or "-",
        )
        for v in views
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        typer.echo("  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]))
    typer.echo(f"{len(views)} account(s)")


@user_cli.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="login name")],
    role: Annotated[str, typer.Option(help=ROLE_HELP)],
    unit: Annotated[list[str] | None, typer.Option(help="unit code in scope (repeatable)")] = None,
    display_name: Annotated[str, typer.Option(help="the person's name")] = "",
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """Create an admin API account (every role but admin needs at least one --unit)."""
    from core.people.users import create_user

    role_value = _role(role)
    password = _read_password(password_stdin)
    root = _policies()
    try:
        with session_scope(root.engine) as session:
            user = create_user(
                session,
                username,
                role_value,
                password,
                unit or [],
                display_name=display_name,
                actor=_cli_actor(),
            )
    except DomainError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"created {user.role} {user.username}")


@user_cli.command("set-role")
def user_set_role(
    username: UsernameOpt,
    role: Annotated[str, typer.Option(help=ROLE_HELP)],
    unit: Annotated[list[str] | None, typer.Option(help="also set the units (repeatable)")] = None,
) -> None:
    """Change an account's role (and units); its tokens stop working."""
    from core.people.users import update_user

    role_value = _role(role)

    def change(session: Session, actor: Actor, user_id: int) -> str:
        user = update_user(session, user_id, actor=actor, role=role_value, unit_codes=unit)
        return f"{user.username} is now {user.role}"

    _on_user(username, change)


@user_cli.command("set-units")
def user_set_units(
    username: UsernameOpt,
    unit: Annotated[list[str], typer.Option(help="unit code in scope (repeatable)")],
) -> None:
    """Replace an account's units; its tokens stop working."""
    from core.people.users import describe_user, update_user

    def change(session: Session, actor: Actor, user_id: int) -> str:
        update_user(session, user_id, actor=actor, unit_codes=unit)
        view = describe_user(session, user_id)
        return f"{view.username} units: {', '.join(view.unit_codes) or '-'}"

    _on_user(username, change)


@user_cli.command("deactivate")
def user_deactivate(username: UsernameOpt) -> None:
    """Stop an account from logging in; its tokens stop working at once."""
    from core.people.users import set_active

    def change(session: Session, actor: Actor, user_id: int) -> str:
        return f"{set_active(session, user_id, False, actor=actor).username} is deactivated"

    _on_user(username, change)


@user_cli.command("reactivate")
def user_reactivate(username: UsernameOpt) -> None:
    """Let a deactivated account log in again."""
    from core.people.users import set_active

    def change(session: Session, actor: Actor, user_id: int) -> str:
        return f"{set_active(session, user_id, True, actor=actor).username} is active"

    _on_user(username, change)


@user_cli.command("reset-password")
def user_reset_password(username: UsernameOpt, password_stdin: PasswordStdinOpt = False) -> None:
    """Set a new password for an account; its tokens stop working."""
    from core.people.users import reset_password

    password = _read_password(password_stdin)

    def change(session: Session, actor: Actor, user_id: int) -> str:
        return (
            f"password of {reset_password(session, user_id, password, actor=actor).username} reset"
        )

    _on_user(username, change)


@user_cli.command("unlock")
def user_unlock(username: UsernameOpt) -> None:
    """Forget an account's failed logins, so it may log in again at once."""
    from core.people.users import unlock_user

    def change(session: Session, actor: Actor, user_id: int) -> str:
        cleared = unlock_user(session, user_id, actor=actor)
        return f"{username.strip().lower()} unlocked ({cleared} failed login(s) cleared)"

    _on_user(username, change)


@user_cli.command("link-officer")
def user_link_officer(
    username: UsernameOpt,
    nip: Annotated[
        str | None, typer.Option(help="NIP of the officer the account belongs to")
    ] = None,
    unlink: Annotated[bool, typer.Option("--unlink", help="remove the officer link")] = False,
) -> None:
    """Link an account to its officer (ASN): cases naming that officer are hidden from it."""
    from core.people.users import link_officer

    if (nip is None) == (not unlink):
        raise _fail("give either --nip NIP or --unlink", 2)

    def change(session: Session, actor: Actor, user_id: int) -> str:
        user = link_officer(session, user_id, None if unlink else nip, actor=actor)
        if user.officer_id is None:
            return f"{user.username} is linked to no officer"
        return f"{user.username} is linked to officer {nip}"

    _on_user(username, change)


@cases_cli.command("autoclose")
def cases_autoclose() -> None:
    """Close resolved cases the citizen has not answered within AUTOCLOSE_DAYS."""
    from core.cases.service import autoclose

    root = _policies()
    with session_scope(root.engine) as session:
        count = autoclose(session, root.cases, now=root.now())
    typer.echo(f"closed {count} case(s)")


@cli.command("qr")
def qr_cmd(
    unit: Annotated[str, typer.Option(help="unit code")],
    service: Annotated[int | None, typer.Option(help="service id")] = None,
    officer: Annotated[str | None, typer.Option(help="officer public code")] = None,
    format: Annotated[
        str, typer.Option(help="png, svg or pdf (the unit's printable sheet)")
    ] = "png",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="print although PUBLIC_BOT_USERNAME is not the bot recorded at its last start "
            "(the cards may lead citizens to another bot)",
        ),
    ] = False,
) -> None:
    """Write the QR code of a deep link into the bot (or a unit's A4 sheet of cards), with
    the bot's @name and short link; refused unless the bot has started as that name."""
    from core.masterdata.bot_identity import printable_bot
    from core.masterdata.qr import (
        caption,
        deep_link,
        payload_for,
        qr_png,
        qr_svg,
        unit_cards,
        unit_sheet_pdf,
    )
    from core.masterdata.service import get_unit_by_code

    if format not in ("png", "svg", "pdf"):
        raise _fail("--format must be png, svg or pdf", 2)
    root = _policies()
    settings = root.settings
    try:
        with session_scope(root.engine) as session:
            found = get_unit_by_code(session, unit)
            payload = payload_for(session, found, service, officer)
            bot = printable_bot(session, settings.public_bot_username, force=force)
            if format == "pdf":
                cards = unit_cards(session, found)
                data = unit_sheet_pdf(
                    cards,
                    bot,
                    web_base=settings.public_base_url,
                    wa_number=settings.whatsapp_business_number,
                )
                link = f"{len(cards)} cards for @{bot}"
            else:
                link, lines = deep_link(bot, payload), caption(bot, payload)
                data = qr_svg(link, lines=lines) if format == "svg" else qr_png(link, lines=lines)
    except DomainError as exc:
        raise _fail(exc.message) from None
    target = output or Path(
        f"qr-{unit}{f'-s{service}' if service else ''}{f'-o{officer}' if officer else ''}.{format}"
    )
    target.write_bytes(data)
    typer.echo(f"{target}: {link}")


@cli.command("chat")
def chat_cmd(
    user_id: Annotated[int, typer.Option(help="the Telegram user you play")] = 1_000_001,
    lang: Annotated[str | None, typer.Option(help="id or en: answer the language question")] = None,
) -> None:
    """Try the bot in this terminal, without Telegram: real handlers, real database."""
    import asyncio

    from app.chat import run_chat

    if lang not in (None, "id", "en"):
        raise _fail("--lang must be id or en", 2)
    from sqlalchemy import inspect

    root = _policies()
    if not inspect(root.engine).has_table("processed_message"):  # an empty database
        raise _fail(
            "the database has no tables: run `asn-feedback db upgrade` first (from the "
            "project's folder, where .env and data/ are, or with DATABASE_URL set)"
        )
    asyncio.run(run_chat(root, user_id, lang))


@cli.command("scheduler")
def scheduler_cmd() -> None:
    """Run the scheduled jobs (weekly digest, SLA reminders, auto-close) until stopped."""
    import asyncio
    import signal

    from app.scheduler import run_forever

    settings = _settings()
    _logging(settings)
    _hold_service_lock(settings)
    root = _policies(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_forever(root, stop)

    asyncio.run(main())


def _logging(settings: Settings) -> None:
    from app.logs import setup_logging

    setup_logging(settings.log_format)


@cli.command("api")
def api_cmd(
    host: Annotated[str | None, typer.Option(help="listen address (default API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (default API_PORT)")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = 1,
) -> None:
    """The JSON API and the staff console, without the bot (uvicorn; several workers share
    nothing but the database). With STAFF_PORT, on a listener of their own."""
    from uvicorn.supervisors import Multiprocess

    from app.serve import ListeningServer, site_config

    settings = _settings()
    _logging(settings)
    _hold_service_lock(settings)
    _require_schema(_policies(settings))  # each worker builds its own (app/asgi.py)
    host = host or settings.api_host
    port = port or settings.api_port
    _check_ports(port, settings.staff_port)
    sockets = _listen(host, port, settings.staff_port)
    config = site_config("app.asgi:site", host, port, workers)
    config.factory = True
    if workers > 1:
        for sock in sockets:
            sock.listen(config.backlog)  # connections wait for the workers from here on
        _say_where(host, port, settings.staff_port)
        Multiprocess(config, sockets=sockets).run()
    else:
        listening = ListeningServer(config, lambda: _say_where(host, port, settings.staff_port))
        listening.run(sockets=sockets)


def _check_ports(port: int, staff_port: int) -> None:
    if staff_port == port:
        raise _fail(
            f"STAFF_PORT ({staff_port}) must differ from the public port ({port}): on one port"
            " the staff console would be public; set another port, or 0 for one listener",
            2,
        )


def _listen(host: str, port: int, staff_port: int) -> list[socket.socket]:
    """The listeners, opened before anything else starts; a taken port fails with one line
    naming it and the setting that chooses another."""
    from app.serve import ListenError, listeners

    try:
        return listeners(host, port, staff_port)
    except ListenError as exc:
        raise _fail(str(exc)) from None


def _say_where(host: str, port: int, staff_port: int) -> None:
    staff = f"http://{host}:{staff_port or port}"
    typer.echo(f"staff console: {staff}/staff/  (log in with your account)")
    typer.echo(f"JSON API:      {staff}/api/docs  (token: POST /api/auth/token)")
    public = f"http://{host}:{port}"
    typer.echo(f"public site:   {public}/  (citizens' forms, transparency; health: /healthz)")


@cli.command("bot")
def bot_cmd() -> None:
    """Only the bot: polling, or a webhook server when TELEGRAM_WEBHOOK_URL is set; also the
    outbox dispatcher."""
    import asyncio
    import signal

    from app.serve import ListenError, run_bot

    settings = _settings()
    _logging(settings)
    if not settings.telegram_bot_token:
        raise _fail("TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)", 2)
    _hold_service_lock(settings)
    root = _require_schema(_policies(settings))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_bot(root, stop)

    try:
        asyncio.run(main())
    except ListenError as exc:
        raise _fail(str(exc)) from None


def _hold_service_lock(settings: Settings) -> None:
    """This process runs the service: `db restore` is refused until it ends (app/backup.py)."""
    from app.backup import BackupError, hold_service_lock

    try:
        hold_service_lock(settings)
    except BackupError as exc:
        raise _fail(str(exc)) from None


def _require_schema(root: Policies) -> Policies:
    from core.shared.migrate import is_at_head

    if not is_at_head(root.engine):
        raise _fail("the database schema is not up to date: run `asn-feedback db upgrade`")
    return root


@cli.command("serve")
def serve_cmd(
    host: Annotated[str | None, typer.Option(help="listen address (default API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (default API_PORT)")] = None,
) -> None:
    """Run the staff console, the JSON API and (with TELEGRAM_BOT_TOKEN) the bot, in one
    process."""
    from app.serve import run

    settings = _settings()
    _logging(settings)
    _hold_service_lock(settings)
    root = _require_schema(_policies(settings))
    host = host or settings.api_host
    port = port or settings.api_port
    _check_ports(port, settings.staff_port)
    sockets = _listen(host, port, settings.staff_port)
    say_where = lambda: _say_where(host, port, settings.staff_port)  # noqa: E731
    run(root, host, port, sockets=sockets, on_listening=say_where)


def _missing_table(exc: Exception) -> bool:
    """The database has no (or an older) schema: SQLite's "no such table", PostgreSQL's
    UndefinedTable."""
    orig = getattr(exc, "orig", None)
    return "no such table" in str(orig) or type(orig).__name__ == "UndefinedTable"


def main() -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        cli()
    except (OperationalError, ProgrammingError) as exc:
        if _missing_table(exc):
            typer.echo(
                "Error: the database has no tables yet (or an older schema): "
                "run `asn-feedback db upgrade` first",
                err=True,
            )
            sys.exit(3)
        if not isinstance(exc, OperationalError):
            raise
        typer.echo(f"Error: cannot use the database (check DATABASE_URL): {exc.orig}", err=True)
        sys.exit(3)
