"""The SQLite database and complaint photos are readable by the service's user only
(files 0600, folders 0700), even under a permissive umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import build_application
from core.cases.models import Attachment
from core.shared.config import load_settings
from core.shared.db import make_engine
from tests.botkit import FakeTelegram, ScriptedCitizen, jpeg_with_gps, onboard
from tests.factories import make_unit


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000])
def permissive_umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_sqlite_file_and_folders_are_private(tmp_path: Path, permissive_umask: int) -> None:
    existing = tmp_path / "shared"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)  # noqa: S103 (a shared folder, on purpose)
    db = existing / "data" / "deep" / "asn.db"
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:  # a write: SQLite creates its -wal and -shm files
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    try:
        assert mode(db) == 0o600
        for side in ("-wal", "-shm"):
            assert mode(Path(f"{db}{side}")) == 0o600, side
        assert mode(db.parent) == mode(db.parent.parent) == 0o700
        assert mode(existing) == 0o755  # a folder we did not create is left alone
    finally:
        engine.dispose()


async def test_complaint_photos_are_private(
    engine: Engine, tmp_path: Path, db_url: str, permissive_umask: int
) -> None:
    with Session(engine) as s:
        make_unit(s, "kec-alak", "Kecamatan Alak")
        s.commit()
    root = tmp_path / "data" / "attachments"
    cfg = load_settings(
        database_url=db_url,
        environment="test",
        telegram_bot_token="123456:TEST-TOKEN",
        attachments_dir=str(root),
        _env_file=None,
    )
    tg = FakeTelegram()
    tg.files["AgACphoto"] = jpeg_with_gps()
    app = build_application(cfg, engine, request=tg)
    await app.initialize()
    try:
        c = ScriptedCitizen(app, tg, 6201)
        await onboard(c)
        await c.press("Laporkan masalah")
        await c.press("Kecamatan Alak")
        await c.press("Tidak patut")
        await c.say("Petugas loket membentak saya ketika saya bertanya soal berkas.")
        await c.send_photo("AgACphoto")
        await c.press("Lanjut (1 foto)")
        await c.press("Lewati")  # location
        await c.press("Biasa")
        await c.press("Kirim laporan")
    finally:
        await app.shutdown()
    with Session(engine) as s:
        [photo] = s.exec(select(Attachment)).all()
    assert photo.status == "stored" and photo.path is not None
    stored = root / photo.path
    assert mode(stored) == 0o600
    assert mode(stored.parent) == mode(root) == mode(root.parent) == 0o700
    assert [p.name for p in stored.parent.iterdir()] == [stored.name]  # no temporary left
