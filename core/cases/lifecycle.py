"""The lifecycle of DESIGN section 3: one function per transition. Each checks the actor's right,
changes the case, appends exactly one CaseEvent and, for public events, writes the citizen's
notification to the outbox, all in the caller's transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core.access import (
    Actor,
    Permission,
    actor_for,
    can_view_case,
)
from core.cases.calendar import office_sla
from core.cases.models import (
    ActorKind,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseOutcome,
    CaseStatus,
    Visibility,
)
from core.cases.notices import notice_params, rejection_text
from core.cases.policy import (
    MAX_TEXT,
    SYSTEM,
    CasePolicy,
    EventActor,
    IllegalTransition,
    check_answer,
    refresh_due,
)
from core.cases.reading import get_case_for_staff_by_reference
from core.masterdata.models import Unit
from core.outbox.addresses import citizen_address
from core.outbox.models import MessageTemplate
from core.outbox.service import enqueue
from core.people.models import AppUser, Citizen
from core.shared.clock import utcnow
from core.shared.errors import Forbidden, InvalidInput, NotFound

# Notices whose text carries nothing of the staff's (an assignment's internal text stays).
BODYLESS = frozenset(
    {MessageTemplate.case_verified, MessageTemplate.case_in_progress, MessageTemplate.case_closed}
)

_OPEN = (
    CaseStatus.received,
    CaseStatus.verified,
    CaseStatus.in_progress,
    CaseStatus.waiting_citizen,
)
# The statuses from which each staff step may be taken (the functions below check them).
STAFF_STEPS: dict[str, tuple[CaseStatus, ...]] = {
    "verify": (CaseStatus.received,),
    # "Tunda" (SP4N-LAPOR!): an incomplete report is held and the reporter asked for what is
    # missing, before verification; the verification clock pauses.
    "hold": (CaseStatus.received,),
    # (waiting_citizen: only a held report, never verified; see `is_held`)
    "reject": (CaseStatus.received, CaseStatus.verified, CaseStatus.waiting_citizen),
    "assign": (CaseStatus.verified, CaseStatus.in_progress),
    "request_info": (CaseStatus.in_progress,),
    "resolve": (CaseStatus.in_progress, CaseStatus.waiting_citizen),
    "close": (CaseStatus.resolved,),
    "reopen": (CaseStatus.resolved, CaseStatus.closed),
    "misdirect": _OPEN,
    "note": tuple(CaseStatus),
    "lapor": tuple(CaseStatus),
}


def allowed_steps(case: Case, *, actor: Actor) -> frozenset[str]:
    """The staff steps `actor` may take on `case` now (the keys of STAFF_STEPS): what the
    console offers. The step functions check the same rules again."""
    if not can_view_case(case, actor=actor) or not actor.may(Permission.HANDLE_CASES, case.unit_id):
        return frozenset()
    steps = {step for step, statuses in STAFF_STEPS.items() if case.status in statuses}
    if case.status == CaseStatus.waiting_citizen:
        # A held report was never verified: it may be turned down, not resolved; a report
        # waiting in progress may be resolved, not rejected.
        steps.discard("resolve" if is_held(case) else "reject")
    if case.citizen_id is None:
        steps.discard("request_info")
        steps.discard("hold")
    if not actor.may(Permission.REOPEN_CASES, case.unit_id):
        steps.discard("reopen")
    if case.misdirected_at is not None or actor.is_global:
        steps.discard("misdirect")  # an admin's scope has no wrong unit: they forward it
    return frozenset(steps)


def is_held(case: Case) -> bool:
    """A report held before verification ("tunda"), waiting for the reporter's answer."""
    return case.status == CaseStatus.waiting_citizen and case.verified_at is None


# Transitions ------------------------------------------------------------------------------


def _require(case: Case, action: str, allowed: Iterable[CaseStatus]) -> None:
    allowed = tuple(allowed)
    if case.status not in {s.value for s in allowed}:
        names = ", ".join(s.value for s in allowed)
        raise IllegalTransition(
            f"cannot {action} a case that is {case.status}; only a case that is {names}",
            why="case.step_not_allowed",
            status=case.status,
        )


def _require_handler(actor: Actor, case: Case) -> None:
    if not can_view_case(case, actor=actor):
        raise NotFound(f"case {case.id} does not exist")
    if not actor.may(Permission.HANDLE_CASES, case.unit_id):
        raise Forbidden(f"role {actor.role.value} may not change cases")


def _staff(actor: Actor) -> EventActor:
    return EventActor(ActorKind.user, actor.user_id)


def _text(value: str, what: str, *, required: bool = True) -> str | None:
    value = value.strip()
    if not value:
        if required:
            raise InvalidInput(f"{what} must not be empty", why="text.empty")
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            f"{what} must be at most {MAX_TEXT} characters",
            why="text.too_long",
            max=MAX_TEXT,
            length=len(value),
        )
    return value


def _apply(
    session: Session,
    case: Case,
    who: EventActor,
    kind: CaseEventKind,
    *,
    to_status: CaseStatus | None = None,
    body: str | None = None,
    visibility: Visibility = Visibility.public,
    notify: MessageTemplate | None = None,
    now: datetime,
) -> CaseEvent:
    """Change the status (if any), append the event, queue the citizen's notification."""
    from_status = case.status
    if to_status is not None:
        case.status = to_status.value
    refresh_due(case)
    case.updated_at = now
    session.add(case)
    assert case.id is not None
    event = CaseEvent(
        case_id=case.id,
        actor_kind=who.kind.value,
        actor_user_id=who.user_id,
        kind=kind.value,
        from_status=from_status if to_status is not None else None,
        to_status=to_status.value if to_status is not None else None,
        body=body,
        visibility=visibility.value,
        created_at=now,
    )
    session.add(event)
    session.flush()
    if notify is not None and visibility is Visibility.public:
        _queue_notification(session, case, event, notify)
    return event


def _queue_notification(
    session: Session, case: Case, event: CaseEvent, template: MessageTemplate
) -> None:
    if case.citizen_id is None:  # the reporter erased their data
        return
    citizen = session.get(Citizen, case.citizen_id)
    to = citizen_address(session, case.citizen_id)
    if citizen is None or to is None:
        return
    body = None if template in BODYLESS else event.body
    params = notice_params(case.reference, body, case.outcome)
    enqueue(
        session,
        to=to,
        language=citizen.language,
        template=template,
        params=params,
        case_event_id=event.id,
        now=event.created_at,
    )
    session.flush()


def verify(
    session: Session, case: Case, policy: CasePolicy, *, actor: Actor, now: datetime | None = None
) -> CaseEvent:
    """received -> verified: the complaint is complete and ours; the unit's clock starts,
    and (SLA_RESOLVE_FROM=complete, Perpres 76/2013) the 60 days to settle it start again."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "verify", STAFF_STEPS["verify"])
    sla = office_sla(session, policy.sla)
    case.verified_at = now
    case.followup_due_at = sla.followup_due(now)
    if sla.resolves_from_verification():
        case.resolve_due_at = sla.resolve_due(now)
    return _apply(
        session, case, _staff(actor), CaseEventKind.verified,
        to_status=CaseStatus.verified, notify=MessageTemplate.case_verified, now=now,
    )  # fmt: skip


def reject(
    session: Session,
    case: Case,
    reason: str,
    *,
    actor: Actor,
    duplicate_of: str | None = None,
    now: datetime | None = None,
) -> CaseEvent:
    """received/verified (or held: see `hold`) -> rejected (spam, not our authority,
    duplicate of another case, never completed)."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "reject", STAFF_STEPS["reject"])
    _require_unless_waiting_in_progress(case, "reject")
    text = _text(reason, "the reason")
    assert text is not None
    if duplicate_of:
        original = get_case_for_staff_by_reference(session, duplicate_of, actor=actor)
        if original.id == case.id:
            raise InvalidInput("a case cannot duplicate itself", why="case.duplicate_self")
        case.duplicate_of_id = original.id
        text = rejection_text(case, text, original)
    case.reject_reason = text
    case.closed_at = now
    case.paused_at = None  # a held report's wait ends with it
    return _apply(
        session, case, _staff(actor), CaseEventKind.rejected,
        to_status=CaseStatus.rejected, body=text, notify=MessageTemplate.case_rejected,
        now=now,
    )  # fmt: skip


# What `assign` and `set_lapor_id` write in their event's body (in English, for the audit
# and the API); `described` reads it back for pages that speak the user's language.
FORWARDED = "forwarded to "
ASSIGNED = "assigned to "
LAPOR_SET = "SP4N-LAPOR! tracking number: "
LAPOR_REMOVED = "SP4N-LAPOR! tracking number removed"
_ASSIGNED_RE = re.compile(rf"(?:^|; ){ASSIGNED}([a-z0-9._-]+)$")  # usernames: users.py


@dataclass(frozen=True)
class Described:
    """What a body written by core says: `what` is one of "assignment", "lapor_set",
    "lapor_removed"; `unit` the unit a case was forwarded to (its name), `username` the
    account it was assigned to, `number` the SP4N-LAPOR! number."""

    what: str
    unit: str | None = None
    username: str | None = None
    number: str | None = None


def described(event: CaseEvent) -> Described | None:
    """The facts of an event whose body core wrote (an assignment, an SP4N-LAPOR! number);
    None for a body a person wrote."""
    body = event.body or ""
    if event.kind == CaseEventKind.assigned.value and body:
        found = _ASSIGNED_RE.search(body)
        rest = body[: found.start()] if found else body
        if rest and not rest.startswith(FORWARDED):
            return None
        unit = rest.removeprefix(FORWARDED) or None
        return Described("assignment", unit=unit, username=found.group(1) if found else None)
    if event.kind == CaseEventKind.note.value and event.visibility == Visibility.internal.value:
        if body == LAPOR_REMOVED:
            return Described("lapor_removed")
        if body.startswith(LAPOR_SET) and LAPOR_ID.fullmatch(body.removeprefix(LAPOR_SET)):
            return Described("lapor_set", number=body.removeprefix(LAPOR_SET))
    return None


def assign(
    session: Session,
    case: Case,
    *,
    actor: Actor,
    assignee_id: int | None = None,
    unit_code: str | None = None,
    now: datetime | None = None,
) -> CaseEvent:
    """verified/in_progress -> in_progress: hand the case to a person and/or another unit."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "assign", STAFF_STEPS["assign"])
    parts = []
    if unit_code:
        unit = session.exec(select(Unit).where(Unit.code == unit_code.strip().lower())).first()
        # One answer for a unit that does not exist and one outside the actor's scope: the
        # answer must not tell which unit codes exist elsewhere.
        if unit is None or unit.id is None or not unit.active or not actor.can_see_unit(unit.id):
            raise InvalidInput(
                f"no active unit {unit_code!r} within your units",
                why="case.unit_unknown",
                unit=unit_code.strip(),
            )
        if unit.id != case.unit_id:
            case.unit_id = unit.id
            case.misdirected_at = None  # it has reached a unit that handles it
            # The named officer stays: the case still names them (conflict of interest).
            case.service_id = None
            parts.append(f"{FORWARDED}{unit.name}")
    if assignee_id is not None:
        user = session.get(AppUser, assignee_id)
        if user is None or not _may_handle(session, user, case):
            raise InvalidInput(
                "the assignee must be an active user who may handle this case",
                why="case.assignee_not_allowed",
            )
        case.assignee_id = assignee_id
        parts.append(f"{ASSIGNED}{user.username}")
    if not parts and case.status == CaseStatus.in_progress:
        raise InvalidInput("name an assignee or a unit to forward to", why="case.assign_nothing")
    first_time = case.status == CaseStatus.verified
    return _apply(
        session, case, _staff(actor), CaseEventKind.assigned,
        to_status=CaseStatus.in_progress, body="; ".join(parts) or None,
        visibility=Visibility.public if first_time else Visibility.internal,
        notify=MessageTemplate.case_in_progress if first_time else None,
        now=now,
    )  # fmt: skip


def _may_handle(session: Session, user: AppUser, case: Case) -> bool:
    """An assignee must be able to open the case and to handle it (confidentiality too)."""
    assert user.id is not None
    assignee = actor_for(session, user.id)
    return (
        assignee is not None
        and can_view_case(case, actor=assignee)
        and assignee.may(Permission.HANDLE_CASES, case.unit_id)
    )


def request_info(
    session: Session, case: Case, question: str, *, actor: Actor, now: datetime | None = None
) -> CaseEvent:
    """in_progress -> waiting_citizen: ask the reporter; the SLA clock pauses."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "ask the citizen about", STAFF_STEPS["request_info"])
    return _ask(session, case, question, actor=actor, now=now)


def hold(
    session: Session, case: Case, question: str, *, actor: Actor, now: datetime | None = None
) -> CaseEvent:
    """received -> waiting_citizen ("tunda", SP4N-LAPOR!): the report cannot be verified
    because something is missing; ask the reporter for it. The verification clock pauses
    as the later pause does (`request_info`); the answer brings the report back to
    `received` with every deadline moved by the time it waited (`citizen_reply`)."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "hold", STAFF_STEPS["hold"])
    return _ask(session, case, question, actor=actor, now=now)


def _ask(session: Session, case: Case, question: str, *, actor: Actor, now: datetime) -> CaseEvent:
    """Ask the reporter (one `info_requested` event, its notice) and pause the clock."""
    if case.citizen_id is None:
        raise InvalidInput(
            "the reporter erased their data and cannot be asked", why="case.reporter_erased"
        )
    text = _text(question, "the question")
    case.paused_at = now
    return _apply(
        session, case, _staff(actor), CaseEventKind.info_requested,
        to_status=CaseStatus.waiting_citizen, body=text,
        notify=MessageTemplate.case_info_requested, now=now,
    )  # fmt: skip


def _require_unless_waiting_in_progress(case: Case, action: str) -> None:
    """`reject` of a waiting report only when it is held (never verified)."""
    if case.status == CaseStatus.waiting_citizen and not is_held(case):
        raise IllegalTransition(
            f"cannot {action} a case that is {case.status} after verification",
            why="case.step_not_allowed",
            status=case.status,
        )


def _back_from_waiting(case: Case) -> CaseStatus:
    """Where an answered (or abandoned) wait goes: a held report back to verification, a
    report in progress back to its handler."""
    return CaseStatus.received if is_held(case) else CaseStatus.in_progress


def _resume_clock(case: Case, now: datetime) -> None:
    if case.paused_at is None:
        return
    paused = now - case.paused_at
    case.verify_due_at += paused
    case.resolve_due_at += paused
    if case.followup_due_at is not None:
        case.followup_due_at += paused
    case.paused_at = None


def citizen_reply(
    session: Session, citizen: Citizen, case: Case, text: str, *, now: datetime | None = None
) -> CaseEvent:
    """waiting_citizen -> in_progress (a held report: -> received): the reporter answered;
    the clock runs again."""
    now = now or utcnow()
    if case.citizen_id != citizen.id:
        raise NotFound("case not found")
    _require(case, "reply to", [CaseStatus.waiting_citizen])
    body = check_answer(text, "the reply")
    back = _back_from_waiting(case)
    _resume_clock(case, now)
    return _apply(
        session, case, EventActor(ActorKind.citizen), CaseEventKind.citizen_replied,
        to_status=back, body=body, now=now,
    )  # fmt: skip


def reporter_erased(
    session: Session, case: Case, *, now: datetime | None = None
) -> CaseEvent | None:
    """The reporter erased their data: a case waiting for their answer can wait no longer,
    so it goes back to in_progress (a held report: to received) and its clock runs again
    (an internal event)."""
    if case.status != CaseStatus.waiting_citizen:
        return None
    now = now or utcnow()
    back = _back_from_waiting(case)
    _resume_clock(case, now)
    return _apply(
        session, case, SYSTEM, CaseEventKind.reporter_erased,
        to_status=back, visibility=Visibility.internal,
        body="the reporter erased their data; their answer will not come", now=now,
    )  # fmt: skip


def resolve(
    session: Session,
    case: Case,
    outcome: CaseOutcome,
    resolution: str,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> CaseEvent:
    """in_progress (or waiting_citizen, not held) -> resolved, with an outcome and what was
    done."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "resolve", STAFF_STEPS["resolve"])
    if is_held(case):
        raise IllegalTransition(
            "cannot resolve a report held before verification; wait for the citizen's answer "
            "or reject it",
            why="case.step_not_allowed",
            status=case.status,
        )
    text = _text(resolution, "the resolution")
    _resume_clock(case, now)
    case.outcome = outcome.value
    case.resolution = text
    case.resolved_at = now
    return _apply(
        session, case, _staff(actor), CaseEventKind.resolved,
        to_status=CaseStatus.resolved, body=text, notify=MessageTemplate.case_resolved, now=now,
    )  # fmt: skip


def close(session: Session, case: Case, *, actor: Actor, now: datetime | None = None) -> CaseEvent:
    """resolved -> closed, by staff."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "close", STAFF_STEPS["close"])
    case.closed_at = now
    return _apply(
        session, case, _staff(actor), CaseEventKind.closed,
        to_status=CaseStatus.closed, notify=MessageTemplate.case_closed, now=now,
    )  # fmt: skip


def reopen(
    session: Session, case: Case, reason: str, *, actor: Actor, now: datetime | None = None
) -> CaseEvent:
    """resolved/closed -> in_progress, by an admin (with a reason)."""
    now = now or utcnow()
    _require_handler(actor, case)
    if not actor.may(Permission.REOPEN_CASES, case.unit_id):
        raise Forbidden("only an admin may reopen a case")
    _require(case, "reopen", STAFF_STEPS["reopen"])
    text = _text(reason, "the reason")
    _clear_resolution(case)
    return _apply(
        session, case, _staff(actor), CaseEventKind.reopened,
        to_status=CaseStatus.in_progress, body=text, notify=MessageTemplate.case_reopened,
        now=now,
    )  # fmt: skip


def _clear_resolution(case: Case) -> None:
    case.outcome = None
    case.resolution = None
    case.resolved_at = None
    case.closed_at = None


def add_note(
    session: Session, case: Case, body: str, *, actor: Actor, now: datetime | None = None
) -> CaseEvent:
    """An internal note: staff only, never shown to the citizen."""
    now = now or utcnow()
    _require_handler(actor, case)
    text = _text(body, "the note")
    return _apply(
        session,
        case,
        _staff(actor),
        CaseEventKind.note,
        body=text,
        visibility=Visibility.internal,
        now=now,
    )


def mark_misdirected(
    session: Session, case: Case, note: str, *, actor: Actor, now: datetime | None = None
) -> CaseEvent:
    """ "Salah alamat": the case was sent to a unit outside the handler's scope. It waits in
    the admins' view until an admin forwards it (which clears the mark); its deadlines keep
    running. An internal event with the handler's note."""
    now = now or utcnow()
    _require_handler(actor, case)
    _require(case, "mark as misdirected", STAFF_STEPS["misdirect"])
    if case.misdirected_at is not None:
        raise IllegalTransition(
            "this case is already marked as sent to the wrong unit",
            why="case.already_misdirected",
        )
    text = _text(note, "the note")
    case.misdirected_at = now
    return _apply(
        session, case, _staff(actor), CaseEventKind.misdirected,
        body=text, visibility=Visibility.internal, now=now,
    )  # fmt: skip


LAPOR_ID = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
LAPOR_ID_MAX = 40


def clean_lapor_id(value: str) -> str | None:
    """An SP4N-LAPOR! tracking number: letters, digits and single dashes, at most 40
    characters (upper-cased); empty means none. InvalidInput otherwise."""
    value = value.strip().upper()
    if not value:
        return None
    if len(value) > LAPOR_ID_MAX or not LAPOR_ID.fullmatch(value):
        raise InvalidInput(
            f"an SP4N-LAPOR! tracking number has letters, digits and dashes only, "
            f"at most {LAPOR_ID_MAX} characters",
            why="case.lapor_format",
            max=LAPOR_ID_MAX,
        )
    return value


def set_lapor_id(
    session: Session, case: Case, lapor_id: str, *, actor: Actor, now: datetime | None = None
) -> CaseEvent:
    """Set, change or (with an empty value) remove the case's SP4N-LAPOR! tracking number;
    an internal note records it."""
    now = now or utcnow()
    _require_handler(actor, case)
    value = clean_lapor_id(lapor_id)
    if value == case.lapor_id:
        raise InvalidInput(
            "the case already has this SP4N-LAPOR! tracking number", why="case.lapor_same"
        )
    case.lapor_id = value
    body = f"{LAPOR_SET}{value}" if value else LAPOR_REMOVED
    return _apply(
        session, case, _staff(actor), CaseEventKind.note,
        body=body, visibility=Visibility.internal, now=now,
    )  # fmt: skip


def can_reopen(case: Case, policy: CasePolicy, *, now: datetime) -> bool:
    return (
        case.status == CaseStatus.resolved
        and case.reopened_count == 0
        and case.resolved_at is not None
        and now - case.resolved_at <= timedelta(days=policy.reopen_window_days)
    )


def citizen_rate(
    session: Session,
    citizen: Citizen,
    case: Case,
    policy: CasePolicy,
    satisfied: bool,
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> CaseEvent:
    """The reporter's "puas / tidak puas". Not satisfied reopens once, within the window."""
    now = now or utcnow()
    if case.citizen_id != citizen.id:
        raise NotFound("case not found")
    _require(case, "rate", [CaseStatus.resolved])
    who = EventActor(ActorKind.citizen)
    case.rated_at = now
    case.satisfied = satisfied
    if satisfied:
        case.closed_at = now
        return _apply(
            session, case, who, CaseEventKind.rated_satisfied, to_status=CaseStatus.closed, now=now
        )
    text = check_answer(reason or "", "the reason")
    case.satisfaction_reason = text
    if can_reopen(case, policy, now=now):
        case.reopened_count += 1
        _clear_resolution(case)
        return _apply(
            session, case, who, CaseEventKind.reopened_by_citizen,
            to_status=CaseStatus.in_progress, body=text, now=now,
        )  # fmt: skip
    case.closed_at = now
    return _apply(
        session,
        case,
        who,
        CaseEventKind.rated_unsatisfied,
        to_status=CaseStatus.closed,
        body=text,
        now=now,
    )


def autoclose(session: Session, policy: CasePolicy, *, now: datetime | None = None) -> int:
    """Close resolved cases the citizen left unanswered for `autoclose_days`."""
    now = now or utcnow()
    cutoff = now - timedelta(days=policy.autoclose_days)
    stale = session.exec(
        select(Case)
        .where(Case.status == CaseStatus.resolved.value, col(Case.resolved_at) <= cutoff)
        .order_by(col(Case.id))
    ).all()
    for case in stale:
        case.closed_at = now
        _apply(
            session, case, SYSTEM, CaseEventKind.auto_closed,
            to_status=CaseStatus.closed, notify=MessageTemplate.case_closed, now=now,
        )  # fmt: skip
    return len(stale)


# Why a case closed without the citizen's answer (the `reject_reason` of a held report; the
# event itself carries no text: its kind says why, in each reader's language).
UNANSWERED = "the reporter did not answer the question within {days} days"


def close_unanswered(session: Session, *, days: int, now: datetime | None = None) -> int:
    """Close the cases that waited on the reporter's answer for more than `days` days
    (WAITING_CITIZEN_CLOSE_DAYS), counted from the question (`paused_at`, set when it was
    asked). Each gets one public `closed_unanswered` event, and the reporter the closing
    notice on their channel (Telegram, e-mail) where they can still be told.

    Which end each case gets is the one the lifecycle allows from where it stands:
    - a report held before verification ("tunda", `is_held`) was never verified, so it
      cannot be resolved or closed (`close` is only from `resolved`); the step the lifecycle
      allows a held report is `reject` (a report never completed): it ends `rejected`, with
      `reject_reason` saying why;
    - a report waiting in progress (`request_info` after verification) may not be rejected
      (`_require_unless_waiting_in_progress`) and there is no finding to resolve it with: it
      ends `closed` without an outcome, as `autoclose` closes a resolved case nobody rated.
    Either way the clock's pause ends (the deadlines move by the time waited, as an answer
    would move them) and nothing is deleted; an admin may reopen a closed one."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    waiting = session.exec(
        select(Case)
        .where(
            Case.status == CaseStatus.waiting_citizen.value,
            col(Case.paused_at).is_not(None),
            col(Case.paused_at) < cutoff,
        )
        .order_by(col(Case.id))
        .with_for_update()
    ).all()
    for case in waiting:
        held = is_held(case)
        _resume_clock(case, now)
        case.closed_at = now
        if held:
            case.reject_reason = UNANSWERED.format(days=days)
        _apply(
            session, case, SYSTEM, CaseEventKind.closed_unanswered,
            to_status=CaseStatus.rejected if held else CaseStatus.closed,
            notify=MessageTemplate.case_closed, now=now,
        )  # fmt: skip
    return len(waiting)
