"""Paper SKM questionnaires typed in by staff (core.surveys.paper): stored with channel
`paper`, the respondent being the entering account and the local day (PermenPANRB 14/2017,
Lampiran: the questionnaire may be filled in on paper; the same nine elements, answers 1-4),
only for units the account handles, and counted per account and day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from core.access import Actor
from core.people.models import Role
from core.shared.config import DEVELOPMENT_PSEUDONYM_KEY as KEY
from core.shared.errors import Forbidden, InvalidInput
from core.surveys.paper import enter_paper, entered_today, import_paper_csv
from core.surveys.submission import SurveyDraft
from tests.factories import make_officer, make_service, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 12:00 WITA


def test_paper_questionnaires_are_stored_with_channel_paper_and_counted_per_day(
    session: Session,
) -> None:
    unit = make_unit(session, "capil")
    ktp = make_service(session, unit, "KTP-el")
    officer = make_officer(session, unit, "Yohanes Ndun")
    user = make_user(session, "spv", Role.supervisor, [unit])
    spv = Actor(user.id or 0, "spv", Role.supervisor, frozenset({unit.id or 0}))
    draft = SurveyDraft(
        unit_id=unit.id or 0, answers=(4, 3, 3, 4, 3, 3, 4, 4, 3), service_id=ktp.id,
        officer_id=officer.id, comment="Antrean cepat",
    )  # fmt: skip
    first = enter_paper(session, draft, actor=spv, tz=WITA, pseudonym_key=KEY, now=NOON)
    second = enter_paper(session, draft, actor=spv, tz=WITA, pseudonym_key=KEY, now=NOON)
    assert first.channel == second.channel == "paper"
    assert first.citizen_id is None and first.daily_key is None
    # One respondent per account and day: the caps count them as one person's answers.
    assert first.respondent_key == second.respondent_key
    assert entered_today(session, actor=spv, tz=WITA, pseudonym_key=KEY, now=NOON) == 2
    tomorrow = NOON + timedelta(days=1)
    assert entered_today(session, actor=spv, tz=WITA, pseudonym_key=KEY, now=tomorrow) == 0
    third = enter_paper(session, draft, actor=spv, tz=WITA, pseudonym_key=KEY, now=tomorrow)
    assert third.respondent_key != first.respondent_key


def test_paper_entry_is_refused_outside_the_users_units_and_for_foreign_choices(
    session: Session,
) -> None:
    unit = make_unit(session, "capil")
    other = make_unit(session, "pajak")
    foreign = make_service(session, other, "PBB")
    stranger = make_officer(session, other, "Petrus")
    user = make_user(session, "spv", Role.supervisor, [unit])
    viewer = make_user(session, "baca", Role.viewer, [unit])
    spv = Actor(user.id or 0, "spv", Role.supervisor, frozenset({unit.id or 0}))
    reader = Actor(viewer.id or 0, "baca", Role.viewer, frozenset({unit.id or 0}))
    answers = (3,) * 9

    def enter(actor: Actor, **kw: object) -> None:
        draft = SurveyDraft(unit_id=kw.pop("unit_id", unit.id or 0), answers=answers, **kw)  # type: ignore[arg-type]
        enter_paper(session, draft, actor=actor, tz=WITA, pseudonym_key=KEY, now=NOON)

    with pytest.raises(Forbidden):
        enter(reader)
    with pytest.raises(Forbidden):
        enter(spv, unit_id=other.id)
    with pytest.raises(InvalidInput) as bad_service:
        enter(spv, service_id=foreign.id)
    assert bad_service.value.why == "paper.bad_service"
    with pytest.raises(InvalidInput) as bad_officer:
        enter(spv, officer_id=stranger.id)
    assert bad_officer.value.why == "paper.bad_officer"
    with pytest.raises(InvalidInput):
        enter_paper(
            session, SurveyDraft(unit_id=unit.id or 0, answers=(5,) * 9), actor=spv, tz=WITA,
            pseudonym_key=KEY, now=NOON,
        )  # fmt: skip
    assert entered_today(session, actor=spv, tz=WITA, pseudonym_key=KEY, now=NOON) == 0


def test_a_csv_of_paper_questionnaires_is_checked_row_by_row_and_stored_all_or_nothing(
    session: Session,
) -> None:
    unit = make_unit(session, "capil")
    other = make_unit(session, "pajak")
    make_service(session, unit, "KTP-el")
    officer = make_officer(session, unit, "Yohanes Ndun")
    user = make_user(session, "spv", Role.supervisor, [unit])
    spv = Actor(user.id or 0, "spv", Role.supervisor, frozenset({unit.id or 0}))
    head = "unit_code;service;officer_nip;q1;q2;q3;q4;q5;q6;q7;q8;q9;comment\n"
    good = f"capil;KTP-el;{officer.nip};4;3;3;4;3;3;4;4;3;Cepat\ncapil;;;3;3;3;3;3;3;3;3;3;\n"
    bad = (
        f"{other.code};;;3;3;3;3;3;3;3;3;3;\n"
        "capil;Paspor;;3;3;3;3;3;3;3;3;3;\n"
        "capil;;;3;3;0;3;3;3;3;3;3;\n"
    )

    def run(text: str, *, dry_run: bool):  # type: ignore[no-untyped-def]
        return import_paper_csv(
            session, text.encode(), actor=spv, tz=WITA, pseudonym_key=KEY, dry_run=dry_run,
            now=NOON,
        )  # fmt: skip

    refused = run(head + good + bad, dry_run=False)
    assert refused.written == 0 and refused.bad == 3
    assert [(r.line, r.problem, r.number) for r in refused.rows] == [
        (2, "", 0), (3, "", 0), (4, "paper.csv.unit_bad", 0), (5, "paper.bad_service", 0),
        (6, "paper.bad_answer", 3),
    ]  # fmt: skip
    assert entered_today(session, actor=spv, tz=WITA, pseudonym_key=KEY, now=NOON) == 0
    checked = run(head + good, dry_run=True)
    assert checked.bad == 0 and checked.written == 0
    assert entered_today(session, actor=spv, tz=WITA, pseudonym_key=KEY, now=NOON) == 0
    assert run(head + good, dry_run=False).written == 2
    assert entered_today(session, actor=spv, tz=WITA, pseudonym_key=KEY, now=NOON) == 2
    assert run("unit_code;q1\ncapil;3\n", dry_run=True).file_problem == "paper.csv.columns"
    assert run(head, dry_run=True).file_problem == "paper.csv.empty"
