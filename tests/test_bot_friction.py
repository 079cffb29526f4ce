"""What citizens ran into in the bot (issue 16), through the real Application: /cancel with
nothing to cancel, a way back to the menu at every step, Back showing the answer given, free
text at the menu, too long text kept, references typed loosely, a typed address, declining
consent, the respondent profile's lists, a phone number for a call-back, times with the zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.access import Actor
from core.cases import service as svc
from core.cases.models import Case
from core.people.models import Role
from core.shared.config import Settings
from core.surveys.models import SurveyResponse
from core.surveys.trend import respondent_profile
from core.surveys.unit_scores import Period
from tests.botkit import STORY, BotUnderTest, ScriptedCitizen, file_quick, onboard
from tests.contacts import citizen_of
from tests.factories import add_response, make_officer, make_service, make_unit, make_user

STALE = "Tombol itu sudah tidak berlaku"
MENU = "🏠 Menu"


@pytest.fixture
def units(engine: Engine) -> dict[str, int]:
    """Ten units (two pages of eight), the last one with an officer; Kecamatan Alak with no
    officers; Dinas Kependudukan with a service and an officer."""
    with Session(engine) as s:
        dukcapil = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        make_service(s, dukcapil, "KTP-el")
        make_officer(s, dukcapil, "Yohanes Ndun")
        make_unit(s, "kec-alak", "Kecamatan Alak")
        for i in range(1, 9):
            make_unit(s, f"unit-{i}", f"Kelurahan {i:02d}")
        last = make_unit(s, "unit-z", "Puskesmas Oesapa")
        make_officer(s, last, "Maria Bria")
        s.commit()
        return {"dukcapil": dukcapil.id or 0, "last": last.id or 0}


def cases(engine: Engine) -> list[Case]:
    with Session(engine) as s:
        return list(s.exec(select(Case).order_by(Case.id)).all())


def responses(engine: Engine) -> list[SurveyResponse]:
    with Session(engine) as s:
        return list(s.exec(select(SurveyResponse)).all())


async def test_cancel_with_nothing_to_cancel_gives_a_menu_whose_buttons_work(
    units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7001)
    await onboard(c)
    for opened in ("Laporan saya", "Privasi"):
        await c.press(opened)
        await c.say("/cancel")
        assert "Tidak ada yang perlu dibatalkan" in c.screen().text
        await c.press("Nilai layanan")
        assert STALE not in c.screen().text
        assert "Unit layanan mana" in c.screen().text
        await c.say("/cancel")
        assert "Dibatalkan" in c.screen().text and "Menu utama" in c.screen().text


async def test_every_step_with_buttons_has_a_way_back_to_the_menu(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7002)
    await onboard(c)

    async def way_out() -> None:
        assert MENU in c.labels(), (c.screen().text, c.labels())

    await c.press("Nilai layanan")
    await way_out()
    await c.press("Kependudukan")
    await way_out()  # service
    await c.press("KTP-el")
    await way_out()  # officer
    await c.press("Tidak tahu")
    for i in range(9):
        await way_out()  # each question
        await c.press_data(f"svy:a:{i}:3")
    await way_out()  # comment
    await c.press("Lewati")
    await way_out()  # profile
    await c.press(MENU)
    assert "Dibatalkan" in c.screen().text and "Menu utama" in c.screen().text
    assert responses(engine) == []  # leaving by Menu stores nothing

    await c.press("Laporkan masalah")
    await way_out()  # unit
    await c.press("Kependudukan")
    await way_out()  # officer
    await c.press("Tidak tahu")
    await way_out()  # category
    await c.press("Tidak patut")
    await way_out()  # description
    await c.say(STORY)
    await way_out()  # photos
    await c.press("Lewati")
    await way_out()  # location
    await c.press("Lewati")
    await way_out()  # privacy
    await c.press("Biasa")
    await way_out()  # summary
    await c.press("Nomor HP")
    await way_out()  # phone
    await c.press(MENU)
    assert "Menu utama" in c.screen().text and cases(engine) == []
    await c.press("Laporkan masalah")  # the menu's buttons work after leaving
    assert "Unit layanan mana" in c.screen().text


async def test_back_shows_the_answer_given_and_the_page_of_units(
    units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7003)
    await onboard(c)
    await c.press("Nilai layanan")
    assert "halaman 1 dari 2" in c.screen().text
    await c.press("Berikutnya")
    assert "halaman 2 dari 2" in c.screen().text
    await c.press("Puskesmas Oesapa")
    assert "Siapa petugas" in c.screen().text
    await c.press("Kembali")
    assert "halaman 2 dari 2" in c.screen().text  # the page the citizen came from
    assert "✅ Puskesmas Oesapa" in c.labels()
    await c.press("Puskesmas Oesapa")
    await c.press("Maria")
    await c.press_data("svy:a:0:3")
    assert "Pertanyaan 2 dari 9" in c.screen().text
    await c.press("Kembali")
    assert "Pertanyaan 1 dari 9" in c.screen().text
    assert c.labels()[:4] == ["Tidak sesuai", "Kurang sesuai", "✅ Sesuai", "Sangat sesuai"]
    await c.press("Kembali")
    assert "✅ Maria Bria" in c.labels()

    await c.press(MENU)
    await c.press("Laporkan masalah")
    await c.press("Kecamatan Alak")
    await c.press("Diskriminasi")
    await c.press("Kembali")
    assert "✅ Diskriminasi" in c.labels()
    await c.press("Diskriminasi")
    await c.say(STORY)
    await c.press("Kembali")  # from the photos: the description given is shown again
    assert STORY in c.screen().text
    await c.press("Pakai uraian ini")
    assert "foto bukti" in c.screen().text


async def test_text_typed_at_the_menu_is_offered_as_a_report_and_kept(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7004)
    await onboard(c)
    told = "Di loket kecamatan saya diminta bayar lima puluh ribu untuk surat pindah."
    await c.say(told)
    assert "ingin melaporkan masalah" in c.screen().text
    await c.press("Laporkan masalah ini")
    await c.press("Kecamatan Alak")
    await c.press("Tidak patut")
    assert told in c.screen().text  # not asked to type it again
    await c.press("Pakai uraian ini")
    await c.press("Lewati")
    await c.press("Lewati")
    await c.press("Biasa")
    assert f"Uraian kejadian: {told}" in c.screen().text
    await c.press("Kirim laporan")
    [case] = cases(engine)
    assert case.description == told


async def test_too_long_text_is_kept_and_the_citizen_told_how_much_to_cut(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7005)
    await onboard(c)
    await c.press("Laporkan masalah")
    await c.press("Kecamatan Alak")
    await c.press("Tidak patut")
    long_story = (STORY + " ") * 29  # 2030 characters
    await c.say(long_story)
    cut = len(long_story.strip()) - 2000
    assert f"kurangi {cut} karakter" in c.screen().text
    assert "Teks Anda tetap kami simpan" in c.screen().text
    await c.press("Pakai 2000 karakter pertama")
    assert "foto bukti" in c.screen().text
    await c.press("Lewati")
    await c.press("Lewati")
    await c.press("Biasa")
    await c.press("Kirim laporan")
    [case] = cases(engine)
    assert case.description == long_story[:2000].rstrip()

    await c.press("Nilai layanan")
    await c.press("Kecamatan Alak")
    for i in range(9):
        await c.press_data(f"svy:a:{i}:4")
    comment = "Antrean panjang, mohon tambah kursi. " * 28  # 1036 characters
    await c.say(comment)
    assert f"kurangi {len(comment.strip()) - 1000} karakter" in c.screen().text
    await c.press("Pakai 1000 karakter pertama")
    assert "Jenis kelamin" in c.screen().text
    await c.press("Lewati semua")
    [response] = responses(engine)
    assert response.comment == comment.strip()[:1000]


async def test_a_reference_is_recognised_without_status_with_spaces_or_in_lower_case(
    units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7006)
    await onboard(c)
    ref = await file_quick(c)
    pasted = (ref.lower(), ref.replace("-", " "), f"Nomor laporan: {ref}", f"/status {ref.lower()}")
    for typed in pasted:
        await c.say(typed)
        assert f"Laporan {ref}" in c.screen().text, typed
        assert "Status: Diterima" in c.screen().text
        # Times in the timeline carry the configured zone.
        assert " WITA Laporan diterima" in c.screen().text
    await c.press(MENU)
    await c.say("KTP 2024 1234 belum jadi")  # not this office's reference: a report to offer
    assert "ingin melaporkan masalah" in c.screen().text
    other = citizen(7007)
    await onboard(other)
    await other.say(ref.lower())
    said = [m.text for m in other.messages()]
    assert f"Laporan {ref} tidak ditemukan di antara laporan Anda." in said[-2]
    assert "Menu utama" in said[-1]


async def test_the_location_step_takes_a_typed_address(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7008)
    await onboard(c)
    await c.press("Laporkan masalah")
    await c.press("Kecamatan Alak")
    await c.press("Penundaan")
    await c.say(STORY)
    await c.press("Lewati")
    assert "ketik alamatnya" in c.screen().text
    await c.say("ab")
    assert "Alamat perlu 5-200 karakter" in c.screen().text
    address = "Jl. Timor Raya No. 5, depan kantor lurah Oesapa"
    await c.say(address)
    assert "Seberapa rahasia" in c.screen().text
    assert "alamat yang Anda ketik menjadi bagian dari uraian kejadian" in c.screen().text
    await c.press("Kembali")  # the address given is shown, and can be kept
    assert address in c.screen().text
    await c.press("Pakai lokasi ini")
    await c.press("Biasa")
    assert f"Lokasi: {address}" in c.screen().text
    await c.press("Kirim laporan")
    [case] = cases(engine)
    assert case.latitude is None
    assert case.description == f"{STORY}\n\nLokasi kejadian (ditulis pelapor): {address}"


async def test_declining_consent_says_what_the_citizen_can_still_do(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7009)
    await c.say("/start")
    await c.press("Bahasa Indonesia")
    await c.press("Tidak setuju")
    shown = c.screen().text
    assert "Tanpa persetujuan Anda" in shown and "SP4N-LAPOR!" in shown and "loket" in shown
    assert "✅ Saya setuju" in c.labels()
    with Session(engine) as s:
        assert citizen_of(s, 7009).consent_at is None
    await c.press("Saya setuju")  # changing one's mind
    assert "Menu utama" in c.screen().text


async def test_the_profile_lists_cover_the_people_of_the_city(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7010)
    await onboard(c)
    await c.press("Nilai layanan")
    await c.press("Kecamatan Alak")
    for i in range(9):
        await c.press_data(f"svy:a:{i}:3")
    await c.press("Lewati")
    await c.press("Laki-laki")
    await c.press("40-49")
    assert c.labels()[0] == "Tidak sekolah"
    await c.press("Tidak sekolah")
    for occupation in (
        "Petani",
        "Nelayan",
        "Ibu rumah tangga",
        "Pelajar/mahasiswa",
        "PNS/TNI/Polri",
        "Pegawai swasta",
        "Wirausaha",
        "Tidak bekerja",
        "Lainnya",
    ):
        assert occupation in c.labels(), occupation
    await c.press("Nelayan")
    [r] = responses(engine)
    assert (r.sex, r.age_band, r.education, r.occupation) == (
        "laki-laki",
        "40-49",
        "tidak-sekolah",
        "nelayan",
    )


def test_answers_stored_under_the_earlier_lists_are_counted_in_todays(session: Session) -> None:
    unit = make_unit(session, "capil")
    at = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    for occupation in ("pns", "tni-polri", "pns-tni-polri", "nelayan"):
        r = add_response(session, unit, [3] * 9, at=at)
        r.occupation = occupation
        session.add(r)
        at += timedelta(minutes=1)
    session.flush()
    period = Period(date(2026, 11, 1), date(2026, 11, 30))
    profile = respondent_profile(session, unit.id or 0, period, ZoneInfo("Asia/Makassar"))
    assert profile["occupation"] == [("pns-tni-polri", 3), ("nelayan", 1)]


async def test_a_phone_number_for_a_call_back_is_optional_and_says_who_sees_it(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7011)
    await onboard(c)
    ref = await file_quick(c)  # no phone asked for on the way
    with Session(engine) as s:
        assert citizen_of(s, 7011).phone is None
    assert ref

    await c.press("Laporkan masalah")
    await c.press("Kecamatan Alak")
    await c.press("Tidak patut")
    await c.say(STORY)
    await c.press("Lewati")
    await c.press("Lewati")
    await c.press("Biasa")
    assert "Nomor HP untuk dihubungi: - (opsional)" in c.screen().text
    await c.press("Nomor HP")
    prompt = c.screen().text
    assert "menghubungi Anda" in prompt and "petugas yang menangani laporan Anda" in prompt
    await c.say("nomor saya rahasia")
    assert "tidak terbaca sebagai nomor HP" in c.screen().text
    await c.say("0812-3456-7890")
    assert "Nomor HP untuk dihubungi: +6281234567890" in c.screen().text
    await c.press("Kirim laporan")
    with Session(engine) as s:
        assert citizen_of(s, 7011).phone == "+6281234567890"

    await c.press("Laporkan masalah")
    await c.press("Kecamatan Alak")
    await c.press("Tidak patut")
    await c.say(STORY)
    await c.press("Lewati")
    await c.press("Lewati")
    await c.press("Anonim")
    assert "+6281234567890" in c.screen().text  # the number left before
    await c.press("Nomor HP")
    assert "administrator" in c.screen().text and "+6281234567890" in c.screen().text
    await c.press("Tanpa nomor HP")
    assert "Nomor HP untuk dihubungi: - (opsional)" in c.screen().text
    await c.press("Kirim laporan")
    with Session(engine) as s:
        assert citizen_of(s, 7011).phone is None
    assert len(cases(engine)) == 3


async def test_the_category_step_explains_each_category(
    units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7012)
    await onboard(c)
    await c.press("Laporkan masalah")
    await c.press("Kecamatan Alak")
    shown = c.screen().text
    assert "• Permintaan imbalan / pungli: Anda dimintai uang" in shown
    assert "• Penundaan berlarut: urusan Anda ditunda-tunda" in shown
    assert shown.count("\n• ") == 11


async def test_a_too_long_answer_to_the_staff_is_kept_and_its_first_part_can_be_sent(
    engine: Engine,
    units: dict[str, int],
    citizen: Callable[[int], ScriptedCitizen],
    bot: BotUnderTest,
    settings: Settings,
) -> None:
    c = citizen(7013)
    await onboard(c)
    ref = await file_quick(c)
    with Session(engine) as s:
        admin = make_user(s, "admin", Role.admin)
        s.commit()
        actor = Actor(admin.id or 0, "admin", Role.admin)
        case = s.exec(select(Case).where(Case.reference == ref)).one()
        policy = svc.CasePolicy.from_settings(settings)
        svc.verify(s, case, policy, actor=actor)
        svc.assign(s, case, actor=actor, assignee_id=actor.user_id)
        svc.request_info(s, case, "Jam berapa kejadiannya?", actor=actor)
        s.commit()
    await c.press_data(f"case:reply:{ref}")
    answer = "Sekitar jam sepuluh pagi, di loket dua. " * 52  # 2080 characters
    await c.say(answer)
    said = [m.text for m in c.messages()]
    assert f"kurangi {len(answer.strip()) - 2000} karakter" in said[-2]
    assert "Pertanyaan petugas" in c.screen().text
    await c.press("Kirim 2000 karakter pertama")
    assert any("jawaban Anda untuk laporan" in m.text for m in c.messages())
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.reference == ref)).one()
        assert case.status == "in_progress"


async def test_the_language_screen_opened_from_the_menu_has_a_way_back(
    units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7014)
    await onboard(c)
    await c.press("Bahasa")
    assert "Kembali" in c.labels()[-1]
    await c.press("Kembali")
    assert "Menu utama" in c.screen().text  # still in Indonesian
    await c.press("Laporkan masalah")
    await c.say("/language")
    await c.press("Kembali")
    assert "Unit layanan mana" in c.screen().text  # back to the step it was opened from


async def test_back_from_the_officer_step_of_a_report_returns_to_the_page_of_units(
    units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7015)
    await onboard(c)
    await c.press("Laporkan masalah")
    await c.press("Berikutnya")
    await c.press("Puskesmas Oesapa")
    assert "petugas tertentu" in c.screen().text
    await c.press("Kembali")
    assert "halaman 2 dari 2" in c.screen().text and "✅ Puskesmas Oesapa" in c.labels()


async def test_a_full_description_leaves_no_room_for_a_typed_address(
    engine: Engine, units: dict[str, int], citizen: Callable[[int], ScriptedCitizen]
) -> None:
    c = citizen(7020)
    await onboard(c)
    await c.press("Laporkan masalah")
    await c.press("Kecamatan Alak")
    await c.press("Penundaan")
    await c.say("Berkas saya ditahan berminggu-minggu tanpa penjelasan. " * 45)
    await c.press("Pakai 2000 karakter pertama")
    await c.press("Lewati")  # no photo
    assert "ketik alamatnya" in c.screen().text
    await c.say("Kantor Dukcapil, Jl. Timor Raya, Oebobo")
    shown = c.screen().text
    assert "alamat tidak dapat ditambahkan" in shown and "5-0" not in shown
