"""The SKM survey in the real bot: real Updates through the real Application."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import build_application
from core.chat.models import ConversationState
from core.shared.config import Settings
from core.surveys.models import SurveyResponse
from tests.botkit import FakeTelegram, ScriptedCitizen, onboard
from tests.contacts import citizen_of
from tests.factories import make_officer, make_service, make_unit

App = Any


@pytest.fixture
def demo_units(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        dukcapil = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        ktp = make_service(s, dukcapil, "KTP-el")
        kk = make_service(s, dukcapil, "Kartu Keluarga")
        yoh = make_officer(s, dukcapil, "Yohanes Ndun", public_code="yoh12345")
        old = make_officer(s, dukcapil, "Maria Bria", public_code="old12345", active=False)
        make_unit(s, "kec-alak", "Kecamatan Alak")
        s.commit()
        ids = {"dukcapil": dukcapil.id, "ktp": ktp.id, "kk": kk.id, "yoh": yoh.id, "old": old.id}
    return {k: int(v or 0) for k, v in ids.items()}


def responses(engine: Engine) -> list[SurveyResponse]:
    with Session(engine) as s:
        return list(s.exec(select(SurveyResponse)).all())


async def answer_all(c: ScriptedCitizen, values: list[int]) -> None:
    for i, v in enumerate(values):
        assert f"{i + 1} dari 9" in c.screen().text or f"{i + 1} of 9" in c.screen().text
        await c.press_data(f"svy:a:{i}:{v}")


async def test_whole_survey_in_indonesian(
    engine: Engine,
    demo_units: dict[str, int],
    citizen: Callable[[int], ScriptedCitizen],
    bot: tuple[App, FakeTelegram],
) -> None:
    _, tg = bot
    c = citizen(5001)
    await onboard(c)
    assert "Menu utama" in c.screen().text
    await c.press("Nilai layanan")
    assert "Unit layanan mana" in c.screen().text
    assert "Dinas Kependudukan dan Pencatatan Sipil" in c.labels()
    await c.press("Kependudukan")
    assert "Layanan apa" in c.screen().text
    await c.press("KTP-el")
    assert "petugas" in c.screen().text.lower()
    await c.press("Yohanes")
    # Element 1 with the regulation's own wording and answers.
    assert "kesesuaian persyaratan pelayanan" in c.screen().text
    assert c.labels()[:4] == ["Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"]
    await c.press_data("svy:a:0:4")
    assert "kecepatan waktu" not in c.screen().text and "prosedur" in c.screen().text
    await c.press("Sangat mudah")
    await answer_all_from(c, 2, [3, 2, 4, 3, 4, 3, 2])
    assert "saran atau komentar" in c.screen().text
    await c.say("Antrean panjang tapi petugas ramah.")
    await c.press("Perempuan")
    await c.press("30-39")
    await c.press("D4/S1")
    await c.press("Wirausaha")
    thanks = [m.text for m in c.messages() if "Terima kasih" in m.text]
    assert thanks and "Dinas Kependudukan dan Pencatatan Sipil" in thanks[0]
    assert "Menu utama" in c.screen().text

    [r] = responses(engine)
    assert [r.q1, r.q2, r.q3, r.q4, r.q5, r.q6, r.q7, r.q8, r.q9] == [4, 4, 3, 2, 4, 3, 4, 3, 2]
    assert (r.unit_id, r.service_id, r.officer_id) == (
        demo_units["dukcapil"],
        demo_units["ktp"],
        demo_units["yoh"],
    )
    assert r.comment == "Antrean panjang tapi petugas ramah."
    assert (r.sex, r.age_band, r.education, r.occupation) == (
        "perempuan",
        "30-39",
        "d4-s1",
        "wirausaha",
    )
    # Each answer replaced the question in place: the chat stays short.
    sent = tg.sent_to(5001, "sendMessage")
    assert len(tg.sent_to(5001, "editMessageText")) >= 15
    assert len(sent) <= 4, [p["text"][:40] for p in sent]
    with Session(engine) as s:
        person = citizen_of(s, 5001)
        assert person.consent_at is not None and person.language == "id"


async def answer_all_from(c: ScriptedCitizen, start: int, values: list[int]) -> None:
    for offset, v in enumerate(values):
        await c.press_data(f"svy:a:{start + offset}:{v}")


async def test_english_back_button_and_skips(
    engine: Engine, demo_units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(5002)
    await onboard(c, "en")
    assert "Main menu" in c.screen().text
    await c.press("Rate a service")
    await c.press("Kecamatan Alak")  # a unit without services or officers: straight to Q1
    assert "Question 1 of 9" in c.screen().text
    assert c.labels()[:4] == ["Not suitable", "Less suitable", "Suitable", "Very suitable"]
    await c.press("Very suitable")
    assert "Question 2 of 9" in c.screen().text
    await c.press("Back")
    assert "Question 1 of 9" in c.screen().text
    await c.press("Not suitable")
    await answer_all_from(c, 1, [2, 2, 2, 2, 2, 2, 2, 2])
    await c.press("Skip")
    assert "respondent data" in c.screen().text
    await c.press("Skip all and send")
    assert "Thank you" in "".join(m.text for m in c.messages())
    [r] = responses(engine)
    assert r.q1 == 1 and r.q2 == 2
    assert r.service_id is None and r.officer_id is None and r.comment is None
    assert r.sex is None and r.occupation is None


async def test_deep_link_preselects_officer_and_unknown_code_says_so(
    engine: Engine, demo_units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(5003)
    await onboard(c, start="/start o_yoh12345")
    # Onboarding done: the survey starts with the QR code's unit and officer chosen.
    assert "Petugas: Yohanes Ndun" in c.screen().text
    assert "Layanan apa" in c.screen().text
    await c.press("Kartu Keluarga")
    assert "Pertanyaan 1 dari 9" in c.screen().text  # no officer question: the QR named one
    await answer_all(c, [3] * 9)
    await c.press("Lewati")
    await c.press("Lewati semua")
    [r] = responses(engine)
    assert (r.officer_id, r.service_id) == (demo_units["yoh"], demo_units["kk"])

    await c.say("/start o_doesnotexist")
    assert "tidak dikenal" in c.screen().text and "Menu utama" in c.screen().text
    await c.say("/start 198504122010031002")  # a NIP is never a payload
    assert "tidak dikenal" in c.screen().text

    # A deactivated officer's code opens the unit without naming anyone.
    await c.say("/start o_old12345")
    assert "Unit: Dinas Kependudukan" in c.screen().text
    assert "Maria Bria" not in c.screen().text
    await c.say("/start s_" + str(demo_units["ktp"]))
    assert "Layanan: KTP-el" in c.screen().text


async def test_restart_mid_survey_continues_at_the_same_step(
    settings: Settings, engine: Engine, demo_units: dict[str, int]
) -> None:
    tg = FakeTelegram()
    app1 = build_application(settings, engine, request=tg)
    await app1.initialize()
    c = ScriptedCitizen(app1, tg, 5004)
    await onboard(c)
    await c.press("Nilai layanan")
    await c.press("Kecamatan Alak")
    await answer_all(c, [4, 3, 2])
    question_4 = c.screen()
    assert "Pertanyaan 4 dari 9" in question_4.text
    await app1.shutdown()  # the process stops

    app2 = build_application(settings, engine, request=tg)  # and starts again
    await app2.initialize()
    c.app = app2
    await c.press_data("svy:a:3:1", message_id=question_4.message_id)
    assert "Pertanyaan 5 dari 9" in c.screen().text
    await answer_all_from(c, 4, [1, 1, 1, 1, 1])
    await c.press("Lewati")
    await c.press("Lewati semua")
    await app2.shutdown()
    [r] = responses(engine)
    assert [r.q1, r.q2, r.q3, r.q4, r.q9] == [4, 3, 2, 1, 1]


async def test_one_response_per_unit_and_service_per_day(
    engine: Engine, demo_units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(5005)
    await onboard(c)

    async def rate(service: str) -> None:
        await c.press("Nilai layanan")
        await c.press("Kependudukan")
        await c.press(service)

    await rate("KTP-el")
    await c.press("Tidak tahu")
    await answer_all(c, [4] * 9)
    await c.press("Lewati")
    await c.press("Lewati semua")
    await rate("KTP-el")
    assert "sudah menilai layanan ini hari ini" in c.screen().text
    assert "Menu utama" in c.screen().text
    await rate("Kartu Keluarga")  # another service the same day is fine
    assert "petugas" in c.screen().text.lower()
    assert len(responses(engine)) == 1


async def test_bad_input_at_every_step_gets_a_hint_and_the_step_again(
    engine: Engine, demo_units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(5006)

    async def poke(expect_in_screen: str) -> None:
        """Everything unexpected: the same step must come back, with a hint."""
        before_state = _state(engine, c.user_id)
        stale_message = min(c.messages(), key=lambda m: m.message_id).message_id
        for action in (
            c.send_sticker(),
            c.send_photo(),
            c.say("/frobnicate"),
            c.say("x" * 5000),
            c.say("مرحبا \u200b\u200f 🙂"),
            c.press_data("svy:a:7:4", message_id=stale_message),
            c.press_data("garbage:" + "z" * 80),
        ):
            await action
            assert expect_in_screen in c.screen().text, c.screen().text
            assert c.buttons(), "the current step's buttons are shown again"
            assert _state(engine, c.user_id) == before_state

    await c.say("/start")
    await poke("Pilih bahasa")
    await c.press("Bahasa Indonesia")
    await poke("Pemberitahuan privasi")
    await c.press("setuju")
    await c.press("Nilai layanan")
    await poke("Unit layanan mana")
    await c.press("Kependudukan")
    await poke("Layanan apa")
    await c.press("KTP-el")
    await poke("Siapa petugas")
    await c.press("Tidak tahu")
    await poke("Pertanyaan 1 dari 9")
    await answer_all(c, [2] * 9)
    # The comment step takes text, but not stickers or over-long text.
    await c.send_sticker()
    assert "hanya dapat membaca teks" in c.screen().text
    await c.say("y" * 1001)
    assert "kurangi 1 karakter" in c.screen().text and "saran atau komentar" in c.screen().text
    await c.say("ok")
    await poke("Jenis kelamin")
    await c.press("Lewati semua")
    assert len(responses(engine)) == 1
    assert any("Tombol sudah tidak berlaku" in (a.get("text") or "") for a in c.tg.callback_answers)


def _state(engine: Engine, chat_id: int) -> tuple[str, str]:
    with Session(engine) as s:
        row = s.get(ConversationState, ("telegram", str(chat_id)))
        return (row.step, row.data) if row else ("", "")


async def test_cancel_language_help_and_duplicate_updates(
    engine: Engine,
    demo_units: dict[str, int],
    citizen: Callable[[int], ScriptedCitizen],
    bot: tuple[App, FakeTelegram],
) -> None:
    _, tg = bot
    c = citizen(5007)
    await onboard(c)
    await c.press("Nilai layanan")
    await c.press("Kecamatan Alak")
    await answer_all(c, [3, 3])
    # /language mid-survey: switch, then continue at the same question, now in English.
    await c.say("/language")
    await c.press("English")
    assert "Question 3 of 9" in c.screen().text
    await c.say("/help")
    assert any("/cancel" in m.text for m in c.messages())
    assert "Question 3 of 9" in c.screen().text
    # Telegram delivers the same update twice: handled once.
    await c.press_data("svy:a:2:4")
    calls_before = len(tg.calls)
    assert c.last_update is not None
    await c.replay(c.last_update)
    assert len(tg.calls) == calls_before
    assert "Question 4 of 9" in c.screen().text
    await c.say("/cancel")
    assert "Cancelled" in c.screen().text and "Main menu" in c.screen().text
    assert responses(engine) == []
    await c.say("/cancel")
    assert "nothing to cancel" in c.screen().text


async def test_commands_listed_by_help_answer_before_consent(
    citizen: Callable[[int], ScriptedCitizen],
) -> None:
    """Someone new (or who just erased their data) tries /privacy or /status before
    accepting the notice: the notice or what to do first, never "unknown command"."""
    c = citizen(5010)
    await c.say("/start")
    await c.say("/privacy")
    texts = [m.text for m in c.messages()]
    notice = next(t for t in texts if "UU No. 27 Tahun 2022" in t)
    assert "Persetujuan Anda: belum diberikan" in notice
    assert "Pilih bahasa" in c.screen().text  # and the step it was at, again
    await c.press("Bahasa Indonesia")
    await c.say("/status KPG-2611-0001")
    screen = c.screen().text
    assert screen.startswith("Pilih bahasa dan setujui pemberitahuan privasi terlebih dahulu")
    assert "Pemberitahuan privasi" in screen and "Saya setuju" in c.labels()[0]
    assert not any("tidak dikenal" in m.text for m in c.messages())
    await c.press("setuju")
    await c.say("/status KPG-2611-0001")
    assert "tidak dikenal" not in c.screen().text


async def test_group_chats_are_ignored(engine: Engine, bot: tuple[App, FakeTelegram]) -> None:
    app, tg = bot
    from telegram import Update

    update = {
        "update_id": 99_999,
        "message": {
            "message_id": 1,
            "date": 1_800_000_000,
            "chat": {"id": -100123, "type": "supergroup", "title": "Warga"},
            "from": {"id": 777, "is_bot": False, "first_name": "B"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    await app.process_update(Update.de_json(update, app.bot))
    assert [m for m, _ in tg.calls if m == "sendMessage"] == []


async def test_privacy_screen_and_erasing_my_data(
    engine: Engine, demo_units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(5008)
    await onboard(c)
    await c.press("Nilai layanan")
    await c.press("Kecamatan Alak")
    await answer_all(c, [4] * 9)
    await c.press("Lewati")
    await c.press("Lewati semua")
    await c.press("Privasi")
    assert "Persetujuan Anda: diberikan pada" in c.screen().text
    await c.press("Hapus data saya")
    assert "tidak dapat dibatalkan" in c.screen().text
    await c.press("Batal")
    assert "Menu utama" in c.screen().text
    await c.say("/privacy")
    await c.press("Hapus data saya")
    await c.press("Ya, hapus")
    assert "telah dihapus" in c.screen().text
    assert c.buttons() == []
    with Session(engine) as s:
        assert citizen_of(s, 5008) is None
        assert s.get(ConversationState, ("telegram", "5008")) is None
        [r] = s.exec(select(SurveyResponse)).all()
        assert r.citizen_id is None and r.q1 == 4  # the answer still counts, without a name
    await c.say("/start")  # a new beginning: language and consent again
    assert "Pilih bahasa" in c.screen().text


async def test_an_answer_lost_in_a_crash_is_given_when_telegram_delivers_again(
    citizen: Callable[[int], ScriptedCitizen], bot: tuple[App, FakeTelegram]
) -> None:
    """The update's effects were committed, then its answer never reached Telegram (the
    network failed, or the process died before sending): Telegram delivers it again, and the
    citizen gets the answer instead of silence."""
    _, tg = bot
    c = citizen(5010)
    tg.failures = [("net", ""), ("net", "")]  # the answer, and the apology after it
    await c.say("/start")
    assert tg.sent_to(5010, "sendMessage") == []
    assert c.last_update is not None
    await c.replay(c.last_update)
    [answer] = tg.sent_to(5010, "sendMessage")
    assert "Pilih bahasa" in answer["text"]
    await c.press("Bahasa Indonesia")  # and the conversation goes on from there
    assert c.labels() == ["✅ Saya setuju", "❌ Tidak setuju"]  # the privacy notice, next
