"""QR cards lead to the bot that really runs: the bot records who it is (getMe) when it
starts; QR printing (API, command line, console) refuses while PUBLIC_BOT_USERNAME is not
that bot or no bot has started yet, unless told to print anyway; every card shows the bot's
@name and a short link, and says honestly that scanning opens the survey."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from admin_api import create_app
from app.cli import cli
from bot import build_application
from bot.runtime import BotRuntime
from core.masterdata.bot_identity import record_bot_identity, recorded_bot
from core.people.models import Role
from core.shared.config import Settings, load_settings
from tests.bot_api_server import TOKEN, BotApiServer
from tests.botkit import BOT_ID, BOT_USER
from tests.factories import PASSWORD, make_officer, make_unit, make_user
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

__all__ = ["office"]

CONFIGURED = "kupang_lapor_bot"


def pdf_text(pdf: bytes) -> str:
    """The words of an uncompressed PDF's lines, joined (fpdf2 writes each line `(...) Tj`)."""
    return " ".join(m.decode("latin-1") for m in re.findall(rb"\((.*?)\) ?Tj", pdf))


def decode(png: bytes) -> str:
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return str(result.text)


async def test_starting_the_bot_records_who_telegram_says_it_is(
    settings: Settings, engine: Engine, bot_api: BotApiServer
) -> None:
    with Session(engine) as s:
        assert recorded_bot(s) is None
    cfg = settings.model_copy(
        update={"telegram_bot_token": TOKEN, "telegram_api_base_url": bot_api.url}
    )
    runtime = BotRuntime(build_application(cfg, engine), engine, cfg)
    await runtime.start()
    try:
        assert any(method == "getMe" for method, _ in bot_api.state.calls)
        with Session(engine) as s:
            found = recorded_bot(s)
            assert found is not None
            assert (found.username, found.telegram_id, found.first_name) == (
                BOT_USER["username"],
                BOT_ID,
                BOT_USER["first_name"],
            )
    finally:
        await runtime.stop()


@pytest.fixture
def api(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    cfg = load_settings(
        database_url=settings.database_url,
        environment="test",
        public_bot_username=CONFIGURED,
        _env_file=None,
    )
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        make_officer(s, unit, "Yohanes Ndun", public_code="yoh12345")
        make_user(s, "spv", Role.supervisor, [unit])
        s.commit()
    with TestClient(create_app(cfg, engine)) as client:
        token = client.post("/auth/token", data={"username": "spv", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


def _record(engine: Engine, username: str) -> None:
    with Session(engine) as s:
        record_bot_identity(s, 777, username, "Lapor Kupang")
        s.commit()


def test_the_api_prints_cards_only_for_the_bot_that_runs_here(
    api: TestClient, engine: Engine
) -> None:
    unknown = api.get("/qr/dukcapil?officer=yoh12345")
    assert unknown.status_code == 409
    assert "no bot has started on this database yet" in unknown.text
    assert api.get("/qr/dukcapil/sheet.pdf").status_code == 409
    assert api.get("/qr/nope").status_code == 404  # what does not exist is said first

    _record(engine, "someone_elses_bot")
    differs = api.get("/qr/dukcapil")
    assert differs.status_code == 409 and "@someone_elses_bot" in differs.text

    forced = api.get("/qr/dukcapil?officer=yoh12345&force=true")
    assert forced.status_code == 200
    assert decode(forced.content) == f"https://t.me/{CONFIGURED}?start=o_yoh12345"

    _record(engine, "Kupang_Lapor_Bot")  # Telegram names are not case-sensitive
    svg = api.get("/qr/dukcapil?format=svg")
    assert svg.status_code == 200
    assert f">@{CONFIGURED}</text>".encode() in svg.content
    assert f">t.me/{CONFIGURED}?start=u_dukcapil</text>".encode() in svg.content
    png = api.get("/qr/dukcapil")
    assert decode(png.content) == f"https://t.me/{CONFIGURED}?start=u_dukcapil"

    sheet = api.get("/qr/dukcapil/sheet.pdf")
    assert sheet.status_code == 200
    text = pdf_text(sheet.content)
    assert text.count(f"Cari @{CONFIGURED} di Telegram") == 2  # the counter's and the officer's
    assert f"t.me/{CONFIGURED}?start=o_yoh12345" in text
    # What scanning opens, said honestly: the survey; complaints from the bot's menu.
    assert "menilai pelayanan petugas ini" in text and "menilai pelayanan ini" in text
    assert "atau menyampaikan pengaduan" not in text
    assert text.count("Pengaduan dapat Anda sampaikan dari menu bot yang sama") == 2


def test_the_qr_command_refuses_a_bot_name_that_is_not_the_running_bot(
    api: TestClient, engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PUBLIC_BOT_USERNAME", CONFIGURED)
    monkeypatch.chdir(tmp_path)
    _record(engine, "asn_feedback_bot")
    refused = CliRunner().invoke(cli, ["qr", "--unit", "dukcapil"])
    assert refused.exit_code == 1
    assert f"PUBLIC_BOT_USERNAME is @{CONFIGURED}" in refused.output
    assert "@asn_feedback_bot" in refused.output
    assert not (tmp_path / "qr-dukcapil.png").exists()

    forced = CliRunner().invoke(cli, ["qr", "--unit", "dukcapil", "--force"])
    assert forced.exit_code == 0, forced.output
    assert decode((tmp_path / "qr-dukcapil.png").read_bytes()).endswith("?start=u_dukcapil")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.browser
def test_the_console_says_in_indonesian_why_it_will_not_print_and_prints_when_told(
    page: Page, office: Office
) -> None:
    configured = office.policies.settings.public_bot_username
    _record(office.engine, "bot_kantor_lain")
    log_in(page, office, "admin")
    page.goto(f"{office.base}/staff/units/dukcapil")
    page.get_by_role("link", name="Kartu QR").click()
    expect(page.get_by_role("heading", name="Kartu QR")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        f"Nama bot pada pengaturan (PUBLIC_BOT_USERNAME) adalah @{configured}"
    )
    expect(alert).to_contain_text("bot yang berjalan pada basis data ini adalah @bot_kantor_lain")
    assert serious_violations(page) == []

    # Without "print anyway" nothing is downloaded; a direct download is refused in words.
    refused = page.request.get(f"{office.base}/staff/units/dukcapil/qr-sheet.pdf")
    assert refused.status == 409 and "@bot_kantor_lain" in refused.text()
    page.get_by_label("Tetap cetak").check()
    with page.expect_download() as sheet:
        page.get_by_role("button", name="Lembar QR untuk dicetak (PDF, A4)").click()
    assert sheet.value.suggested_filename == "qr-dukcapil.pdf"
    pdf = Path(sheet.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-") and f"Cari @{configured} di Telegram" in pdf_text(pdf)
    assert f"t.me/{configured}?start=u_dukcapil" in pdf_text(pdf)

    _record(office.engine, configured)  # the bot started under the configured name
    page.reload()
    expect(page.get_by_role("status")).to_contain_text(f"Kartu mengarah ke @{configured}")
    expect(page.get_by_label("Tetap cetak")).to_have_count(0)
    with page.expect_download() as png:
        page.get_by_role("button", name="QR loket (PNG)").click()
    assert decode(Path(png.value.path()).read_bytes()).endswith("?start=u_dukcapil")
