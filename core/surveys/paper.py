"""Paper SKM questionnaires typed in by staff at the counter.

A paper questionnaire is stored as any other response (core.surveys.submission) with the
channel `paper`; its respondent is the entering staff account and the local day
(core.surveys.respondents), so the same daily caps and checks apply when scores are counted.
Only staff who handle a unit's cases (HANDLE_CASES on that unit) may enter for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.access import Actor, Permission
from core.masterdata.models import Officer, Service, Unit
from core.people.models import Intake
from core.shared.clock import local_date, utcnow
from core.shared.csv_input import read_csv
from core.shared.errors import Forbidden, InvalidInput
from core.surveys.models import SurveyResponse
from core.surveys.respondents import respondent_identity, respondent_key
from core.surveys.submission import MAX_COMMENT_LENGTH, SurveyDraft, submit_survey


def may_enter_paper(*, actor: Actor, unit_id: int | None = None) -> bool:
    return actor.may(Permission.HANDLE_CASES, unit_id)


def enter_paper(
    session: Session,
    draft: SurveyDraft,
    *,
    actor: Actor,
    tz: ZoneInfo,
    pseudonym_key: str,
    now: datetime | None = None,
) -> SurveyResponse:
    """Store one paper questionnaire for a unit the actor handles."""
    if not may_enter_paper(actor=actor, unit_id=draft.unit_id):
        raise Forbidden("you may not enter questionnaires for this unit", why="paper.forbidden")
    if draft.service_id is not None:
        service = session.get(Service, draft.service_id)
        if service is None or service.unit_id != draft.unit_id or not service.active:
            raise InvalidInput("this service does not belong to the unit", why="paper.bad_service")
    if draft.officer_id is not None:
        officer = session.get(Officer, draft.officer_id)
        if officer is None or officer.unit_id != draft.unit_id or not officer.active:
            raise InvalidInput("this officer does not serve in the unit", why="paper.bad_officer")
    paper = SurveyDraft(
        unit_id=draft.unit_id,
        answers=draft.answers,
        service_id=draft.service_id,
        officer_id=draft.officer_id,
        comment=draft.comment,
        channel=Intake.paper,
    )
    return submit_survey(
        session,
        paper,
        citizen_id=None,
        tz=tz,
        pseudonym_key=pseudonym_key,
        entered_by=actor.user_id,
        now=now,
    )


def entered_today(
    session: Session,
    *,
    actor: Actor,
    tz: ZoneInfo,
    pseudonym_key: str,
    now: datetime | None = None,
) -> int:
    """How many paper questionnaires the actor has entered this local day (counted in SQL)."""
    day = local_date(now or utcnow(), tz)
    identity = respondent_identity(session, Intake.paper, day, entered_by=actor.user_id)
    key = respondent_key(pseudonym_key, identity)
    stmt = select(func.count(col(SurveyResponse.id))).where(
        SurveyResponse.channel == Intake.paper.value,
        SurveyResponse.local_date == day,
        SurveyResponse.respondent_key == key,
    )
    return int(session.exec(stmt).one())


# CSV import: columns unit_code, service, officer_nip, q1..q9, comment ------------------------

CSV_COLUMNS = ("unit_code", *(f"q{i}" for i in range(1, 10)))
MAX_CSV_ROWS = 2000


@dataclass(frozen=True)
class PaperRow:
    """One row's result: its draft when good, else the catalog key of the first problem."""

    line: int
    unit_code: str
    draft: SurveyDraft | None
    problem: str = ""
    number: int = 0  # the element of a bad answer


@dataclass(frozen=True)
class PaperImport:
    rows: tuple[PaperRow, ...]
    file_problem: str = ""  # "paper.csv.columns", "paper.csv.empty", "paper.csv.too_many"
    written: int = 0

    @property
    def bad(self) -> int:
        return sum(1 for r in self.rows if r.draft is None)


def _check_row(session: Session, line: int, values: dict[str, str], actor: Actor) -> PaperRow:
    code = values.get("unit_code", "").strip()
    if "" in values:
        return PaperRow(line, code, None, "paper.csv.fields")
    unit = session.exec(select(Unit).where(Unit.code == code)).first()
    if (
        unit is None
        or unit.id is None
        or not unit.active
        or not may_enter_paper(actor=actor, unit_id=unit.id)
    ):
        return PaperRow(line, code, None, "paper.csv.unit_bad")
    service_id = None
    if name := values.get("service", "").strip():
        service = session.exec(
            select(Service).where(Service.unit_id == unit.id, Service.name == name)
        ).first()
        if service is None or not service.active:
            return PaperRow(line, code, None, "paper.bad_service")
        service_id = service.id
    officer_id = None
    if nip := values.get("officer_nip", "").strip():
        officer = session.exec(select(Officer).where(Officer.nip == nip)).first()
        if officer is None or officer.unit_id != unit.id or not officer.active:
            return PaperRow(line, code, None, "paper.bad_officer")
        officer_id = officer.id
    answers: list[int] = []
    for number in range(1, 10):
        value = values.get(f"q{number}", "").strip()
        if value not in ("1", "2", "3", "4"):
            return PaperRow(line, code, None, "paper.bad_answer", number)
        answers.append(int(value))
    comment = values.get("comment", "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        return PaperRow(line, code, None, "paper.csv.comment")
    draft = SurveyDraft(
        unit_id=unit.id,
        answers=tuple(answers),
        service_id=service_id,
        officer_id=officer_id,
        comment=comment or None,
        channel=Intake.paper,
    )
    return PaperRow(line, code, draft)


def import_paper_csv(
    session: Session,
    raw: bytes,
    *,
    actor: Actor,
    tz: ZoneInfo,
    pseudonym_key: str,
    dry_run: bool,
    now: datetime | None = None,
) -> PaperImport:
    """Every row's result; the rows are stored (channel paper) only when none is bad and this
    is not a dry run: all or nothing."""
    try:
        header, rows = read_csv(raw)
    except ValueError:
        return PaperImport((), "paper.csv.unreadable")
    if any(c not in header for c in CSV_COLUMNS):
        return PaperImport((), "paper.csv.columns")
    if not rows:
        return PaperImport((), "paper.csv.empty")
    if len(rows) > MAX_CSV_ROWS:
        return PaperImport((), "paper.csv.too_many")
    checked = tuple(_check_row(session, line, values, actor) for line, values in rows)
    if dry_run or any(r.draft is None for r in checked):
        return PaperImport(checked)
    for row in checked:
        assert row.draft is not None
        enter_paper(session, row.draft, actor=actor, tz=tz, pseudonym_key=pseudonym_key, now=now)
    return PaperImport(checked, written=len(checked))
