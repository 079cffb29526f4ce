"""`asn-feedback units import`, `services import` and `demo purge`: master data from CSV and
the demo data's removal, registered in app/cli.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.shared.db import session_scope
from core.shared.errors import DomainError

units_cli = typer.Typer(no_args_is_help=True, help="Units (OPD and sub-units).")
services_cli = typer.Typer(no_args_is_help=True, help="Services of the units.")
demo_cli = typer.Typer(no_args_is_help=True, help="The demo data.")

CsvFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
DryRun = Annotated[bool, typer.Option("--dry-run", help="check only, change nothing")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


def _import(kind: str, file: Path, dry_run: bool) -> None:
    from app.cli import _cli_actor, _policies
    from core.masterdata.unit_import import import_services, import_units

    importer = import_units if kind == "units" else import_services
    root = _policies()
    try:
        with session_scope(root.engine) as session:
            result = importer(session, file.read_bytes(), actor=_cli_actor(), dry_run=dry_run)
            if not result.ok:
                session.rollback()
    except DomainError as exc:
        raise _fail(exc.message) from None
    if not result.ok:
        for reason in result.file_errors:
            typer.echo(f"file, column {reason.column or '-'}: {reason.message}", err=True)
        for row in result.rows:
            for reason in row.reasons:
                typer.echo(
                    f"row {row.line}, column {reason.column or '-'}: {reason.message}", err=True
                )
        if not result.rows and not result.file_errors:
            raise _fail("the file has no rows")
        raise _fail(f"{result.bad_rows or 'the file has'} bad row(s); nothing was imported")
    would = "would " if dry_run else ""
    typer.echo(
        f"{kind}: {would}create {result.count('create')}, "
        f"{would}update {result.count('update')}"
        + (" (dry run, nothing written)" if dry_run else "")
    )


@units_cli.command("import")
def units_import(file: CsvFile, dry_run: DryRun = False) -> None:
    """Import units from CSV (code, name[, parent_code, service_population, active], or
    kode, nama[, kode_induk, populasi_layanan, aktif]): all rows or none."""
    _import("units", file, dry_run)


@services_cli.command("import")
def services_import(file: CsvFile, dry_run: DryRun = False) -> None:
    """Import services from CSV (unit_code, name[, active], or kode_unit, nama[, aktif]):
    all rows or none."""
    _import("services", file, dry_run)


@demo_cli.command("purge")
def demo_purge(
    dry_run: DryRun = False,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask before removing")] = False,
) -> None:
    """Remove the demo data (units, services, officers, answers, complaints, demo accounts);
    refused, with nothing removed, while any real record refers to it."""
    import core.tables  # noqa: F401  (every table: one the purge does not know is checked too)
    from app.cli import _cli_actor, _policies
    from core.demo import mark_earlier_demo
    from core.demo_purge import purge_demo

    root = _policies()
    actor = _cli_actor()
    with session_scope(root.engine) as session:  # demo data seeded before it was listed
        mark_earlier_demo(session)
    try:
        with session_scope(root.engine) as session:  # a dry run first: what would go
            preview = purge_demo(session, actor=actor, dry_run=True)
            session.rollback()
    except DomainError as exc:
        raise _fail(exc.message) from None
    typer.echo(
        "demo data: "
        + ", ".join(f"{count} {table}" for table, count in sorted(preview.removed.items()))
    )
    if dry_run:
        typer.echo("dry run: nothing was removed")
        return
    if not yes and not typer.confirm("remove all of it for good?"):
        raise _fail("nothing was removed")
    try:
        with session_scope(root.engine) as session:
            done = purge_demo(session, actor=actor)
    except DomainError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"removed {done.total} demo row(s); the demo logins no longer work")
