"""Master data from CSV on the command line: `units import`, `services import` and
`officers import`, with English or Indonesian column names, checked before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.cli import cli
from core.masterdata.models import Officer, Service, Unit

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, engine: Engine, db_url: str, tmp_path: Path) -> Engine:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    return engine


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _units(engine: Engine) -> dict[str, tuple[str, str | None, int | None]]:
    with Session(engine) as s:
        units = s.exec(select(Unit)).all()
        codes = {u.id: u.code for u in units}
        return {
            u.code: (u.name, codes.get(u.parent_id) if u.parent_id else None, u.service_population)
            for u in units
        }


def test_units_services_and_officers_from_an_offices_indonesian_spreadsheets(
    env: Engine, tmp_path: Path
) -> None:
    units = _file(
        tmp_path,
        "opd.csv",
        "kode;nama;kode_induk;populasi_layanan\n"
        "dukcapil;Dinas Kependudukan dan Pencatatan Sipil;;12.000\n"
        "dukcapil-oebobo;UPT Dukcapil Oebobo;dukcapil;2500\n",
    )
    looked = runner.invoke(cli, ["units", "import", units, "--dry-run"])
    assert looked.exit_code == 0, looked.output
    assert "would create 2" in looked.output and _units(env) == {}

    done = runner.invoke(cli, ["units", "import", units])
    assert done.exit_code == 0, done.output
    assert "units: create 2, update 0" in done.output
    assert _units(env) == {
        "dukcapil": ("Dinas Kependudukan dan Pencatatan Sipil", None, 12000),
        "dukcapil-oebobo": ("UPT Dukcapil Oebobo", "dukcapil", 2500),
    }

    services = _file(
        tmp_path, "layanan.csv", "kode_unit,nama,aktif\ndukcapil,KTP-el,ya\ndukcapil,Akta,tidak\n"
    )
    done = runner.invoke(cli, ["services", "import", services])
    assert done.exit_code == 0, done.output
    assert "services: create 2" in done.output
    with Session(env) as s:
        found = {(sv.name, sv.active) for sv in s.exec(select(Service)).all()}
    assert found == {("KTP-el", True), ("Akta", False)}

    officers = _file(
        tmp_path,
        "pegawai.csv",
        "nip,nama,kode_unit,jabatan,aktif\n"
        "198504122010032001,Maria Bria,dukcapil-oebobo,Petugas Loket,ya\n",
    )
    done = runner.invoke(cli, ["officers", "import", officers])
    assert done.exit_code == 0, done.output
    with Session(env) as s:
        officer = s.exec(select(Officer)).one()
        unit = s.get(Unit, officer.unit_id)
    assert (officer.name, officer.position, unit and unit.code) == (
        "Maria Bria",
        "Petugas Loket",
        "dukcapil-oebobo",
    )


def test_english_columns_update_a_known_unit(env: Engine, tmp_path: Path) -> None:
    first = _file(tmp_path, "a.csv", "code,name\ndinkes,Dinkes\n")
    assert runner.invoke(cli, ["units", "import", first]).exit_code == 0
    again = _file(tmp_path, "b.csv", "code,name,service_population\ndinkes,Dinas Kesehatan,800\n")
    done = runner.invoke(cli, ["units", "import", again])
    assert done.exit_code == 0, done.output
    assert "create 0, update 1" in done.output
    assert _units(env) == {"dinkes": ("Dinas Kesehatan", None, 800)}


def test_a_file_with_a_bad_row_writes_nothing_and_names_the_row(
    env: Engine, tmp_path: Path
) -> None:
    bad = _file(
        tmp_path,
        "opd.csv",
        "kode,nama,kode_induk\ndinsos,Dinas Sosial,\nBAD CODE!,Dinas Aneh,\ndlhk,,dinsos\n",
    )
    refused = runner.invoke(cli, ["units", "import", bad])
    assert refused.exit_code == 1
    assert "row 3, column code: bad unit code" in refused.output
    assert "row 4, column name: must not be empty" in refused.output
    assert "nothing was imported" in refused.output
    assert _units(env) == {}

    missing = _file(tmp_path, "layanan.csv", "nama\nKTP-el\n")
    refused = runner.invoke(cli, ["services", "import", missing])
    assert refused.exit_code == 1 and "unit_code" in refused.output
    with Session(env) as s:
        assert s.exec(select(Service).where(col(Service.name) == "KTP-el")).first() is None
