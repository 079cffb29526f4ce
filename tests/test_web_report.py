"""Reporting a problem on the public web site: filed through core's web reports with its
photo cleaned, the reference and follow-up code shown once (as the post's answer: never in
an address), the daily limit per device,
and every hostile or mistaken input answered with a message (never a 500), keeping what
was typed."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from conversations.i18n import t as bot_t
from core.cases.models import Attachment, Case, WebReport
from core.cases.web_reports import open_web_report, parse_code
from core.outbox.models import OutboundMessage
from core.people.models import Channel, Citizen, Contact
from core.policies import build
from core.shared.config import Settings
from tests.botkit import jpeg_with_gps
from tests.factories import make_officer, make_service, make_unit

DESCRIPTION = "Petugas loket KTP meminta uang tambahan Rp50.000 agar berkas cepat selesai."


@dataclass
class Office:
    settings: Settings
    engine: Engine
    yoh: int
    ktp: int
    attachments: Path


@pytest.fixture
def office(settings: Settings, engine: Engine, tmp_path: Path) -> Office:
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        make_unit(s, "dinkes", "Dinas Kesehatan")
        yoh = make_officer(s, unit, "Yohanes Ndun", public_code="yoh12345")
        ktp = make_service(s, unit, "KTP-el")
        s.commit()
        assert yoh.id and ktp.id
    fast = settings.model_copy(
        update={
            "web_min_fill_seconds": 0,
            "attachments_dir": str(tmp_path / "attachments"),
            "public_base_url": "https://skm.kupangkota.go.id",
            # (the form offers e-mail only with an SMTP server; nothing is sent here)
            "smtp_host": "127.0.0.1",
            "smtp_from": "skm@kupangkota.go.id",
        }
    )
    return Office(fast, engine, yoh.id, ktp.id, tmp_path / "attachments")


def site(office: Office, **changes: object) -> TestClient:
    settings = office.settings.model_copy(update=changes) if changes else office.settings
    # (https, as PUBLIC_BASE_URL: the device cookie is a Secure one)
    return TestClient(create_site(build(settings, office.engine)), base_url="https://testserver")


def hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def filled(page: str, **changes: str) -> dict[str, str]:
    form = {
        **hidden(page),
        "officer": "0",
        "category": "pungli",
        "description": DESCRIPTION,
        "privacy": "biasa",
        "consent": "yes",
        "confirm": "yes",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def photo(data: bytes, name: str = "bukti.jpg") -> tuple[str, tuple[str, bytes, str]]:
    return ("photos", (name, data, "image/jpeg"))


def report(
    client: TestClient, code: str = "dukcapil", files: list[Any] | None = None, **changes: str
) -> Any:
    page = client.get(f"/lapor/{code}")
    assert page.status_code == 200, page.text
    return client.post(
        f"/lapor/{code}",
        data=filled(page.text, **changes),
        files=files or [],
        follow_redirects=False,
    )


def cases(engine: Engine) -> list[Case]:
    with Session(engine) as s:
        return list(s.exec(select(Case)).all())


def test_a_complaint_with_a_photo_is_filed_and_its_code_shown_once(office: Office) -> None:
    client = site(office)
    units = client.get("/lapor?q=dukcapil")
    assert 'href="/lapor/dukcapil"' in units.text and "Dinas Kesehatan" not in units.text
    form = client.get("/lapor/dukcapil").text
    # The bot's words: the categories with their explanations, the privacy notice.
    assert bot_t("id", "cmp.category.help.pungli") in form
    assert bot_t("id", "svy.officer.skip") in form and "Yohanes Ndun" in form
    assert 'accept="image/*" multiple' in form and "10 MB" in form
    assert "Pemberitahuan privasi" in form and "Saya setuju" in form
    sent = client.post(
        "/lapor/dukcapil",
        data=filled(
            form,
            officer=str(office.yoh),
            address="Jl. El Tari No. 5, Kupang",
            phone="0812-3456-7890",
            email="Warga@Contoh.ID",
            latitude="-10,1772",
            longitude="123.607",
        ),
        files=[photo(jpeg_with_gps())],
        follow_redirects=False,
    )
    assert sent.status_code == 200, sent.text
    done = sent  # the post's answer is the done page: no address carries the code
    assert done.headers["cache-control"] == "no-store"
    [case] = cases(office.engine)
    assert case.channel == "web" and case.officer_id == office.yoh
    assert case.privacy == "biasa" and case.latitude == pytest.approx(-10.1772)
    assert case.description.endswith("Lokasi kejadian (ditulis pelapor): Jl. El Tari No. 5, Kupang")
    shown = re.search(r'id="follow-code">([^<]+)<', done.text)
    assert shown is not None and case.reference in done.text
    code = parse_code(shown.group(1))
    assert code is not None and len(shown.group(1)) == 9  # ABCD-EFGH
    link = f"https://skm.kupangkota.go.id/lacak/{case.reference}/{code}"
    assert f'href="{link}"' in done.text and "tangkapan layar" in done.text
    with Session(office.engine) as s:
        assert s.get(WebReport, case.id) is not None
        opened = open_web_report(
            s, case.reference, code, secret=office.settings.pseudonym_key,
            max_failures=5, lock_minutes=15,
        )  # fmt: skip
        assert opened.case is not None and opened.case.id == case.id
        [attachment] = s.exec(select(Attachment).where(Attachment.case_id == case.id)).all()
        citizen = s.get(Citizen, case.citizen_id)
        assert citizen is not None and citizen.phone == "+6281234567890"
        assert citizen.consent_at is not None
        email = s.exec(select(Contact).where(Contact.citizen_id == citizen.id)).one()
        assert (email.channel, email.address) == (Channel.email.value, "Warga@contoh.id")
        # The private link goes out by e-mail too (through the outbox, with its retries).
        [mail] = s.exec(select(OutboundMessage)).all()
        assert (mail.channel, mail.address) == ("email", "Warga@contoh.id")
        assert mail.template == "web_follow_up_link" and shown.group(1) in mail.params
    assert attachment.status == "stored" and attachment.path is not None
    stored = (office.attachments / attachment.path).read_bytes()
    assert len(Image.open(io.BytesIO(stored)).getexif()) == 0  # no EXIF, no GPS
    assert b"SecretCameraMaker" not in stored
    # The old done address shows no code.
    old = client.get("/lapor/selesai/anything")
    assert old.status_code == 410 and shown.group(1) not in old.text
    # A reload re-posts the form: nothing filed twice, the reference said, the code not.
    again = client.post(
        "/lapor/dukcapil",
        data=filled(form, officer=str(office.yoh)),
        files=[photo(jpeg_with_gps())],
        follow_redirects=False,
    )
    assert again.status_code == 409 and case.reference in again.text
    assert shown.group(1) not in again.text and code not in again.text
    assert len(cases(office.engine)) == 1


def test_a_qr_code_names_the_officer_and_service(office: Office) -> None:
    client = site(office)
    form = client.get("/lapor/o_yoh12345").text
    assert f'<option value="{office.yoh}" selected>' in form
    chosen = re.search(r'<option value="(\d+)" selected>', form)
    assert chosen is not None  # what the browser sends
    sent = client.post(
        "/lapor/o_yoh12345", data=filled(form, officer=chosen.group(1)), follow_redirects=False
    )
    assert sent.status_code == 200
    via_service = report(client, f"s_{office.ktp}", privacy="rahasia")
    assert via_service.status_code == 200
    by_ref = {c.officer_id: c for c in cases(office.engine)}
    assert set(by_ref) == {office.yoh, None}
    assert by_ref[None].service_id == office.ktp and by_ref[None].privacy == "rahasia"
    assert client.get("/lapor/nowhere").status_code == 404
    assert client.get("/lapor/o_nobody").status_code == 404


def test_five_complaints_a_day_per_device_another_device_is_fine(office: Office) -> None:
    citizen = site(office)
    page = citizen.get("/lapor/dukcapil").text  # a form left open in another tab
    for n in range(5):
        assert report(citizen, description=f"{DESCRIPTION} ({n})").status_code == 200
    form = citizen.get("/lapor/dukcapil")  # told before typing it all
    assert form.status_code == 429 and "5 laporan hari ini" in form.text
    assert 'href="/"' in form.text
    sixth = citizen.post("/lapor/dukcapil", data=filled(page), follow_redirects=False)
    assert sixth.status_code == 429 and "5 laporan hari ini" in sixth.text
    assert len(cases(office.engine)) == 5
    assert report(site(office)).status_code == 200
    assert len(cases(office.engine)) == 6


def test_mistakes_come_back_with_everything_typed_and_a_message_by_the_field(
    office: Office,
) -> None:
    client = site(office)
    long = "<script>alert(1)</script> " + "Antrean sangat panjang. " * 170  # ~4000 chars
    r = report(
        client,
        files=[photo(jpeg_with_gps())],
        description=long,
        phone="12ab",
        email="bukan-email",
        latitude="-10.17",
        longitude="",
        consent=None,
        address="Jl. Rumah Saya 1",
    )
    assert r.status_code == 400
    cut = len(long.strip()) - 2000
    assert f"kurangi {cut} karakter" in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>" not in r.text
    assert bot_t("id", "cmp.phone.invalid") in r.text and "nama@contoh.id" in r.text
    assert "garis lintang dan garis bujur" in r.text and "Saya setuju" in r.text
    assert "pilih foto lagi" in r.text  # files are the only thing a browser cannot refill
    for kept in ('value="12ab"', 'value="bukan-email"', 'value="-10.17"', "Jl. Rumah Saya 1"):
        assert kept in r.text
    assert 'value="pungli" required aria-describedby="cat-pungli" checked' in r.text
    assert 'name="consent" value="yes" required aria' in r.text  # not ticked: tick again
    short = report(client, description="Terlalu singkat")
    assert short.status_code == 400 and "paling sedikit 20 karakter" in short.text
    assert cases(office.engine) == []


def test_hostile_inputs_are_answered_with_4xx_and_a_message(office: Office) -> None:
    client = site(office)
    not_an_image = report(client, files=[photo(b"%PDF-1.4 not a photo", "x.jpg")])
    assert not_an_image.status_code == 400 and "bukan foto yang dapat dibaca" in not_an_image.text
    four = report(client, files=[photo(jpeg_with_gps(), f"{n}.jpg") for n in range(4)])
    assert four.status_code == 400 and "Paling banyak 3 foto" in four.text
    big = site(office, attachment_max_bytes=10_000)
    too_big = report(big, files=[photo(b"\xff\xd8" + b"0" * 20_000)])
    assert too_big.status_code == 400 and "lebih besar dari" in too_big.text
    nul = report(client, description=DESCRIPTION + "\x00")
    assert nul.status_code == 400 and "NUL" in nul.text
    for odd in (
        {"category": "bukan-kategori"},
        {"officer": "99999"},
        {"officer": "-1"},
        {"privacy": "publik"},
        {"latitude": "nan", "longitude": "1"},
        {"latitude": "91", "longitude": "1"},
        {"latitude": "1e999", "longitude": "1"},
        {"confirm": ""},
    ):
        r = report(client, **odd)
        assert r.status_code == 400 and "Laporan belum terkirim" in r.text, odd
    page = client.get("/lapor/dukcapil").text
    robot = client.post("/lapor/dukcapil", data=filled(page, website="spam"))
    assert robot.status_code == 400
    no_id = client.post("/lapor/dukcapil", data=filled(page, submission="x"))
    assert no_id.status_code == 400
    unknown = client.post("/lapor/tidak-ada", data=filled(page))
    assert unknown.status_code == 404 and "tidak dikenal" in unknown.text
    assert cases(office.engine) == []


def test_a_form_sent_too_fast_keeps_what_was_typed(office: Office) -> None:
    client = site(office, web_min_fill_seconds=60)
    r = report(client, description=DESCRIPTION, phone="0812 1111 2222")
    assert r.status_code == 200 and "terlalu cepat" in r.text
    assert DESCRIPTION in r.text and 'value="0812 1111 2222"' in r.text
    assert cases(office.engine) == []


def test_the_flood_cap_per_address_answers_429(office: Office) -> None:
    client = site(office, web_posts_per_minute=2)
    statuses = [report(client, category="").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


def test_the_form_is_small_and_reads_in_english(office: Office) -> None:
    import gzip

    client = site(office)
    for path in ("/lapor", "/lapor/dukcapil", "/lapor/dukcapil?lang=en"):
        page = client.get(path)
        assert page.status_code == 200 and len(gzip.compress(page.content)) < 50_000
    assert bot_t("en", "cmp.category.help.pungli") in page.text and "Send report" in page.text


def test_without_an_smtp_server_the_form_offers_no_e_mail(office: Office) -> None:
    """An address left where no mail can go would wait in the outbox for ever."""
    client = site(office, smtp_host="")
    page = client.get("/lapor/dukcapil")
    assert page.status_code == 200 and 'name="email"' not in page.text
    assert 'name="phone"' in page.text


def test_one_form_files_one_report_whichever_worker_takes_it(office: Office) -> None:
    """A double tap on a slow phone reaches two worker processes: nothing held in a
    process's memory decides, the database does (each site below is its own 'process')."""
    first, second = site(office), site(office)
    form = first.get("/lapor/dukcapil").text
    second.cookies.update(first.cookies)  # the same phone
    data = filled(form)
    sent = first.post("/lapor/dukcapil", data=data)
    assert sent.status_code == 200
    again = second.post("/lapor/dukcapil", data=data)
    [case] = cases(office.engine)
    assert again.status_code == 409 and case.reference in again.text
    # Another form (a new random id) from the same phone is a new report.
    other = first.post("/lapor/dukcapil", data=filled(first.get("/lapor/dukcapil").text))
    assert other.status_code == 200 and len(cases(office.engine)) == 2
