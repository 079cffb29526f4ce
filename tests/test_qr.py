"""QR codes decode to the expected deep link; the printable sheet has one card per item."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from admin_api import create_app
from app.cli import cli
from core.masterdata.deeplinks import resolve_payload
from core.people.models import Role
from core.shared.config import Settings, load_settings
from tests.factories import (
    PASSWORD,
    make_officer,
    make_service,
    make_unit,
    make_user,
    record_running_bot,
)


def decode(png: bytes) -> str:
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return str(result.text)


@pytest.fixture
def world(engine: Engine, settings: Settings) -> Iterator[tuple[TestClient, dict[str, object]]]:
    cfg = load_settings(
        database_url=settings.database_url,
        environment="test",
        public_bot_username="kupang_lapor_bot",
        _env_file=None,
    )
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        other = make_unit(s, "dinkes", "Dinas Kesehatan")
        ktp = make_service(s, unit, "KTP-el")
        make_service(s, unit, "Akta Kelahiran")
        yoh = make_officer(s, unit, "Yohanes Ndun", public_code="yoh12345")
        make_officer(s, unit, "Maria Bria", public_code="old12345", active=False)
        make_user(s, "spv", Role.supervisor, [unit])
        record_running_bot(s, "kupang_lapor_bot")
        s.commit()
        ids = {"ktp": ktp.id, "yoh": yoh.public_code, "nip": yoh.nip, "other": other.code}
    with TestClient(create_app(cfg, engine)) as client:
        token = client.post("/auth/token", data={"username": "spv", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client, ids


def test_qr_codes_decode_to_deep_links(
    world: tuple[TestClient, dict[str, object]], engine: Engine
) -> None:
    client, ids = world
    base = "https://t.me/kupang_lapor_bot?start="
    assert decode(client.get("/qr/dukcapil").content) == base + "u_dukcapil"
    assert (
        decode(client.get(f"/qr/dukcapil?service={ids['ktp']}").content) == f"{base}s_{ids['ktp']}"
    )
    officer = client.get("/qr/dukcapil?officer=yoh12345")
    link = decode(officer.content)
    assert link == base + "o_yoh12345" and officer.headers["x-deep-link"] == link
    assert str(ids["nip"]) not in link
    with Session(engine) as s:
        pre = resolve_payload(s, link.split("start=")[1])
        assert pre is not None and pre.officer_id is not None
    svg = client.get("/qr/dukcapil?format=svg")
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    assert client.get("/qr/dukcapil?officer=nobody").status_code == 404
    assert client.get(f"/qr/{ids['other']}").status_code == 404  # as for an unknown unit


def test_printable_sheet_has_one_card_per_item(world: tuple[TestClient, dict[str, object]]) -> None:
    client, _ = world
    r = client.get("/qr/dukcapil/sheet.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    pdf = r.content
    # Counter + 2 services + 1 active officer = 4 cards; the deactivated officer has none.
    assert pdf.count(b"/Subtype /Image") == 4
    for label in (b"Loket pelayanan", b"KTP-el", b"Akta Kelahiran", b"Yohanes Ndun"):
        assert label in pdf
    assert b"Maria Bria" not in pdf
    assert pdf.count(b"Pindai dengan kamera") == 4


def test_qr_command(
    world: tuple[TestClient, dict[str, object]],
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PUBLIC_BOT_USERNAME", "kupang_lapor_bot")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "yoh.png"
    result = CliRunner().invoke(
        cli,
        ["qr", "--unit", "dukcapil", "--officer", "yoh12345", "--format", "png", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert decode(out.read_bytes()) == "https://t.me/kupang_lapor_bot?start=o_yoh12345"
    sheet = CliRunner().invoke(cli, ["qr", "--unit", "dukcapil", "--format", "pdf"])
    assert sheet.exit_code == 0 and (tmp_path / "qr-dukcapil.pdf").read_bytes().startswith(b"%PDF")
    bad = CliRunner().invoke(cli, ["qr", "--unit", "nope"])
    assert bad.exit_code == 1 and "unit 'nope' does not exist" in bad.output


# The citizens' website on the cards (PUBLIC_BASE_URL) ----------------------------------------


def _console(settings: Settings, engine: Engine, base_url: str) -> TestClient:
    """The site with PUBLIC_BASE_URL as given, a supervisor of dukcapil logged in."""
    import re

    from app.site import create_site
    from core.policies import build

    cfg = settings.model_copy(
        update={"public_bot_username": "kupang_lapor_bot", "public_base_url": base_url}
    )
    client = TestClient(create_site(build(cfg, engine)))
    form = client.get("/staff/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    r = client.post(
        "/staff/login",
        data={"username": "spv", "password": PASSWORD, "csrf": csrf.group(1), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return client


def test_the_sheet_offers_the_website_too_when_its_address_is_set(
    world: tuple[TestClient, dict[str, object]], settings: Settings, engine: Engine
) -> None:
    client = _console(settings, engine, "https://skm.kupangkota.go.id")
    page = client.get("/staff/units/dukcapil/qr")
    assert "https://skm.kupangkota.go.id/nilai/dukcapil" in page.text
    pdf = client.get("/staff/units/dukcapil/qr-sheet.pdf").content
    # Four cards, each with the bot's code and the website's code and printed address.
    assert pdf.count(b"/Subtype /Image") == 8
    assert pdf.count(b"Pindai untuk membuka Telegram") == 4
    assert pdf.count(b"Pindai untuk membuka situs web") == 4
    assert b"skm.kupangkota.go.id/nilai/dukcapil" in pdf
    assert b"skm.kupangkota.go.id/nilai/o_yoh12345" in pdf
    assert b"t.me/kupang_lapor_bot?start=u_dukcapil" in pdf  # the bot stays on every card
    web = client.get("/staff/units/dukcapil/qr.png?target=web&officer=yoh12345")
    link = decode(web.content)
    assert link == "https://skm.kupangkota.go.id/nilai/o_yoh12345"
    counter = decode(client.get("/staff/units/dukcapil/qr.png?target=web").content)
    assert counter == "https://skm.kupangkota.go.id/nilai/dukcapil"
    # The website's address opens the survey of what the card names, as the bot's does.
    survey = client.get(link.removeprefix("https://skm.kupangkota.go.id"))
    assert survey.status_code == 200 and "Petugas: Yohanes Ndun" in survey.text
    assert client.get("/staff/units/qr-sheet.pdf").content.count(b"/nilai/dukcapil") >= 1


def test_without_a_web_address_the_cards_offer_only_the_bot(
    world: tuple[TestClient, dict[str, object]], settings: Settings, engine: Engine
) -> None:
    client = _console(settings, engine, "")
    page = client.get("/staff/units/dukcapil/qr")
    assert "PUBLIC_BASE_URL" in page.text and "/nilai/" not in page.text
    pdf = client.get("/staff/units/dukcapil/qr-sheet.pdf").content
    assert pdf.count(b"/Subtype /Image") == 4 and b"/nilai/" not in pdf
    assert b"situs web" not in pdf
    assert client.get("/staff/units/dukcapil/qr.png?target=web").status_code == 404


# WhatsApp on the cards (WHATSAPP_BUSINESS_NUMBER) ----------------------------------------------

WA_NUMBER = "6281100000000"


def test_whatsapp_links_carry_the_payload_in_the_first_message() -> None:
    from core.masterdata.qr import whatsapp_link, whatsapp_short_link, whatsapp_text
    from core.shared.errors import InvalidInput

    assert whatsapp_text("u_dukcapil") == "START u_dukcapil"
    assert whatsapp_link(WA_NUMBER, "s_12") == f"https://wa.me/{WA_NUMBER}?text=START%20s_12"
    assert whatsapp_short_link(WA_NUMBER) == f"wa.me/{WA_NUMBER}"
    for number, payload in (("+6281100000000", "u_x"), ("62811", "u_x"), (WA_NUMBER, "u x&")):
        with pytest.raises(InvalidInput):
            whatsapp_link(number, payload)


def test_the_cards_offer_whatsapp_when_the_business_number_is_set(
    world: tuple[TestClient, dict[str, object]], settings: Settings, engine: Engine
) -> None:
    with_wa = settings.model_copy(update={"whatsapp_business_number": WA_NUMBER})
    client = _console(with_wa, engine, "")
    page = client.get("/staff/units/dukcapil/qr")
    assert f"https://wa.me/{WA_NUMBER}?text=START%20u_dukcapil" in page.text
    assert "START u_dukcapil" in page.text and "WHATSAPP_BUSINESS_NUMBER" not in page.text
    png = client.get("/staff/units/dukcapil/qr.png?target=whatsapp&officer=yoh12345")
    assert decode(png.content) == f"https://wa.me/{WA_NUMBER}?text=START%20o_yoh12345"
    assert "qr-dukcapil-whatsapp-o-yoh12345.png" in png.headers["content-disposition"]
    svg = client.get("/staff/units/dukcapil/qr.svg?target=whatsapp")
    assert svg.status_code == 200 and b"START u_dukcapil" in svg.content
    pdf = client.get("/staff/units/dukcapil/qr-sheet.pdf").content
    # Four cards, each with the bot's code and WhatsApp's, and the message to send by hand.
    assert pdf.count(b"/Subtype /Image") == 8
    assert pdf.count(b"Pindai untuk membuka WhatsApp") == 4
    assert b'kirim pesan "START u_dukcapil" ke +6281100000000' in pdf
    assert b"t.me/kupang_lapor_bot?start=u_dukcapil" in pdf  # the bot stays on every card
    # With the website too: three codes a card.
    both = _console(with_wa, engine, "https://skm.kupangkota.go.id")
    pdf = both.get("/staff/units/dukcapil/qr-sheet.pdf").content
    assert pdf.count(b"/Subtype /Image") == 12
    assert pdf.count(b"Pindai untuk membuka situs web") == 4
    assert pdf.count(b"Pindai untuk membuka WhatsApp") == 4
    assert both.get("/staff/units/qr-sheet.pdf").content.count(b"START u_dukcapil") >= 1


def test_without_a_business_number_the_cards_offer_no_whatsapp(
    world: tuple[TestClient, dict[str, object]], settings: Settings, engine: Engine
) -> None:
    client = _console(settings, engine, "")
    page = client.get("/staff/units/dukcapil/qr")
    assert "WHATSAPP_BUSINESS_NUMBER" in page.text and "https://wa.me" not in page.text
    assert b"WhatsApp" not in client.get("/staff/units/dukcapil/qr-sheet.pdf").content
    assert client.get("/staff/units/dukcapil/qr.png?target=whatsapp").status_code == 404
