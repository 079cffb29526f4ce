"""Following a web report on the public site (`/lacak`), as the citizen does it: the private
link, the form with the reference and code as typed, a staff question answered, the outcome
rated (not satisfied reopens once), erasure, the lock after wrong codes (never against the
right one), the cap on wrong codes per address, hostile input, and the privacy page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.site import create_site
from core.access import Actor, actor_for
from core.cases import lifecycle
from core.cases.filing import file_complaint
from core.cases.models import Case, CaseOutcome, CaseStatus, WebReport
from core.cases.policy import MAX_ANSWER, ComplaintDraft
from core.cases.web_reports import FiledWebReport, WebReporter, file_web_complaint, shown_code
from core.people.models import Citizen, Intake, Role
from core.policies import build
from core.shared.config import Settings
from tests.factories import make_unit, make_user
from web.app import WRONG_CODES_PER_ADDRESS

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 WITA
DEVICE = "device-token-of-a-phone-0123456789"
_STAMP = re.compile(r'name="stamp" value="([^"]+)"')


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Site:
    engine: Engine
    settings: Settings
    client: TestClient
    clock: Clock
    unit_id: int
    staff_id: int
    root: Path
    filed: list[FiledWebReport] = field(default_factory=list)

    def file(
        self, description: str = "Antrean KTP-el sangat panjang dan tidak tertib."
    ) -> FiledWebReport:
        with Session(self.engine, expire_on_commit=False) as s:
            draft = ComplaintDraft(
                unit_id=self.unit_id, category="lainnya", description=description,
                channel=Intake.web,
            )  # fmt: skip
            filed = file_web_complaint(
                s, draft, build(self.settings, self.engine).cases, WebReporter(),
                device_token=DEVICE, secret=self.settings.pseudonym_key,
                attachments_root=self.root, max_photo_bytes=5_000_000, now=self.clock.now,
            )  # fmt: skip
            s.commit()
        self.filed.append(filed)
        return filed

    def bot_case(self) -> str:
        """A case the bot filed (no web report): the reference of it."""
        with Session(self.engine, expire_on_commit=False) as s:
            citizen = Citizen(language="id")
            s.add(citizen)
            s.flush()
            draft = ComplaintDraft(
                unit_id=self.unit_id, category="lainnya",
                description="Antrean KTP-el sangat panjang dan tidak tertib.",
                channel=Intake.telegram,
            )  # fmt: skip
            case = file_complaint(
                s, citizen, draft, build(self.settings, self.engine).cases, now=self.clock.now
            )
            s.commit()
            return case.reference

    def staff(self, reference: str, step: str, *args: object, **kw: object) -> None:
        """A supervisor of the unit takes `step` (a core.cases.lifecycle function)."""
        with Session(self.engine, expire_on_commit=False) as s:
            case = s.exec(select(Case).where(Case.reference == reference)).one()
            actor = actor_for(s, self.staff_id)
            assert isinstance(actor, Actor)
            getattr(lifecycle, step)(s, case, *args, actor=actor, now=self.clock.now, **kw)
            s.commit()

    def case(self, reference: str) -> Case:
        with Session(self.engine, expire_on_commit=False) as s:
            return s.exec(select(Case).where(Case.reference == reference)).one()

    def handle_to_resolved(self, reference: str) -> None:
        self.staff(reference, "verify", build(self.settings, self.engine).cases)
        self.staff(reference, "assign", assignee_id=self.staff_id)
        self.staff(reference, "resolve", CaseOutcome.substantiated, "Loket tambahan dibuka.")

    def post(self, path: str, page: Response, **fields: str) -> Response:
        """Send a form of `page` (its stamp) with `fields`."""
        stamp = _STAMP.search(page.text)
        assert stamp is not None, page.text
        return self.client.post(
            path, data={"stamp": stamp.group(1), **fields}, follow_redirects=True
        )


def link(filed: FiledWebReport) -> str:
    return f"/lacak/{filed.case.reference}/{shown_code(filed.code)}"


@pytest.fixture
def site(settings: Settings, engine: Engine, tmp_path: Path) -> Site:
    quick = settings.model_copy(update={"web_min_fill_seconds": 0})
    clock = Clock()
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Kependudukan dan Pencatatan Sipil")
        spv = make_user(s, "spv", Role.supervisor, [unit])
        assert unit.id is not None and spv.id is not None
        s.commit()
    client = TestClient(create_site(build(quick, engine, clock=clock)))
    return Site(engine, quick, client, clock, unit.id, spv.id, tmp_path)


def test_the_private_link_opens_the_case_page(site: Site) -> None:
    filed = site.file()
    page = site.client.get(link(filed))
    assert page.status_code == 200
    text = page.text
    assert f"Laporan {filed.case.reference}" in text
    assert "Dinas Kependudukan dan Pencatatan Sipil" in text
    assert "Diterima" in text or "diterima" in text  # the status in plain words
    assert "30-11-2026 10:00 WITA" in text  # the timeline, in WITA
    assert "Batas waktu penyelesaian" in text
    # 60 days, to the end of a local day: shown as its last minute, not 00:00 of the next.
    assert "29-01-2027 23:59 WITA" in text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    # The actions post the reference and code in hidden fields, never in a query string.
    assert f'name="code" value="{filed.code}"' in text
    assert "?code=" not in text and f"?{filed.code}" not in text
    english = site.client.get(link(filed) + "?lang=en")
    assert f"Report {filed.case.reference}" in english.text and "Progress" in english.text


def test_the_form_opens_a_reference_typed_in_lower_case_with_a_spaced_code(site: Site) -> None:
    filed = site.file()
    form = site.client.get("/lacak")
    assert form.status_code == 200 and "Kode lacak" in form.text
    typed_code = f"{filed.code[:4].lower()} {filed.code[4:].lower()}"
    page = site.post("/lacak", form, reference=f" {filed.case.reference.lower()} ", code=typed_code)
    assert page.status_code == 200
    assert str(page.url).endswith(link(filed))
    assert f"Laporan {filed.case.reference}" in page.text
    # Without dashes in the reference too.
    page = site.post(
        "/lacak", form, reference=filed.case.reference.replace("-", ""), code=filed.code
    )
    assert f"Laporan {filed.case.reference}" in page.text


def test_a_staff_question_appears_and_the_answer_moves_the_case_back(site: Site) -> None:
    filed = site.file()
    ref = filed.case.reference
    site.staff(ref, "verify", build(site.settings, site.engine).cases)
    site.staff(ref, "assign", assignee_id=site.staff_id)
    site.clock.now += timedelta(hours=2)
    site.staff(ref, "request_info", "Di loket nomor berapa Anda mengantre? <b>penting</b>")
    page = site.client.get(link(filed))
    text = page.text
    assert text.index("Petugas bertanya:") < text.index("Perkembangan")  # at the top
    assert "Di loket nomor berapa Anda mengantre? &lt;b&gt;penting&lt;/b&gt;" in text
    assert "Batas waktu berhenti sementara" in text
    # Too short: said plainly; too long: kept, with how much to cut and a way to send less.
    short = site.post("/lacak/jawab", page, reference=ref, code=filed.code, answer="ok")
    assert short.status_code == 400 and "Tulis 5-" in short.text
    long_answer = "Loket tiga. " * 300
    too_long = site.post("/lacak/jawab", page, reference=ref, code=filed.code, answer=long_answer)
    cut = len(long_answer.strip()) - MAX_ANSWER
    assert too_long.status_code == 400 and f"kurangi {cut} karakter" in too_long.text
    assert long_answer.strip()[:200] in too_long.text  # nothing typed is lost
    assert site.case(ref).status == CaseStatus.waiting_citizen
    sent = site.post(
        "/lacak/jawab", too_long, reference=ref, code=filed.code, answer=long_answer, cut="1"
    )
    assert sent.status_code == 200
    assert "jawaban Anda untuk laporan" in sent.text  # the bot's "reply sent"
    assert "Anda menjawab" in sent.text and "Petugas bertanya:" not in sent.text
    case = site.case(ref)
    assert case.status == CaseStatus.in_progress and case.paused_at is None
    again = site.post("/lacak/jawab", page, reference=ref, code=filed.code, answer="Loket tiga.")
    assert again.status_code == 400 and "tidak lagi menunggu jawaban Anda" in again.text


def test_not_satisfied_reopens_once_then_closes(site: Site) -> None:
    filed = site.file()
    ref = filed.case.reference
    site.handle_to_resolved(ref)
    page = site.client.get(link(filed))
    assert "Apakah Anda puas" in page.text and "Loket tambahan dibuka." in page.text
    assert "dibuka kembali satu kali" in page.text  # the bot's words: it will reopen once
    no_reason = site.post("/lacak/nilai", page, reference=ref, code=filed.code, satisfied="n")
    assert no_reason.status_code == 400 and site.case(ref).status == CaseStatus.resolved
    reopened = site.post(
        "/lacak/nilai", page, reference=ref, code=filed.code, satisfied="n",
        reason="Loket tambahan tidak pernah buka.",
    )  # fmt: skip
    assert "dibuka kembali" in reopened.text
    assert site.case(ref).status == CaseStatus.in_progress
    site.staff(ref, "resolve", CaseOutcome.partly, "Loket tambahan buka pagi.")
    page = site.client.get(link(filed))
    assert "akan ditutup" in page.text  # the bot's words: no second reopening
    closed = site.post(
        "/lacak/nilai", page, reference=ref, code=filed.code, satisfied="n",
        reason="Masih sama saja antreannya.",
    )  # fmt: skip
    assert "laporan ditutup" in closed.text
    case = site.case(ref)
    assert case.status == CaseStatus.closed and case.satisfied is False
    assert "Apakah Anda puas" not in closed.text
    late = site.post("/lacak/nilai", page, reference=ref, code=filed.code, satisfied="y")
    assert late.status_code == 400 and "sudah dinilai atau ditutup" in late.text


def test_satisfied_closes(site: Site) -> None:
    filed = site.file()
    ref = filed.case.reference
    site.handle_to_resolved(ref)
    page = site.client.get(link(filed))
    done = site.post("/lacak/nilai", page, reference=ref, code=filed.code, satisfied="y")
    assert "ditutup dengan penilaian puas" in done.text and "Anda puas" in done.text
    case = site.case(ref)
    assert case.status == CaseStatus.closed and case.satisfied is True


def test_erasure_confirms_then_the_link_and_code_stop_working(site: Site) -> None:
    filed = site.file()
    ref = filed.case.reference
    page = site.client.get(link(filed))
    confirm = site.post("/lacak/hapus", page, reference=ref, code=filed.code)
    assert confirm.status_code == 200
    assert "Hapus data pribadi Anda untuk laporan ini?" in confirm.text  # the web's words
    assert "Telegram" not in confirm.text
    assert ref in confirm.text and "belum selesai" in confirm.text  # this report is open
    assert site.case(ref).citizen_id is not None  # nothing erased before the confirmation
    done = site.post("/lacak/hapus", confirm, reference=ref, code=filed.code, confirm="yes")
    assert done.status_code == 200 and "telah dihapus" in done.text
    case = site.case(ref)
    assert case.citizen_id is None and case.status == CaseStatus.received
    with Session(site.engine) as s:
        assert s.get(Citizen, filed.case.citizen_id) is None
    gone = site.client.get(link(filed))
    assert gone.status_code == 404 and "tidak cocok" in gone.text


def test_wrong_codes_never_lock_out_the_right_code(site: Site) -> None:
    """Review M1: anyone could lock every web reporter out with 5 GETs per (sequential)
    reference. Now the right code always opens; a lock refuses only wrong codes."""
    filed = site.file()
    ref = filed.case.reference
    wrong = "ABCD-EFGH" if filed.code != "ABCDEFGH" else "HGFE-DCBA"
    form = site.client.get("/lacak")
    for _ in range(2):  # through the form
        r = site.post("/lacak", form, reference=ref, code=wrong)
        assert r.status_code == 404 and "Nomor laporan atau kode lacak tidak cocok" in r.text
        assert wrong in r.text  # what was typed stays in the form
    attacker = TestClient(site.client.app)
    for _ in range(6):  # through links: they count too, and lock the reference
        assert attacker.get(f"/lacak/{ref}/{wrong}").status_code == 404
    with Session(site.engine) as s:
        access = s.get(WebReport, filed.case.id)
        assert access is not None and access.locked_until is not None
    assert site.client.get(link(filed)).status_code == 200  # the owner still gets in
    opened = site.post("/lacak", form, reference=ref, code=filed.code)
    assert opened.status_code == 200 and ref in opened.text


def _main(page: str) -> str:
    """A page's main part without its form stamp (a time)."""
    return _STAMP.sub("", page.split("<main", 1)[1])


def test_a_locked_reference_answers_as_an_unknown_one(site: Site) -> None:
    filed = site.file()
    ref = filed.case.reference
    wrong = "ABCD-EFGH" if filed.code != "ABCDEFGH" else "HGFE-DCBA"
    for _ in range(5):
        site.client.get(f"/lacak/{ref}/{wrong}")
    locked = site.client.get(f"/lacak/{ref}/{wrong}")
    unknown = site.client.get(f"/lacak/KPG-2611-9999/{wrong}")
    bot_report = site.client.get(f"/lacak/{site.bot_case()}/{wrong}")
    assert locked.status_code == unknown.status_code == bot_report.status_code == 404
    assert _main(locked.text) == _main(unknown.text) == _main(bot_report.text)
    assert "15 menit" in locked.text  # every mismatch says that wrong codes may lock
    form = site.client.get("/lacak")
    by_form = [site.post("/lacak", form, reference=r, code=wrong) for r in (ref, "KPG-2611-9999")]
    assert by_form[0].status_code == by_form[1].status_code == 404
    assert _main(by_form[0].text).replace(ref, "REF") == _main(by_form[1].text).replace(
        "KPG-2611-9999", "REF"
    )


def test_wrong_codes_are_capped_per_address_across_references(site: Site) -> None:
    filed = site.file()
    wrong = "ABCD-EFGH" if filed.code != "ABCDEFGH" else "HGFE-DCBA"
    for n in range(WRONG_CODES_PER_ADDRESS):
        r = site.client.get(f"/lacak/KPG-2611-{n + 100:04d}/{wrong}")
        assert r.status_code == 404
    capped = site.client.get(link(filed))  # the address is guessing: the right code waits
    assert capped.status_code == 429 and "dari jaringan Anda" in capped.text
    form = site.client.get("/lacak")
    posted = site.post("/lacak", form, reference=filed.case.reference, code=filed.code)
    assert posted.status_code == 429


def test_another_reports_code_does_not_open_this_report(site: Site) -> None:
    mine, theirs = site.file(), site.file("Petugas meminta biaya tambahan di luar tarif resmi.")
    r = site.client.get(f"/lacak/{mine.case.reference}/{theirs.code}")
    assert r.status_code == 404 and mine.case.reference not in r.text.split("<main")[1]
    page = site.client.get(link(theirs))
    # An action on one report with the other's code is refused and changes nothing.
    r = site.post(
        "/lacak/hapus", page, reference=mine.case.reference, code=theirs.code, confirm="yes"
    )
    assert r.status_code == 404 and site.case(mine.case.reference).citizen_id is not None


@pytest.mark.parametrize(
    "path",
    [
        "/lacak/KPG-2611-0042/ABCD-EFGH",
        "/lacak/%3Cscript%3E/ABCD",
        "/lacak/" + "A" * 5000 + "/B",
        "/lacak/KPG-2611-0042/" + "%F0%9F%98%80" * 20,
        "/lacak/..%2F..%2Fetc/passwd",
    ],
)
def test_hostile_links_get_a_plain_answer(site: Site, path: str) -> None:
    site.file()
    r = site.client.get(path)
    assert r.status_code in (404, 429), r.text
    assert "<script>" not in r.text


def test_hostile_form_input_gets_a_plain_answer(site: Site) -> None:
    filed = site.file()
    form = site.client.get("/lacak")
    for reference, code in [
        ("<script>alert(1)</script>", "x"),
        ("KPG" * 10_000, filed.code),
        (filed.case.reference, "' OR 1=1 --"),
        ("", ""),
        ("😀" * 50, "😀"),
    ]:
        r = site.post("/lacak", form, reference=reference, code=code)
        assert r.status_code == 404, (reference[:20], r.status_code)
        assert "<script>alert" not in r.text
    for path in ("/lacak/jawab", "/lacak/nilai", "/lacak/hapus"):
        r = site.post(path, form, reference=filed.case.reference, code="nope", answer="x" * 10)
        assert r.status_code == 404, path
        r = site.client.post(path, data={"reference": filed.case.reference})  # no stamp
        assert r.status_code == 400, path
    # A robot filling the honeypot is refused plainly, and a too-fast person keeps their input.
    robot = site.post("/lacak", form, reference=filed.case.reference, code=filed.code, website="x")
    assert robot.status_code == 400


def test_a_pasted_reference_and_code_open_at_once(site: Site, settings: Settings) -> None:
    """The lookup has no minimum fill time (wrong codes are capped instead): a reference and
    code pasted and sent within a second open the report; a wrong code keeps what was typed."""
    slow = settings.model_copy(update={"web_min_fill_seconds": 60})
    client = TestClient(create_site(build(slow, site.engine, clock=site.clock)))
    filed = site.file()
    form = client.get("/lacak")
    stamp = _STAMP.search(form.text)
    assert stamp is not None
    typed = {"stamp": stamp.group(1), "reference": filed.case.reference.replace("-", " ")}
    r = client.post("/lacak", data={**typed, "code": filed.code}, follow_redirects=False)
    assert r.status_code == 303 and filed.case.reference in r.headers["location"]
    wrong = client.post("/lacak", data={**typed, "code": "ab"})
    assert wrong.status_code == 404 and 'value="ab"' in wrong.text


def test_an_actions_address_opened_as_a_page_leads_to_the_form(site: Site) -> None:
    for path in ("/lacak/jawab", "/lacak/nilai?lang=en", "/lacak/hapus"):
        r = site.client.get(path)
        assert r.status_code == 200 and 'action="/lacak"' in r.text, path
    assert "Follow a report" in site.client.get("/lacak/nilai?lang=en").text


def test_the_privacy_page_has_the_bots_notice_and_how_to_erase(site: Site) -> None:
    page = site.client.get("/privasi")
    assert page.status_code == 200
    assert "Pemberitahuan privasi" in page.text
    assert "UU No. 27 Tahun 2022" in page.text and site.settings.area_name in page.text
    assert "Hapus data saya" in page.text and 'href="/lacak"' in page.text
    english = site.client.get("/privasi?lang=en")
    assert "How to erase your data" in english.text


def test_the_flood_cap_answers_too_many_posts_from_one_address(site: Site) -> None:
    capped = site.settings.model_copy(update={"web_posts_per_minute": 2})
    client = TestClient(create_site(build(capped, site.engine, clock=site.clock)))
    filed = site.file()
    form = client.get("/lacak")
    stamp = _STAMP.search(form.text)
    assert stamp is not None
    data = {"stamp": stamp.group(1), "reference": filed.case.reference, "code": filed.code}
    assert client.post("/lacak", data=data).status_code == 200
    assert client.post("/lacak/jawab", data=data).status_code == 400  # not waiting
    flooded = client.post("/lacak/nilai", data={**data, "satisfied": "y"})
    assert flooded.status_code == 429
    assert client.get(link(filed)).status_code == 200  # reading is not posting


def test_the_link_in_a_cases_e_mails_opens_the_form_with_its_reference(site: Site) -> None:
    """Case e-mails carry `/lacak/<reference>` (never the code): the citizen types the code."""
    filed = site.file()
    page = site.client.get(f"/lacak/{filed.case.reference}")
    assert page.status_code == 200
    assert f'value="{filed.case.reference}"' in page.text and 'name="code" value=""' in page.text
    hostile = site.client.get("/lacak/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert hostile.status_code in (200, 404) and "<script>alert" not in hostile.text
