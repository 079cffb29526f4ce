"""The officer's own view of their evaluations: the evidence about themselves, and their
written response (PermenPANRB 6/2022's continuous feedback between an employee and the
assessor).

An account linked to an officer (`Actor.officer_id`) with `RESPOND_OWN_EVALUATION` reads, for
each period that evaluates that officer: their survey score with its interval, the number of
responses behind it and the unit's mean; the complaints about them counted over the cases
that are not `rahasia` (counts only: the cases themselves stay hidden from the account, the
conflict-of-interest rule of core.access); and the citizens' comments that name them, with
the service they rate but without a date or time, so that a comment cannot be matched to the
citizen served at that hour. Never the suggested level (the assessor's working) nor a
citizen's identity. Once the period is finalized, the decisions and the rating are shown.

While the period is open the officer may write, change or withdraw a response; every version
is kept in the period's audit (`officer_responded`, `officer_response_withdrawn`), the
assessor sees the latest beside the suggestion (core.evaluations.views), and the export
carries it (core.evaluations.export)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core.access import Actor, Permission
from core.evaluations.models import EvaluationPeriod, OfficerEvaluation, PeriodStatus
from core.evaluations.periods import audit_event
from core.masterdata.models import Service
from core.shared.clock import local_day_bounds_utc, utcnow
from core.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.surveys.models import SurveyResponse

MAX_RESPONSE = 2000  # characters of a response
MAX_COMMENTS = 100  # comments shown for one period


@dataclass(frozen=True)
class OwnPeriod:
    """A period that evaluates the account's officer, as listed."""

    period_id: int
    name: str
    start: date
    end: date
    finalized: bool
    responded: bool


@dataclass(frozen=True)
class OwnComment:
    service_name: str | None
    text: str


@dataclass(frozen=True)
class OwnEvidence:
    """What the officer sees of one period about themselves (see the module's docstring)."""

    period_id: int
    period_name: str
    start: date
    end: date
    finalized: bool
    computed_at: datetime | None
    officer_name: str
    nip: str
    survey_n: int
    raw_mean: float | None
    score: float
    score_low: float
    score_high: float
    unit_mean: float
    insufficient: bool
    complaints_received: int  # over the cases that are not rahasia
    complaints_substantiated: int
    cases_overdue: int
    comments: list[OwnComment]
    comments_more: bool  # more than MAX_COMMENTS exist
    response: str | None
    response_at: datetime | None
    # Only once the period is finalized:
    behaviour_level: str | None
    results_level: str | None
    rating: str | None


def _require_own(actor: Actor) -> int:
    """The account's officer id; Forbidden when the account has none or lacks the right."""
    if not actor.may(Permission.RESPOND_OWN_EVALUATION):
        raise Forbidden(f"role {actor.role.value} has no own evaluation to read")
    if actor.officer_id is None:
        raise Forbidden(
            "this account is not linked to an officer (an administrator links it by NIP)",
            why="own.not_linked",
        )
    return actor.officer_id


def own_periods(session: Session, *, actor: Actor) -> list[OwnPeriod]:
    """Every period that evaluates the account's officer, newest first."""
    officer_id = _require_own(actor)
    rows = session.exec(
        select(EvaluationPeriod, OfficerEvaluation.officer_response)
        .join(OfficerEvaluation, col(OfficerEvaluation.period_id) == col(EvaluationPeriod.id))
        .where(OfficerEvaluation.officer_id == officer_id)
        .order_by(col(EvaluationPeriod.start).desc(), col(EvaluationPeriod.id).desc())
    ).all()
    out = []
    for period, response in rows:
        assert period.id is not None
        out.append(
            OwnPeriod(
                period_id=period.id,
                name=period.name,
                start=period.start,
                end=period.end,
                finalized=period.status == PeriodStatus.finalized,
                responded=bool(response),
            )
        )
    return out


def _own_row(
    session: Session, period_id: int, officer_id: int, *, lock: bool = False
) -> tuple[EvaluationPeriod, OfficerEvaluation]:
    """The period and the officer's row in it; NotFound when the period does not evaluate
    the officer (as for a period that does not exist). With `lock`, both rows are locked
    (PostgreSQL) so that finalizing, which locks the period too, cannot cross a response."""
    query = (
        select(EvaluationPeriod, OfficerEvaluation)
        .join(OfficerEvaluation, col(OfficerEvaluation.period_id) == col(EvaluationPeriod.id))
        .where(EvaluationPeriod.id == period_id, OfficerEvaluation.officer_id == officer_id)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.exec(query).first()
    if found is None:
        raise NotFound(f"evaluation period {period_id} does not exist")
    return found[0], found[1]


def _comments(
    session: Session, officer_id: int, lo: datetime, hi: datetime
) -> tuple[list[OwnComment], bool]:
    """The comments naming the officer in [lo, hi): by service, then text (no date, no
    order of arrival)."""
    comment = col(SurveyResponse.comment)
    newest = (
        select(Service.name, comment)
        .outerjoin(Service, col(Service.id) == col(SurveyResponse.service_id))
        .where(
            SurveyResponse.officer_id == officer_id,
            col(SurveyResponse.created_at) >= lo,
            col(SurveyResponse.created_at) < hi,
            comment.is_not(None),
            comment != "",
        )
        .order_by(col(SurveyResponse.created_at).desc(), col(SurveyResponse.id).desc())
        .limit(MAX_COMMENTS + 1)
    )
    rows = session.exec(newest).all()
    shown = sorted(
        (OwnComment(service_name=name, text=text or "") for name, text in rows[:MAX_COMMENTS]),
        key=lambda c: ((c.service_name or "").casefold(), c.text.casefold()),
    )
    return shown, len(rows) > MAX_COMMENTS


def own_evidence(session: Session, period_id: int, tz: ZoneInfo, *, actor: Actor) -> OwnEvidence:
    """The evidence about the account's officer in one period (see the module's docstring)."""
    officer_id = _require_own(actor)
    period, row = _own_row(session, period_id, officer_id)
    assert period.id is not None
    lo, hi = local_day_bounds_utc(period.start, period.end, tz)
    # Comments as of the evidence's snapshot, not live: a comment that appeared right after
    # the officer served someone would tell who wrote it.
    if period.computed_at is not None:
        computed = period.computed_at
        hi = min(hi, computed if computed.tzinfo else computed.replace(tzinfo=UTC))
    comments, more = _comments(session, officer_id, lo, hi)
    finalized = period.status == PeriodStatus.finalized
    return OwnEvidence(
        period_id=period.id,
        period_name=period.name,
        start=period.start,
        end=period.end,
        finalized=finalized,
        computed_at=period.computed_at,
        officer_name=row.officer_name,
        nip=row.nip,
        survey_n=row.survey_n,
        raw_mean=row.raw_mean,
        score=row.score,
        score_low=row.score_low,
        score_high=row.score_high,
        unit_mean=row.unit_mean,
        insufficient=row.insufficient,
        complaints_received=row.nonconf_complaints_received,
        complaints_substantiated=row.nonconf_complaints_substantiated,
        cases_overdue=row.nonconf_cases_overdue,
        comments=comments,
        comments_more=more,
        response=row.officer_response,
        response_at=row.officer_response_at,
        behaviour_level=row.behaviour_level if finalized else None,
        results_level=row.results_level if finalized else None,
        rating=row.rating if finalized else None,
    )


def respond(
    session: Session,
    period_id: int,
    text: str,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> OfficerEvaluation:
    """Write, change or (with an empty text) withdraw the officer's response, while the
    period is open; every change is audited with its full text."""
    now = now or utcnow()
    officer_id = _require_own(actor)
    period, row = _own_row(session, period_id, officer_id, lock=True)
    if period.status == PeriodStatus.finalized:
        raise Conflict(
            "this period is finalized: the response can no longer change",
            why="own.finalized",
        )
    clean = text.replace("\r\n", "\n").strip()
    if "\x00" in clean:
        raise InvalidInput(
            "the response contains a character that cannot be stored", why="own.unstorable"
        )
    if len(clean) > MAX_RESPONSE:
        raise InvalidInput(
            f"the response is {len(clean)} characters long; at most {MAX_RESPONSE} fit: "
            f"shorten it by {len(clean) - MAX_RESPONSE}",
            why="own.too_long",
            n=len(clean) - MAX_RESPONSE,
        )
    if clean == (row.officer_response or ""):
        return row
    if clean:
        row.officer_response, row.officer_response_at = clean, now
        audit_event(session, period, "officer_responded", clean, row, actor=actor, now=now)
    else:
        row.officer_response, row.officer_response_at = None, None
        audit_event(session, period, "officer_response_withdrawn", None, row, actor=actor, now=now)
    session.add(row)
    session.flush()
    return row
