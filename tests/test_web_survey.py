"""Rating a service on the public web site, as a citizen with only a browser does it: the
bot's nine questions on pages, the one-a-day rule per device, robots and floods refused,
nothing typed lost on a refusal."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from conversations.i18n import t as bot_t
from core.policies import build
from core.shared.config import Settings
from core.surveys.models import SurveyResponse
from tests.factories import make_officer, make_service, make_unit

ANSWERS = {f"a{n}": str(1 + n % 4) for n in range(1, 10)}


@dataclass
class Office:
    settings: Settings
    engine: Engine
    ktp: int
    akta: int
    yoh: int
    other_service: int  # a service of another unit


@pytest.fixture
def office(settings: Settings, engine: Engine) -> Office:
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        other = make_unit(s, "dinkes", "Dinas Kesehatan")
        ktp = make_service(s, unit, "KTP-el")
        akta = make_service(s, unit, "Akta Kelahiran")
        elsewhere = make_service(s, other, "Vaksinasi")
        yoh = make_officer(s, unit, "Yohanes Ndun", public_code="yoh12345")
        make_officer(s, unit, "Maria Bria", public_code="old12345", active=False)
        s.commit()
        assert ktp.id and akta.id and yoh.id and elsewhere.id
        fast = settings.model_copy(update={"web_min_fill_seconds": 0})
        return Office(fast, engine, ktp.id, akta.id, yoh.id, elsewhere.id)


def site(office: Office, **changes: object) -> TestClient:
    settings = office.settings.model_copy(update=changes) if changes else office.settings
    return TestClient(create_site(build(settings, office.engine)))


def hidden(page: str) -> dict[str, str]:
    """The hidden fields of a page's form (its stamp and carried answers)."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def responses(engine: Engine) -> list[SurveyResponse]:
    with Session(engine) as s:
        return list(s.exec(select(SurveyResponse)).all())


def rate(client: TestClient, code: str, choose: dict[str, str], **last: str) -> str:
    """A whole survey through every page; the last page's text."""
    first = client.get(f"/nilai/{code}")
    assert first.status_code == 200, first.text
    page = first.text
    if 'action="/nilai/' + code + '"' in page:  # the service and officer to choose
        answer = client.post(f"/nilai/{code}", data={**hidden(page), **choose})
        assert answer.status_code == 200, answer.text
        page = answer.text
    questions = client.post(f"/nilai/{code}/pertanyaan", data={**hidden(page), **ANSWERS})
    assert questions.status_code == 200, questions.text
    done = client.post(f"/nilai/{code}/kirim", data={**hidden(questions.text), **last})
    return done.text


def test_a_whole_survey_stores_one_web_response_with_the_answers(office: Office) -> None:
    client = site(office)
    units = client.get("/nilai?q=kependudukan")
    assert "Dinas Kependudukan" in units.text and "Dinas Kesehatan" not in units.text
    first = client.get("/nilai/dukcapil")
    # The bot's steps: the unit's services or "other", the officers or "don't know".
    assert "KTP-el" in first.text and bot_t("id", "svy.service.skip") in first.text
    assert "Yohanes Ndun" in first.text and "Maria Bria" not in first.text
    questions = client.post(
        "/nilai/dukcapil", data={**hidden(first.text), "service": str(office.ktp), "officer": "0"}
    )
    # The nine questions in the bot's exact words, each a fieldset of four radio buttons.
    assert questions.text.count("<fieldset") == 9
    assert questions.text.count('type="radio"') == 36
    for n in (1, 4, 9):
        assert bot_t("id", f"svy.q{n}") in questions.text
        assert bot_t("id", f"svy.q{n}.a4") in questions.text
    assert "Layanan: KTP-el" in questions.text
    profile = client.post("/nilai/dukcapil/pertanyaan", data={**hidden(questions.text), **ANSWERS})
    assert bot_t("id", "profile.occupation.nelayan") in profile.text
    sent = client.post(
        "/nilai/dukcapil/kirim",
        data={**hidden(profile.text), "comment": "Antrean cepat <b>sekali</b>", "sex": "perempuan"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    thanks = client.get(sent.headers["location"])
    assert "Terima kasih" in thanks.text and "Dinas Kependudukan" in thanks.text
    [stored] = responses(office.engine)
    assert stored.channel == "web" and stored.service_id == office.ktp
    assert stored.officer_id is None and stored.citizen_id is None
    assert [getattr(stored, f"q{n}") for n in range(1, 10)] == [int(v) for v in ANSWERS.values()]
    assert stored.comment == "Antrean cepat <b>sekali</b>" and stored.sex == "perempuan"
    assert stored.age_band is None and stored.respondent_key


def test_one_rating_a_day_per_device_and_another_device_is_welcome(office: Office) -> None:
    citizen = site(office)
    choose = {"service": str(office.ktp), "officer": "0"}
    rate(citizen, "dukcapil", choose)
    assert len(responses(office.engine)) == 1
    # The same device, the same unit and service: told before the questions.
    first = citizen.get("/nilai/dukcapil")
    again = citizen.post("/nilai/dukcapil", data={**hidden(first.text), **choose})
    assert again.status_code == 409 and "sudah dinilai hari ini" in again.text
    assert 'href="/"' in again.text  # the way home
    # ... and at the end, if the last page is sent again (a second tab, a reload).
    questions = citizen.post(
        "/nilai/dukcapil", data={**hidden(first.text), "service": str(office.akta), "officer": "0"}
    )
    profile = citizen.post("/nilai/dukcapil/pertanyaan", data={**hidden(questions.text), **ANSWERS})
    form = {**hidden(profile.text), "service": str(office.ktp)}
    twice = citizen.post("/nilai/dukcapil/kirim", data=form)
    assert twice.status_code == 409 and "sudah dinilai hari ini" in twice.text
    # Another service of the unit is another rating; another device rates the same one.
    assert citizen.post("/nilai/dukcapil/kirim", data=hidden(profile.text)).status_code == 200
    neighbour = site(office)
    rate(neighbour, "dukcapil", choose)
    assert len(responses(office.engine)) == 3


def test_a_qr_code_chooses_the_unit_service_or_officer_as_in_the_bot(office: Office) -> None:
    client = site(office)
    # An officer's card names them: no list of officers to choose from.
    officer_page = client.get("/nilai/o_yoh12345")
    assert "Petugas: Yohanes Ndun" in officer_page.text and 'name="officer"' in officer_page.text
    assert "<select" not in officer_page.text
    rate(client, "o_yoh12345", {"service": "0"})
    # A service's card names it: only the officer (or "don't know") is asked, as in the bot.
    service_page = client.get(f"/nilai/s_{office.akta}")
    assert "Layanan: Akta Kelahiran" in service_page.text and "<select" in service_page.text
    assert 'type="radio" name="service"' not in service_page.text
    rate(client, f"s_{office.akta}", {"officer": "0"})
    stored = {(r.service_id, r.officer_id) for r in responses(office.engine)}
    assert stored == {(None, office.yoh), (office.akta, None)}
    # The bot's unit payload is the unit's own address too.
    assert "Dinas Kependudukan" in client.get("/nilai/u_dukcapil").text
    # A deactivated officer's card opens the unit without naming them.
    assert "Maria Bria" not in client.get("/nilai/o_old12345").text
    for unknown in ("nowhere", "o_nobody", "s_999999", "u_nope", "x_1", "DUKCAPIL%20"):
        r = client.get(f"/nilai/{unknown}")
        assert r.status_code == 404 and "tidak dikenal" in r.text, unknown


def test_a_missing_answer_keeps_the_others_and_names_the_missing(office: Office) -> None:
    client = site(office)
    page = client.get(f"/nilai/s_{office.ktp}").text
    partial = {k: v for k, v in ANSWERS.items() if k not in ("a3", "a7")}
    again = client.post(f"/nilai/s_{office.ktp}/pertanyaan", data={**hidden(page), **partial})
    assert again.status_code == 400
    assert "Pertanyaan nomor 3, 7 belum dijawab" in again.text
    for name, value in partial.items():
        assert f'name="{name}" value="{value}" required checked' in again.text
    assert 'name="a3" value="1" required checked' not in again.text
    assert responses(office.engine) == []


def test_a_robot_filling_the_honeypot_is_refused_and_nothing_is_stored(office: Office) -> None:
    client = site(office)
    page = client.get(f"/nilai/s_{office.ktp}").text
    profile = client.post(f"/nilai/s_{office.ktp}/pertanyaan", data={**hidden(page), **ANSWERS})
    robot = client.post(
        f"/nilai/s_{office.ktp}/kirim", data={**hidden(profile.text), "website": "http://spam"}
    )
    assert robot.status_code == 400
    forged = client.post(
        f"/nilai/s_{office.ktp}/kirim", data={**hidden(profile.text), "stamp": "1.abc"}
    )
    assert forged.status_code == 400
    assert responses(office.engine) == []


def test_a_form_sent_too_fast_comes_back_with_the_answers_kept(office: Office) -> None:
    client = site(office, web_min_fill_seconds=60)
    page = client.get(f"/nilai/s_{office.ktp}").text
    quick = client.post(f"/nilai/s_{office.ktp}/pertanyaan", data={**hidden(page), **ANSWERS})
    assert quick.status_code == 200 and "terlalu cepat" in quick.text
    assert "svy-q" in quick.text  # the questions again, not the next page
    for name, value in ANSWERS.items():
        assert f'name="{name}" value="{value}" required checked' in quick.text
    assert hidden(quick.text)["stamp"]  # a fresh stamp to send with
    assert responses(office.engine) == []


def test_a_long_comment_is_kept_with_how_much_to_cut(office: Office) -> None:
    client = site(office)
    page = client.get(f"/nilai/s_{office.ktp}").text
    profile = client.post(f"/nilai/s_{office.ktp}/pertanyaan", data={**hidden(page), **ANSWERS})
    long = "Pelayanan <i>lambat</i>. " + "x" * 1100
    r = client.post(
        f"/nilai/s_{office.ktp}/kirim",
        data={**hidden(profile.text), "comment": long, "education": "sma"},
    )
    assert r.status_code == 400
    assert f"kurangi {len(long) - 1000} karakter" in r.text
    assert "Pelayanan &lt;i&gt;lambat&lt;/i&gt;. xxx" in r.text  # kept, shown as text
    assert '<option value="sma" selected>' in r.text
    assert responses(office.engine) == []


def test_tampered_and_odd_inputs_are_answered_never_with_a_500(office: Office) -> None:
    client = site(office)
    page = client.get("/nilai/dukcapil").text
    for choose in (
        {"service": str(office.other_service)},  # another unit's service
        {"service": "12345678901234"},
        {"service": "-1"},
        {"officer": "999999"},
        {"service": "x"},
    ):
        r = client.post("/nilai/dukcapil", data={**hidden(page), **choose})
        assert r.status_code == 409 and "tidak lagi tersedia" in r.text, choose
    questions = client.post("/nilai/dukcapil", data={**hidden(page), "service": "0"}).text
    profile = client.post("/nilai/dukcapil/pertanyaan", data={**hidden(questions), **ANSWERS})
    for odd in ({"sex": "robot"}, {"a4": "5"}, {"a9": ""}):
        r = client.post("/nilai/dukcapil/kirim", data={**hidden(profile.text), **odd})
        assert r.status_code in (400, 409) and "<h1>" in r.text, odd
    nul = client.post("/nilai/dukcapil/kirim", data={**hidden(profile.text), "comment": "a\x00b"})
    assert nul.status_code == 400
    assert client.get("/nilai/dukcapil/kirim", follow_redirects=False).status_code == 303
    assert client.get("/nilai?q=" + "x" * 600).status_code == 400
    assert responses(office.engine) == []


def test_the_flood_cap_per_address_answers_429(office: Office) -> None:
    client = site(office, web_posts_per_minute=3)
    page = client.get(f"/nilai/s_{office.ktp}").text
    codes = [
        client.post(
            f"/nilai/s_{office.ktp}/pertanyaan", data={**hidden(page), **ANSWERS}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_pages_are_small_and_speak_english_when_asked(office: Office) -> None:
    client = site(office)
    pages = [client.get("/nilai"), client.get("/nilai/dukcapil")]
    first = client.get(f"/nilai/s_{office.ktp}?lang=en")
    assert bot_t("en", "svy.officer.prompt") in first.text
    questions = client.post(f"/nilai/s_{office.ktp}", data={**hidden(first.text), "officer": "0"})
    assert bot_t("en", "svy.q1") in questions.text and "Nine questions" in questions.text
    pages += [first, questions]
    for page in pages:
        assert page.status_code == 200
        assert len(gzip.compress(page.content)) < 50_000
