"""Paper SKM questionnaires in the console (/staff/paper), in Chromium: a supervisor types two
questionnaires from the keyboard only (digits, Tab, Enter), sees them counted, and they are
stored with channel `paper` (PermenPANRB 14/2017, Lampiran: nine elements, answers 1-4);
a viewer has neither the link nor the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, select

from core.surveys.models import SurveyResponse
from tests.factories import make_service, make_unit
from tests.test_console_browser import serious_violations
from tests.test_console_case import Office, log_in, office

pytestmark = pytest.mark.browser
__all__ = ["office"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def _type_answers(page: Page, digits: str) -> None:
    """From the focused first answer: a digit, Tab, ... and Enter after the ninth."""
    for i, digit in enumerate(digits):
        page.keyboard.type(digit)
        page.keyboard.press("Enter" if i == len(digits) - 1 else "Tab")


def _responses(office: Office) -> list[SurveyResponse]:
    with Session(office.engine) as s:
        return list(s.exec(select(SurveyResponse).order_by(col(SurveyResponse.id))).all())


def test_a_supervisor_enters_two_paper_questionnaires_from_the_keyboard(
    page: Page, office: Office
) -> None:
    log_in(page, office, "spv")
    page.get_by_role("link", name="Kuesioner kertas").click()
    expect(page.get_by_role("heading", name="Kuesioner kertas", exact=True)).to_be_visible()
    expect(page.locator("#paper-count")).to_contain_text("0 kuesioner")
    assert serious_violations(page) == []
    expect(page.get_by_label("1. Persyaratan")).to_be_focused()

    # A wrong digit is refused in Indonesian and what was typed stays.
    _type_answers(page, "434334475")
    expect(page.get_by_role("alert")).to_contain_text("unsur 8 harus angka 1, 2, 3, atau 4")
    expect(page.get_by_label("9. Sarana dan Prasarana")).to_have_value("5")
    assert _responses(office) == []
    # Corrected from the keyboard: Tab to the eighth answer, retype it and the ninth.
    page.get_by_label("1. Persyaratan").focus()
    for _ in range(7):
        page.keyboard.press("Tab")
    page.keyboard.press("Control+a")
    page.keyboard.type("4")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+a")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("#paper-count")).to_contain_text("1 kuesioner")
    expect(page.get_by_role("status").filter(has_text="tersimpan")).to_be_visible()

    # The form is empty again, focused on the first answer.
    expect(page.get_by_label("1. Persyaratan")).to_have_value("")
    expect(page.get_by_label("1. Persyaratan")).to_be_focused()
    _type_answers(page, "223222322")
    expect(page.locator("#paper-count")).to_contain_text("2 kuesioner")
    assert serious_violations(page) == []

    stored = _responses(office)
    assert [r.channel for r in stored] == ["paper", "paper"]
    assert [r.unit_id for r in stored] == [office.ids["dukcapil"]] * 2
    assert (stored[0].q1, stored[0].q8, stored[0].q9) == (4, 4, 3)
    assert (stored[1].q1, stored[1].q2, stored[1].q3) == (2, 2, 3)

    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_viewer_cannot_enter_paper_questionnaires(page: Page, office: Office) -> None:
    log_in(page, office, "baca")
    expect(page.get_by_role("link", name="Kuesioner kertas")).to_have_count(0)
    response = page.goto(f"{office.base}/staff/paper")
    assert response is not None and response.status == 403


def test_bad_paper_input_answers_the_form_in_indonesian_and_stores_nothing(
    page: Page, office: Office
) -> None:
    with Session(office.engine) as s:
        other = make_unit(s, "pajak", "Badan Pendapatan Daerah")
        pbb = make_service(s, other, "PBB")
        s.commit()
        other_id, pbb_id = other.id, pbb.id
    log_in(page, office, "spv")
    page.goto(f"{office.base}/staff/paper")
    csrf = page.locator("input[name=csrf]").first.input_value()
    answers = {f"q{i}": "3" for i in range(1, 10)}
    cases = [
        ({"unit": "abc"}, "Pilih unit layanan"),
        ({"unit": str(office.ids["dukcapil"]), "service": "x1"}, "Pilihan layanan atau petugas"),
        ({"unit": str(office.ids["dukcapil"]), "service": str(pbb_id)}, "tidak termasuk unit"),
        ({"unit": str(other_id)}, "tidak berwenang"),
    ]
    for fields, words in cases:
        response = page.request.post(
            f"{office.base}/staff/paper", form={"csrf": csrf, **answers, **fields}
        )
        assert response.status in (400, 403), fields
        assert words in response.text(), fields
    assert _responses(office) == []


def test_a_csv_of_paper_questionnaires_is_checked_before_anything_is_stored(
    page: Page, office: Office
) -> None:
    head = "unit_code;service;officer_nip;q1;q2;q3;q4;q5;q6;q7;q8;q9;comment\n"
    good = "dukcapil;;;4;3;3;4;3;3;4;4;3;Cepat\ndukcapil;;;3;3;3;3;3;3;3;3;3;\n"
    log_in(page, office, "spv")
    page.goto(f"{office.base}/staff/paper")
    page.get_by_role("link", name="Impor dari berkas CSV").click()
    expect(page.get_by_role("heading", name="Impor kuesioner kertas dari CSV")).to_be_visible()
    assert serious_violations(page) == []

    def check(text: str) -> None:
        page.get_by_label("Berkas CSV").set_input_files(
            files=[{"name": "kertas.csv", "mimeType": "text/csv", "buffer": text.encode()}]
        )
        page.get_by_role("button", name="Periksa tanpa menyimpan").click()

    check(head + good + "dukcapil;;;3;3;9;3;3;3;3;3;3;\n")
    expect(page.get_by_role("alert")).to_contain_text("1 baris belum benar")
    row = page.locator("table.paper-rows tr", has_text="Jawaban unsur 3")
    expect(row).to_contain_text("4")
    expect(page.get_by_role("button", name="Simpan 3 kuesioner")).to_have_count(0)
    assert serious_violations(page) == []
    assert _responses(office) == []

    check(head + good)
    expect(page.get_by_role("status").filter(has_text="Semua 2 baris benar")).to_be_visible()
    assert _responses(office) == []
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_role("button", name="Simpan 2 kuesioner").click()
    expect(page.locator("#paper-count")).to_contain_text("2 kuesioner")
    assert [r.channel for r in _responses(office)] == ["paper", "paper"]
