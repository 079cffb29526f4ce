"""Fair officer scores (issue 14): the unit mean is counted under the anti-gaming caps, the
caps outlive a citizen's erasure through the pseudonymous respondent key, and channels with
no stable person are capped through the identity they have.

Figures are the worked examples of docs/rules.md ("Officer feedback score"): a response
scores (q6 + q7) / 2 (SKM elements 6 Kompetensi Pelaksana and 7 Perilaku Pelaksana,
PermenPANRB 14/2017 Annex), the score is shrunk toward the unit's mean with prior weight
k = 10: (k*m + sum) / (k + n); one response counts per respondent, officer (or unit) and
local day, at most 3 per respondent and officer (or unit) over the period.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.masterdata.models import Officer
from core.people.citizens import erase_citizen, get_or_create_citizen
from core.people.models import Channel, Intake, Role
from core.shared.config import ConfigError, load_settings
from core.shared.errors import InvalidInput
from core.surveys.models import SurveyResponse
from core.surveys.officer_scores import OfficerScore, ScorePolicy, officer_scores, unit_priors
from core.surveys.respondents import KEY_FLOOR, respondent_key
from core.surveys.submission import SurveyDraft, submit_survey
from tests.botkit import ScriptedCitizen, onboard
from tests.contacts import telegram_citizen
from tests.factories import local, make_officer, make_service, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
SECRET = load_settings(environment="test", _env_file=None).pseudonym_key
POLICY = ScorePolicy(prior_weight=10, min_n=5, citizen_cap=3)
LO = datetime(2026, 10, 31, 16, tzinfo=UTC)  # November 2026, in WITA days
HI = datetime(2026, 11, 30, 16, tzinfo=UTC)
DAY = date(2026, 11, 2)


def answers(q6: int, q7: int) -> tuple[int, ...]:
    return (3, 3, 3, 3, 3, q6, q7, 3, 3)


class Office:
    """A unit with two officers and 25 services (a citizen may answer once per service and
    day, so many answers in one day go through different services)."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        self.yohanes = make_officer(s, self.unit, "Yohanes Ndun")
        self.maria = make_officer(s, self.unit, "Maria Bria")
        self.services = [make_service(s, self.unit, f"Layanan {i}") for i in range(25)]

    def answer(
        self,
        officer: Officer | None,
        q6: int,
        q7: int,
        *,
        day: date = DAY,
        service: int = 0,
        citizen_id: int | None = None,
        channel: Intake = Intake.telegram,
        device_token: str | None = None,
        entered_by: int | None = None,
        hour: int = 10,
    ) -> SurveyResponse:
        assert self.unit.id is not None
        return submit_survey(
            self.s,
            SurveyDraft(
                unit_id=self.unit.id,
                service_id=self.services[service].id,
                officer_id=officer.id if officer else None,
                answers=answers(q6, q7),
                channel=channel,
            ),
            citizen_id=citizen_id,
            tz=WITA,
            pseudonym_key=SECRET,
            device_token=device_token,
            entered_by=entered_by,
            now=local(day, hour),
        )

    def scores(self) -> dict[int, OfficerScore]:
        pairs = [(o.id or 0, self.unit.id or 0) for o in (self.yohanes, self.maria)]
        return officer_scores(self.s, pairs, LO, HI, POLICY)

    def yohanes_score(self) -> OfficerScore:
        return self.scores()[self.yohanes.id or 0]

    def maria_score(self) -> OfficerScore:
        return self.scores()[self.maria.id or 0]

    def prior_n(self) -> int:
        return unit_priors(self.s, [self.unit.id or 0], LO, HI, POLICY)[self.unit.id or 0].n


@pytest.fixture
def office(session: Session) -> Office:
    return Office(session)


def citizen(s: Session, telegram_id: int) -> int:
    return telegram_citizen(s, telegram_id).id or 0


# 1. The unit mean is counted under the same caps -------------------------------------------


def test_one_citizen_answering_many_times_no_longer_moves_every_officer(office: Office) -> None:
    """Ten citizens give Yohanes 4 each. One citizen gives Maria 1, twenty times on 2
    November (twenty services) and once more on each of the next five days. Counted per unit
    like the officer's own: once on 2 November, then two more days (cap 3): the unit's mean
    is (10 x 4 + 3 x 1) / 13 = 3.3077, and Yohanes' score (10 x 3.3077 + 40) / 20 = 3.6538.
    Uncapped it was (40 + 25) / 35 = 1.857 and Yohanes would show 2.93 for one stranger's
    twenty-five taps about a colleague."""
    s = office.s
    for i in range(10):
        office.answer(office.yohanes, 4, 4, citizen_id=citizen(s, 7000 + i))
    spammer = citizen(s, 7100)
    for k in range(20):
        office.answer(office.maria, 1, 1, citizen_id=spammer, service=k, hour=8 + k % 10)
    for d in range(1, 6):
        office.answer(office.maria, 1, 1, citizen_id=spammer, day=DAY + timedelta(days=d))

    yoh, maria = office.yohanes_score(), office.maria_score()
    assert maria.n == 3 and maria.raw_mean == 1.0  # the officer's own caps, as before
    assert office.prior_n() == 13
    assert yoh.unit_mean == pytest.approx(43 / 13)
    assert yoh.shrunk == pytest.approx((10 * 43 / 13 + 40) / 20)
    assert yoh.shrunk == pytest.approx(3.6538, abs=1e-4)
    assert maria.unit_mean == yoh.unit_mean  # one prior per unit


def test_unit_caps_count_the_unit_not_the_officer(office: Office) -> None:
    """The unit's mean counts one response per respondent, unit and day: a citizen who rates
    both officers (and the unit without an officer) on one day adds one response to the
    mean, their first; each officer still gets their own."""
    s = office.s
    ani = citizen(s, 7200)
    office.answer(office.yohanes, 4, 4, citizen_id=ani, service=0, hour=9)
    office.answer(office.maria, 2, 2, citizen_id=ani, service=1, hour=10)
    office.answer(None, 1, 1, citizen_id=ani, service=2, hour=11)
    # The next day, the unit without an officer: a second day, so a second response.
    office.answer(None, 3, 3, citizen_id=ani, day=DAY + timedelta(days=1))
    assert office.prior_n() == 2
    yoh, maria = office.yohanes_score(), office.maria_score()
    assert yoh.unit_mean == pytest.approx((4 + 3) / 2)
    assert (yoh.n, maria.n) == (1, 1)


# 2. Erasure: the caps key on the pseudonymous respondent key --------------------------------


def test_twenty_answers_count_as_one_before_and_after_erasure(office: Office) -> None:
    """One Telegram user rates Maria 4 twenty times on one day (twenty services): one
    response for her and one for the unit's mean, before and after they erase their data.
    Erased, the twenty carry one new random key: still one person's, but nothing, not even
    the secret, leads from them to the Telegram id or to the answers of the same user who
    comes back (who is then a new respondent)."""
    s = office.s
    for i in range(6):  # other citizens, one answer each: 2 for Maria
        office.answer(office.maria, 2, 2, citizen_id=citizen(s, 7300 + i))
    fan = telegram_citizen(s, 7399)
    for k in range(20):
        office.answer(office.maria, 4, 4, citizen_id=fan.id, service=k, hour=8 + k % 10)
    before = office.maria_score()
    assert (before.n, office.prior_n()) == (7, 7)
    assert before.raw_mean == pytest.approx((6 * 2 + 4) / 7)
    hashed = respondent_key(SECRET, "telegram:7399")

    def fans() -> list[SurveyResponse]:
        rows = s.exec(select(SurveyResponse).where(SurveyResponse.officer_id == office.maria.id))
        return [r for r in rows.all() if r.citizen_id is None]

    erase_citizen(s, fan)
    s.flush()
    erased = fans()
    assert len(erased) == 20 and len({r.respondent_key for r in erased}) == 1
    assert erased[0].respondent_key not in (None, hashed)  # the confirmable hash is gone
    after = office.maria_score()
    assert (after.n, after.raw_mean, after.shrunk) == (before.n, before.raw_mean, before.shrunk)
    assert office.prior_n() == 7

    # Back the same day as a new citizen: a new respondent, not linked to the erased answers.
    again = get_or_create_citizen(s, Channel.telegram, "7399")
    office.answer(office.maria, 4, 4, citizen_id=again.id, service=0, hour=20)
    assert office.maria_score().n == 8 and office.prior_n() == 8
    linked = s.exec(select(SurveyResponse).where(SurveyResponse.respondent_key == hashed)).all()
    assert [r.citizen_id for r in linked] == [again.id]

    # Without a key (what erasure did before), the twenty erased would count as twenty.
    s.execute(
        update(SurveyResponse)
        .where(col(SurveyResponse.citizen_id).is_(None))
        .values(respondent_key=None)
    )
    assert office.maria_score().n == 6 + 20 + 1


def test_the_key_does_not_give_the_telegram_id_back_without_the_secret(office: Office) -> None:
    """The stored key is 62 bits of HMAC-SHA256(PSEUDONYM_KEY, "telegram:<id>"): the same
    for the same person, different under another secret, and trying every Telegram id
    finds it only with the secret."""
    s = office.s
    tg_id = 7_455_123
    response = office.answer(office.maria, 3, 3, citizen_id=citizen(s, tg_id))
    stored = response.respondent_key
    assert stored is not None and KEY_FLOOR <= stored < 2**63
    assert str(tg_id) not in str(stored)
    assert stored == respondent_key(SECRET, f"telegram:{tg_id}")
    other_secret = "another-deployment-secret-of-32-characters-or-more"
    assert respondent_key(other_secret, f"telegram:{tg_id}") != stored
    candidates = range(tg_id - 20_000, tg_id + 20_000)
    assert [t for t in candidates if respondent_key(other_secret, f"telegram:{t}") == stored] == []
    assert [t for t in candidates if respondent_key(SECRET, f"telegram:{t}") == stored] == [tg_id]


def test_the_pseudonym_key_setting() -> None:
    """Production refuses to run without its own PSEUDONYM_KEY (one line naming the key);
    development and tests use a fixed public key, the same in every process."""
    with pytest.raises(ConfigError, match=r"^Configuration error: PSEUDONYM_KEY: must be set"):
        load_settings(environment="production", jwt_secret="j" * 40, _env_file=None)
    with pytest.raises(ConfigError, match="PSEUDONYM_KEY: must be at least 32 characters"):
        load_settings(pseudonym_key="too-short", _env_file=None)
    dev = load_settings(environment="development", _env_file=None).pseudonym_key
    assert dev == SECRET and len(dev) >= 32
    with pytest.raises(ConfigError, match="PSEUDONYM_KEY: must not be the public development"):
        load_settings(
            environment="production", jwt_secret="j" * 40, pseudonym_key=dev, _env_file=None
        )
    own = "k" * 48
    assert load_settings(environment="test", pseudonym_key=own, _env_file=None).pseudonym_key == own


def test_production_without_a_pseudonym_key_does_not_start(tmp_path: Path) -> None:
    """`asn-feedback db upgrade` in production without PSEUDONYM_KEY stops before touching
    the database, with one line naming the key and how to make one."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE", "JWT", "PSEUDONYM", "ASN_FEEDBACK_CHEAP"))
    }
    environ.update(ENVIRONMENT="production", JWT_SECRET="j" * 48)
    proc = subprocess.run(
        [sys.executable, "-m", "app", "db", "upgrade"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("Configuration error: PSEUDONYM_KEY: must be set to a random value")
    assert "secrets.token_urlsafe(48)" in line
    assert not (tmp_path / "data").exists()


# 3. Channels without a stable person --------------------------------------------------------


def test_web_responses_are_capped_per_device(office: Office) -> None:
    """The web form's respondent is its device token: five answers from one device on one
    day count once, a second device counts apart."""
    phone, laptop = "device-token-phone-0001", "device-token-laptop-002"
    for k in range(5):
        office.answer(
            office.maria, 4, 4, channel=Intake.web, device_token=phone, service=k, hour=8 + k
        )
    office.answer(office.maria, 2, 2, channel=Intake.web, device_token=laptop)
    maria = office.maria_score()
    assert maria.n == 2 and maria.raw_mean == pytest.approx(3.0)
    with pytest.raises(InvalidInput, match="needs the device token"):
        office.answer(office.maria, 4, 4, channel=Intake.web)
    with pytest.raises(InvalidInput, match="16-128 characters"):
        office.answer(office.maria, 4, 4, channel=Intake.web, device_token="short")


def test_paper_responses_are_capped_per_entering_staff_member_and_day(office: Office) -> None:
    """A paper questionnaire's respondent is the staff account that types it in and the day:
    whatever one staff member enters for Maria on a day weighs as one response (the first),
    another staff member's as another, the next day's as another."""
    s = office.s
    clerk = make_user(s, "loket1", Role.supervisor, [office.unit]).id
    other = make_user(s, "loket2", Role.supervisor, [office.unit]).id
    for k in range(5):
        office.answer(
            office.maria, 4, 4, channel=Intake.paper, entered_by=clerk, service=k, hour=8 + k
        )
    office.answer(office.maria, 2, 2, channel=Intake.paper, entered_by=other)
    office.answer(
        office.maria, 3, 3, channel=Intake.paper, entered_by=clerk, day=DAY + timedelta(days=1)
    )
    maria = office.maria_score()
    assert maria.n == 3 and maria.raw_mean == pytest.approx((4 + 2 + 3) / 3)
    assert office.prior_n() == 3
    for channel in (Intake.paper, Intake.counter, Intake.phone, Intake.letter):
        with pytest.raises(InvalidInput, match="needs the staff account that enters it"):
            office.answer(office.maria, 4, 4, channel=channel)
    with pytest.raises(InvalidInput, match="needs the staff account"):
        office.answer(office.maria, 4, 4, channel=Intake.paper, entered_by=999_999)


def test_every_intake_channel_has_an_identity_rule(office: Office) -> None:
    """Each Intake channel either names its respondent or is refused with a clear message:
    none falls through to "every response a respondent of its own"."""
    s = office.s
    clerk = make_user(s, "loket", Role.supervisor, [office.unit]).id
    whatsapp = get_or_create_citizen(s, Channel.whatsapp, "+6281234567890")
    given: dict[Intake, dict[str, Any]] = {
        Intake.telegram: {"citizen_id": citizen(s, 7500)},
        Intake.whatsapp: {"citizen_id": whatsapp.id},
        Intake.web: {"device_token": "device-token-0123456789"},
    }
    keys = {}
    for i, channel in enumerate(Intake):
        kwargs = given.get(channel, {"entered_by": clerk})
        r = office.answer(office.maria, 3, 3, channel=channel, service=i, **kwargs)
        assert r.channel == channel.value
        keys[channel] = r.respondent_key
    assert keys[Intake.whatsapp] == respondent_key(SECRET, "whatsapp:+6281234567890")
    assert keys[Intake.paper] == respondent_key(SECRET, f"paper:staff:{clerk}:2026-11-02")
    assert all(key is not None for key in keys.values())
    assert len(set(keys.values())) == len(Intake)  # the channel is part of the identity


# Through the real bot --------------------------------------------------------------------


async def test_the_bot_keys_each_answer_and_the_privacy_notice_says_so(
    engine: Engine, citizen: Callable[[int], ScriptedCitizen]
) -> None:
    """A survey answered in Telegram stores the key of "telegram:<user id>" (the bot's
    PSEUDONYM_KEY); the privacy notice tells the citizen, in both languages, and erasure
    replaces it with a random one."""
    with Session(engine) as s:
        make_unit(s, "kec-alak", "Kecamatan Alak")
        s.commit()
    c = citizen(5_123_456)
    await onboard(c)
    await c.press("Nilai layanan")
    await c.press("Kecamatan Alak")
    for i in range(9):
        await c.press_data(f"svy:a:{i}:4")
    await c.press("Lewati")
    await c.press("Lewati semua")
    await c.say("/privacy")
    notice = c.screen().text
    assert "setiap jawaban survei menyimpan kode samaran" in notice
    assert "tidak dapat dikembalikan menjadi nomor tersebut tanpa kunci itu" in notice
    assert "diganti dengan kode acak yang tidak terhubung dengan siapa pun" in notice
    assert len(notice) <= 4096  # one Telegram message
    await c.press("Hapus data saya")
    await c.press("Ya, hapus")
    with Session(engine) as s:
        [r] = s.exec(select(SurveyResponse)).all()
        assert r.citizen_id is None
        assert r.respondent_key not in (None, respondent_key(SECRET, "telegram:5123456"))
    en = citizen(5_123_457)
    await onboard(en, "en")
    await en.say("/privacy")
    notice = en.screen().text
    assert "each survey answer keeps a pseudonymous code made from your Telegram account" in notice
    assert "cannot be turned back into it without that key" in notice
    assert "replaced by a random code linked to no one" in notice
