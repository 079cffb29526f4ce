"""Core of web reports (core.cases.web_reports): the follow-up code as written down and typed,
opening a report with it, the lock after wrong codes, erasure, and the per-device day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.cases.models import Case, WebReport
from core.cases.policy import CasePolicy, ComplaintDraft
from core.cases.web_reports import (
    CODE_ALPHABET,
    FiledWebReport,
    WebReporter,
    device_key,
    file_web_complaint,
    open_web_report,
    parse_code,
    shown_code,
    web_complaints_today,
)
from core.people.citizens import erase_citizen
from core.people.models import Citizen, Intake
from core.shared.config import Settings
from core.shared.errors import InvalidInput
from tests.factories import make_unit

pytestmark = pytest.mark.db

SECRET = "k" * 40
DEVICE = "device-token-of-a-phone-0123456789"
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 WITA
MAX_FAILURES = 5
LOCK_MINUTES = 15


@dataclass
class Desk:
    session: Session
    policy: CasePolicy
    unit_id: int
    root: Path

    def file(self, *, device: str = DEVICE, now: datetime = T0) -> FiledWebReport:
        draft = ComplaintDraft(
            unit_id=self.unit_id,
            category="lainnya",
            description="Antrean pembuatan KTP-el sangat panjang dan tidak tertib.",
            channel=Intake.web,
        )
        return file_web_complaint(
            self.session,
            draft,
            self.policy,
            WebReporter(),
            device_token=device,
            secret=SECRET,
            attachments_root=self.root,
            max_photo_bytes=5_000_000,
            now=now,
        )

    def open(self, reference: str, code: str, *, now: datetime = T0) -> tuple[Case | None, int]:
        attempt = open_web_report(
            self.session,
            reference,
            code,
            secret=SECRET,
            max_failures=MAX_FAILURES,
            lock_minutes=LOCK_MINUTES,
            now=now,
        )
        self.session.commit()  # what the site does with whatever it answers
        return attempt.case, attempt.locked_minutes


@pytest.fixture
def desk(session: Session, settings: Settings, tmp_path: Path) -> Desk:
    unit = make_unit(session, "dukcapil", "Dinas Dukcapil")
    assert unit.id is not None
    session.commit()
    return Desk(session, CasePolicy.from_settings(settings), unit.id, tmp_path)


def test_a_code_is_shown_in_two_groups_and_read_back_however_it_is_typed() -> None:
    assert shown_code("ABCDEFGH") == "ABCD-EFGH"
    for typed in ("ABCD-EFGH", "abcd efgh", " abcd-efgh ", "AbCd.EfGh", "abcdefgh"):
        assert parse_code(typed) == "ABCDEFGH", typed
    # Letters people confuse (0/O, 1/I/L) are not in codes; too short or long is no code.
    assert not set("0O1IL") & set(CODE_ALPHABET)
    for wrong in ("", "ABCD-EFG", "ABCD-EFGHJ", "ABCD-EFG0", "ABCD-EFGI", "<script>", "ÄBCDEFGH"):
        assert parse_code(wrong) is None, wrong


def test_the_right_code_opens_the_report(desk: Desk) -> None:
    filed = desk.file()
    desk.session.commit()
    assert len(filed.code) == 8 and parse_code(shown_code(filed.code)) == filed.code
    stored = desk.session.exec(select(WebReport)).one()
    assert filed.code not in stored.code_hash  # kept only as a keyed hash
    case, locked = desk.open(filed.case.reference, filed.code)
    assert case is not None and case.id == filed.case.id and locked == 0


def test_wrong_codes_lock_the_reference_for_wrong_codes_only(desk: Desk) -> None:
    filed = desk.file()
    ref = filed.case.reference
    wrong = "ABCDEFGH" if filed.code != "ABCDEFGH" else "HGFEDCBA"
    for _ in range(1, MAX_FAILURES):
        assert desk.open(ref, wrong) == (None, 0)
    case, locked = desk.open(ref, wrong)
    assert case is None and locked == LOCK_MINUTES
    # Locked: wrong codes still counted and refused, with the minutes left.
    case, locked = desk.open(ref, wrong, now=T0 + timedelta(minutes=10))
    assert case is None and locked == 5
    case, locked = desk.open(ref, wrong, now=T0 + timedelta(minutes=14, seconds=30))
    assert case is None and locked == 1  # part of a minute left is said as a minute
    # The right code always opens it, even while locked (nobody can lock the reporter out),
    # and clears the count and the lock.
    case, locked = desk.open(ref, filed.code, now=T0 + timedelta(minutes=14, seconds=40))
    assert case is not None and locked == 0
    access = desk.session.exec(select(WebReport)).one()
    assert access.failures == 0 and access.locked_until is None
    assert desk.open(ref, wrong, now=T0 + timedelta(minutes=15)) == (None, 0)


def test_a_right_code_before_the_fifth_wrong_one_resets_the_count(desk: Desk) -> None:
    filed = desk.file()
    ref = filed.case.reference
    wrong = "ABCDEFGH" if filed.code != "ABCDEFGH" else "HGFEDCBA"
    for _ in range(MAX_FAILURES - 1):
        desk.open(ref, wrong)
    assert desk.open(ref, filed.code)[0] is not None
    for _ in range(MAX_FAILURES - 1):
        assert desk.open(ref, wrong) == (None, 0)  # not locked: the count began again


def test_an_unknown_reference_gets_the_same_answer_as_a_wrong_code(desk: Desk) -> None:
    filed = desk.file()
    assert desk.open("KPG-2611-9999", filed.code) == (None, 0)
    assert desk.open(filed.case.reference, "ZZZZZZZZ") == (None, 0)


def test_another_reports_code_does_not_open_this_one(desk: Desk) -> None:
    first = desk.file()
    second = desk.file(now=T0 + timedelta(minutes=1))
    assert desk.open(first.case.reference, second.code)[0] is None
    assert desk.open(second.case.reference, first.code)[0] is None


def test_erasure_makes_the_code_fail(desk: Desk) -> None:
    filed = desk.file()
    desk.session.commit()
    assert desk.open(filed.case.reference, filed.code)[0] is not None
    assert filed.case.citizen_id is not None
    citizen = desk.session.get(Citizen, filed.case.citizen_id)
    assert citizen is not None
    erase_citizen(desk.session, citizen)
    desk.session.commit()
    assert desk.open(filed.case.reference, filed.code) == (None, 0)
    case = desk.session.exec(select(Case)).one()
    assert case.citizen_id is None  # the report goes on without its reporter


def test_complaints_are_counted_per_device_and_per_local_day(desk: Desk) -> None:
    other = "another-phone-token-abcdefghijkl"
    for n in range(3):
        desk.file(now=T0 + timedelta(minutes=n))
    desk.file(device=other, now=T0)
    # 23:59 WITA the day before (15:59 UTC): another local day.
    desk.file(now=datetime(2026, 11, 29, 15, 59, tzinfo=UTC))
    mine, theirs = device_key(SECRET, DEVICE), device_key(SECRET, other)
    assert web_complaints_today(desk.session, mine, desk.policy, now=T0) == 3
    assert web_complaints_today(desk.session, theirs, desk.policy, now=T0) == 1
    next_day = T0 + timedelta(days=1)
    assert web_complaints_today(desk.session, mine, desk.policy, now=next_day) == 0
    with pytest.raises(InvalidInput):
        device_key(SECRET, "short")


def test_the_device_limit_refuses_the_sixth_complaint_of_a_day(desk: Desk, engine: Engine) -> None:
    from core.cases.policy import TooManyComplaints

    for n in range(desk.policy.complaints_per_day):
        desk.file(now=T0 + timedelta(minutes=n))
    with pytest.raises(TooManyComplaints):
        desk.file(now=T0 + timedelta(minutes=30))
    desk.file(device="another-phone-token-abcdefghijkl", now=T0 + timedelta(minutes=31))
