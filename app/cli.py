"""The `asn-feedback` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from core.config import ConfigError, Settings, load_settings
from core.db import make_engine, session_scope
from core.errors import DomainError

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


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from core.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    typer.echo("database is at the latest schema")


@cli.command("seed-demo")
def seed_demo_cmd(
    if_empty: Annotated[
        bool, typer.Option(help="do nothing (and succeed) when data exists")
    ] = False,
) -> None:
    """Fill an empty database with demo data for Kota Kupang and create a demo admin."""
    from core.demo import database_is_empty, seed_demo

    settings = _settings()
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        if not database_is_empty(session):
            if if_empty:
                typer.echo(
                    "database already has data; demo data not loaded "
                    "(log in with your account, or add one: asn-feedback user create ...)"
                )
                return
            raise _fail("the database already has data; demo data goes only into an empty one")
        result = seed_demo(session, settings.tz)
    typer.echo(
        f"demo data: {result.units} units, {result.services} services, "
        f"{result.officers} officers, {result.surveys} survey responses"
    )
    typer.echo("")
    typer.echo("  Admin login (shown once, write it down):")
    typer.echo(f"    username: {result.admin_username}")
    typer.echo(f"    password: {result.admin_password}")
    typer.echo("")


@officers_cli.command("import")
def officers_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check only, change nothing")] = False,
) -> None:
    """Import officers from CSV (nip, name, unit_code[, position, active]): all rows or none."""
    from core.access import Actor
    from core.models import Role
    from core.officer_import import import_officers

    settings = _settings()
    engine = make_engine(settings.database_url)
    system = Actor(user_id=0, username="cli", role=Role.admin)
    with session_scope(engine) as session:
        report = import_officers(session, system, file.read_bytes(), dry_run=dry_run)
        if not report.ok:
            session.rollback()
            for err in report.errors:
                typer.echo(f"row {err.row}, column {err.column or '-'}: {err.reason}", err=True)
            raise _fail(f"{len(report.errors)} bad row(s); nothing was imported")
    verb = "would create" if dry_run else "created"
    typer.echo(
        f"{verb} {report.created}, {'would update' if dry_run else 'updated'} {report.updated}"
    )


@user_cli.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="login name")],
    role: Annotated[str, typer.Option(help="admin, supervisor, unit_head or viewer")],
    unit: Annotated[list[str] | None, typer.Option(help="unit code in scope (repeatable)")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """Create an admin API account."""
    from core.models import Role
    from core.users import create_user

    try:
        role_value = Role(role)
    except ValueError:
        raise _fail("--role must be one of admin, supervisor, unit_head, viewer", 2) from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            user = create_user(session, username, role_value, password, unit or [])
    except DomainError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"created {user.role} {user.username}")


@cases_cli.command("autoclose")
def cases_autoclose() -> None:
    """Close resolved cases the citizen has not answered within AUTOCLOSE_DAYS."""
    from core.cases import CasePolicy, autoclose

    settings = _settings()
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        count = autoclose(session, CasePolicy.from_settings(settings))
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
) -> None:
    """Write the QR code of a deep link into the bot (or a unit's A4 sheet of cards)."""
    from core.masterdata import get_unit_by_code
    from core.qr import deep_link, payload_for, qr_png, qr_svg, unit_cards, unit_sheet_pdf

    if format not in ("png", "svg", "pdf"):
        raise _fail("--format must be png, svg or pdf", 2)
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            found = get_unit_by_code(session, unit)
            if format == "pdf":
                data = unit_sheet_pdf(unit_cards(session, found), settings.public_bot_username)
                link = f"{len(unit_cards(session, found))} cards"
            else:
                link = deep_link(
                    settings.public_bot_username, payload_for(session, found, service, officer)
                )
                data = qr_svg(link) if format == "svg" else qr_png(link)
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
    settings = _settings()
    engine = make_engine(settings.database_url)
    asyncio.run(run_chat(settings, engine, user_id, lang))


@cli.command("scheduler")
def scheduler_cmd() -> None:
    """Run the scheduled jobs (weekly digest, SLA reminders, auto-close) until stopped."""
    import asyncio
    import signal

    from app.scheduler import run_forever

    settings = _settings()
    _logging(settings)
    engine = make_engine(settings.database_url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_forever(engine, settings, stop)

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
    """Only the admin API (uvicorn; several workers share nothing but the database)."""
    import uvicorn

    from app.asgi import KEEP_ALIVE_SECONDS

    settings = _settings()
    _logging(settings)
    _require_schema(settings)
    host = host or settings.api_host
    port = port or settings.api_port
    typer.echo(f"admin API: http://{host}:{port}/docs")
    uvicorn.run(
        "app.asgi:api",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


@cli.command("bot")
def bot_cmd() -> None:
    """Only the bot: polling, or a webhook server when TELEGRAM_WEBHOOK_URL is set; also the
    outbox dispatcher."""
    import asyncio
    import signal

    from app.serve import run_bot

    settings = _settings()
    _logging(settings)
    if not settings.telegram_bot_token:
        raise _fail("TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)", 2)
    engine = _require_schema(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_bot(settings, engine, stop)

    asyncio.run(main())


def _require_schema(settings: Settings) -> Engine:
    from core.migrate import is_at_head

    engine = make_engine(settings.database_url)
    if not is_at_head(engine):
        raise _fail("the database schema is not up to date: run `asn-feedback db upgrade`")
    return engine


@cli.command("serve")
def serve_cmd(
    host: Annotated[str | None, typer.Option(help="listen address (default API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (default API_PORT)")] = None,
) -> None:
    """Run the admin API and (with TELEGRAM_BOT_TOKEN) the bot, in one process."""
    from app.serve import run

    settings = _settings()
    _logging(settings)
    engine = _require_schema(settings)
    host = host or settings.api_host
    port = port or settings.api_port
    typer.echo(f"admin API: http://{host}:{port}/docs  (log in with POST /auth/token)")
    run(settings, engine, host, port)


def main() -> None:
    from sqlalchemy.exc import OperationalError

    try:
        cli()
    except OperationalError as exc:
        typer.echo(f"Error: cannot use the database (check DATABASE_URL): {exc.orig}", err=True)
        sys.exit(3)
