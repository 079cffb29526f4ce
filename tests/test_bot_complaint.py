"""Reporting a problem in the real bot, following it, and answering about it."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import build_application
from bot.dispatcher import telegram_dispatcher
from core.access import Actor
from core.cases import service as svc
from core.cases.models import Attachment, Case, CaseOutcome
from core.people.models import Role
from core.shared.config import Settings, load_settings
from tests.botkit import (
    STORY,
    FakeTelegram,
    ScriptedCitizen,
    deliver_all,
    file_quick,
    jpeg_with_gps,
    onboard,
)
from tests.contacts import citizen_of
from tests.factories import make_officer, make_unit, make_user

App = Any


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path, db_url: str) -> Settings:
    return load_settings(
        database_url=db_url,
        environment="test",
        telegram_bot_token="123456:TEST-TOKEN",
        attachments_dir=str(tmp_path / "att"),
        _env_file=None,
    )


@pytest.fixture
def units(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        dukcapil = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        officer = make_officer(s, dukcapil, "Yohanes Ndun")
        alak = make_unit(s, "kec-alak", "Kecamatan Alak")
        admin = make_user(s, "admin", Role.admin)
        s.commit()
        return {
            "dukcapil": dukcapil.id or 0,
            "officer": officer.id or 0,
            "alak": alak.id or 0,
            "admin": admin.id or 0,
        }


@pytest.fixture
def bot_settings(cfg: Settings) -> Settings:
    return cfg


def cases(engine: Engine) -> list[Case]:
    with Session(engine) as s:
        return list(s.exec(select(Case).order_by(Case.id)).all())


async def test_full_report_with_photo_and_location(
    engine: Engine,
    units: dict[str, int],
    citizen: Callable[[int], ScriptedCitizen],
    bot: tuple[App, FakeTelegram],
    cfg: Settings,
) -> None:
    _, tg = bot
    tg.files["AgACphoto1"] = jpeg_with_gps()
    c = citizen(6001)
    await onboard(c)
    await c.press("Laporkan masalah")
    assert "Unit layanan mana yang ingin Anda laporkan" in c.screen().text
    await c.press("Kependudukan")
    assert "petugas tertentu" in c.screen().text
    await c.press("Yohanes")
    assert "Masalah apa" in c.screen().text
    assert "Permintaan imbalan / pungli" in c.labels()
    await c.press("pungli")
    await c.say("terlalu singkat")
    assert "terlalu singkat (15 karakter)" in c.screen().text
    await c.say(STORY)
    assert "foto bukti" in c.screen().text
    await c.send_photo("AgACphoto1")
    assert "Foto 1 dari 3 diterima" in c.screen().text
    await c.press("Lanjut (1 foto)")
    assert "lokasi kejadian" in c.screen().text
    await c.send_location(-10.1772, 123.6070)
    assert "Seberapa rahasia" in c.screen().text
    await c.press("Anonim")
    summary = c.screen().text
    for part in (
        "Dinas Kependudukan",
        "Yohanes Ndun",
        "Permintaan imbalan",
        STORY,
        "Foto: 1",
        "Lokasi: ada",
        "Kerahasiaan: Anonim",
    ):
        assert part in summary, part
    await c.press("Kirim laporan")
    texts = [m.text for m in c.messages()]
    assert any("Nomor laporan: KPG-" in t for t in texts)
    assert "Menu utama" in c.screen().text

    [case] = cases(engine)
    assert (case.unit_id, case.officer_id, case.category) == (
        units["dukcapil"],
        units["officer"],
        "pungli",
    )
    assert case.privacy == "anonim" and case.description == STORY
    assert case.latitude == pytest.approx(-10.1772) and case.status == "received"
    with Session(engine) as s:
        [att] = s.exec(select(Attachment)).all()
    assert att.status == "stored" and (att.source, att.reference) == ("telegram", "AgACphoto1")
    stored = (Path(cfg.attachments_dir) / str(att.path)).read_bytes()
    assert b"SecretCameraMaker" not in stored
    assert len(Image.open(io.BytesIO(stored)).getexif()) == 0  # no EXIF, no GPS


async def test_skips_edit_before_submit_and_back(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(6002)
    await onboard(c)
    await c.press("Laporkan masalah")
    await c.press("Kecamatan Alak")  # no officers: straight to the category
    assert "Masalah apa" in c.screen().text
    await c.press("Diskriminasi")
    await c.say(STORY)
    await c.press("Kembali")
    assert "Masalah apa" not in c.screen().text and "Uraian kejadian" in c.screen().text
    await c.say(STORY)
    await c.press("Lewati")
    await c.press("Lewati")
    await c.press("Rahasia")
    assert "Foto: 0" in c.screen().text and "Lokasi: -" in c.screen().text
    await c.press("Ubah")
    await c.press("Uraian kejadian")
    await c.say("Saya menunggu tiga jam dan akhirnya disuruh pulang tanpa alasan.")
    assert "Periksa laporan" in c.screen().text
    assert "disuruh pulang" in c.screen().text
    await c.press("Ubah")
    await c.press("Unit dan petugas")
    await c.press("Kependudukan")
    await c.press("Tidak tahu")
    assert "Periksa laporan" in c.screen().text and "Dinas Kependudukan" in c.screen().text
    await c.press("Kirim laporan")
    [case] = cases(engine)
    assert case.unit_id == units["dukcapil"] and case.officer_id is None
    assert case.privacy == "rahasia" and "disuruh pulang" in case.description


async def test_restart_mid_report_continues(
    cfg: Settings, engine: Engine, units: dict[str, int]
) -> None:
    tg = FakeTelegram()
    app1 = build_application(cfg, engine, request=tg)
    await app1.initialize()
    c = ScriptedCitizen(app1, tg, 6003)
    await onboard(c)
    await c.press("Laporkan masalah")
    await c.press("Kecamatan Alak")
    await c.press("Tidak kompeten")
    await app1.shutdown()
    app2 = build_application(cfg, engine, request=tg)
    await app2.initialize()
    c.app = app2
    await c.say(STORY)  # the description step survived the restart
    assert "foto bukti" in c.screen().text
    await c.press("Lewati")
    await c.press("Lewati")
    await c.press("Biasa")
    await c.press("Kirim laporan")
    await app2.shutdown()
    [case] = cases(engine)
    assert case.category == "tidak_kompeten"


async def test_five_reports_a_day(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(6004)
    await onboard(c)
    refs = [await file_quick(c) for _ in range(5)]
    assert len(set(refs)) == 5
    await c.press("Laporkan masalah")
    assert "5 laporan hari ini" in c.screen().text and "Menu utama" in c.screen().text
    assert len(cases(engine)) == 5


async def test_bad_input_at_every_step(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(6005)
    await onboard(c)

    async def poke(expect: str, text_ok: bool = False) -> None:
        stale = min(c.messages(), key=lambda m: m.message_id).message_id
        actions = [
            c.send_sticker(),
            c.say("/frobnicate"),
            c.press_data("cmp:c:99", stale),
            c.press_data("case:rate:KPG-0000-0000:y"),
        ]
        if not text_ok:
            actions.append(c.say("teks bebas " * 3))
        for action in actions:
            await action
            assert expect in c.screen().text, c.screen().text

    await c.press("Laporkan masalah")
    await poke("Unit layanan mana")
    await c.press("Kependudukan")
    await poke("petugas tertentu")
    await c.press("Tidak tahu")
    await poke("Masalah apa")
    await c.press("Lainnya")
    await poke("Uraian kejadian", text_ok=True)
    await c.say(STORY)
    await poke("foto bukti")
    await c.press("Lewati")
    await c.send_photo()  # a photo at the location step is not a location
    assert "lokasi kejadian" in c.screen().text
    await poke("lokasi kejadian", text_ok=True)  # typed text is an address there
    await c.press("Lewati")
    await poke("Seberapa rahasia")
    await c.press("Biasa")
    await poke("Periksa laporan")
    await c.press("Kirim laporan")
    assert len(cases(engine)) == 1


async def test_status_and_my_reports_show_only_my_own(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    ani = citizen(6006)
    budi = citizen(6007)
    await onboard(ani)
    await onboard(budi)
    ref = await file_quick(ani)
    await ani.say(f"/status {ref}")
    assert f"Laporan {ref}" in ani.screen().text
    assert "Status: Diterima" in ani.screen().text and "Laporan diterima" in ani.screen().text
    await budi.say(f"/status {ref}")
    not_mine = budi.messages()[-2].text
    await budi.say("/status KPG-2611-9999")
    unknown = budi.messages()[-2].text
    assert not_mine.replace(ref, "X") == unknown.replace("KPG-2611-9999", "X")
    assert "tidak ditemukan" in unknown
    await budi.press_data(f"case:view:{ref}")  # a forged button reveals nothing either
    assert ref not in budi.screen().text or "tidak berlaku" in budi.screen().text
    await ani.say("/start")
    await ani.press("Laporan saya")
    assert ref in " ".join(ani.labels())
    await ani.press(ref)
    assert "Perkembangan:" in ani.screen().text


async def test_resolution_puas_tidak_puas_reopen_and_reply(
    engine: Engine,
    units: dict[str, int],
    citizen: Callable[[int], ScriptedCitizen],
    bot: tuple[App, FakeTelegram],
    cfg: Settings,
) -> None:
    app, tg = bot
    c = citizen(6008)
    await onboard(c)
    ref = await file_quick(c)
    policy = svc.CasePolicy.from_settings(cfg)
    admin = Actor(units["admin"], "admin", Role.admin)
    dispatcher = telegram_dispatcher(engine, app.bot)

    def staff(action: Callable[[Session, Case], object]) -> None:
        with Session(engine) as s:
            case = s.exec(select(Case).where(Case.reference == ref)).one()
            action(s, case)
            s.commit()

    staff(lambda s, k: svc.verify(s, k, policy, actor=admin))
    staff(lambda s, k: svc.assign(s, k, actor=admin, assignee_id=admin.user_id))
    staff(
        lambda s, k: svc.add_note(s, k, "Catatan internal: petugas sudah dipanggil.", actor=admin)
    )
    staff(lambda s, k: svc.request_info(s, k, "Jam berapa kejadiannya?", actor=admin))
    assert await deliver_all(dispatcher) == 3
    assert "Jam berapa kejadiannya?" in c.screen().text
    await c.say(f"/status {ref}")
    assert "Petugas bertanya: Jam berapa" in c.screen().text
    assert "Catatan internal" not in " ".join(m.text for m in c.messages())
    await c.press_data(f"case:reply:{ref}")
    assert "Pertanyaan petugas" in c.screen().text
    await c.say("Sekitar jam sepuluh pagi.")
    assert any("jawaban Anda untuk laporan" in m.text for m in c.messages())
    assert cases(engine)[0].status == "in_progress"

    staff(
        lambda s, k: svc.resolve(s, k, CaseOutcome.unsubstantiated, "Tidak terbukti.", actor=admin)
    )
    assert await deliver_all(dispatcher) == 1
    assert "Apakah Anda puas" in c.screen().text and "Tidak terbukti" in c.screen().text
    await c.press("Tidak puas")
    assert "Mengapa Anda tidak puas" in c.screen().text
    await c.say("Petugas yang sama masih meminta uang.")
    assert any("dibuka kembali" in m.text for m in c.messages())
    [case] = cases(engine)
    assert case.status == "in_progress" and case.reopened_count == 1

    staff(
        lambda s, k: svc.resolve(s, k, CaseOutcome.substantiated, "Petugas ditegur.", actor=admin)
    )
    await deliver_all(dispatcher)
    await c.press("Puas")
    assert "ditutup dengan penilaian puas" in c.screen().text
    [case] = cases(engine)
    assert case.status == "closed" and case.satisfied is True
    await c.press_data(f"case:rate:{ref}:n")  # a second press on an old button
    assert any("sudah dinilai" in (a.get("text") or "") for a in tg.callback_answers)
    with Session(engine) as s:
        assert citizen_of(s, 6008)
