"""A case's page: what was reported, by whom (as the rules allow), what happened and what
this user may do now, each step a small form that previews what the citizen will be told."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from console.i18n import refusal, t
from console.web import (
    MAX_ID,
    PREFIX,
    CurrentStaff,
    Staff,
    check_csrf,
    parse_id,
    policies_of,
    read,
    render,
    write,
)
from conversations.notices import render as render_notice
from core.access import Actor, can_see_location, can_see_reporter
from core.cases import service as svc
from core.cases.canned import fill_canned, get_canned, list_canned
from core.cases.models import (
    ActorKind,
    Attachment,
    AttachmentStatus,
    CannedResponse,
    Case,
    CaseEvent,
    CaseOutcome,
    Visibility,
)
from core.cases.notices import NoticeAction, preview_notice
from core.cases.queries import CaseSummary
from core.cases.reading import (
    Delivery,
    attachment_file,
    case_assignees,
    case_attachments,
    case_events,
    case_read_audit_actions,
    event_actor_kind,
    event_actor_names,
    event_deliveries,
    forward_units,
    get_case_for_staff_by_reference,
    record_case_read,
)
from core.masterdata.models import Officer, Unit
from core.outbox.addresses import citizen_addresses
from core.people.models import Address, AppUser, Citizen
from core.shared.errors import Conflict, InvalidInput, NotFound

router = APIRouter()

# The steps of the page, in the order they are offered; the text field each one sends.
STEPS = (
    "verify",
    "hold",
    "reject",
    "assign",
    "request_info",
    "resolve",
    "close",
    "reopen",
    "misdirect",
    "note",
)
TEXT_FIELD = {
    "hold": "question",
    "reject": "reason",
    "request_info": "question",
    "resolve": "resolution",
    "reopen": "reason",
    "note": "body",
    "misdirect": "note",
}
CANNED_ACTION = {  # the canned responses' action of each step with a text
    "hold": "request_info",  # (never offered together with request_info: see `_load`)
    "reject": "reject",
    "request_info": "request_info",
    "resolve": "resolve",
    "reopen": "reopen",
    "note": "note",
    "misdirect": "misdirected",
}
CITIZEN_TEXTS = frozenset({"hold", "reject", "request_info", "resolve", "reopen"})
NOTIFYING = {a.value: a for a in NoticeAction}
NOTIFYING["hold"] = NoticeAction.request_info  # holding asks the citizen the same way
FIELDS: tuple[str, ...] = (
    "reason",
    "duplicate_of",
    "assignee_id",
    "unit_code",
    "question",
    "outcome",
    "resolution",
    "body",
    "note",
    "lapor_id",
    "canned",
)


@dataclass(frozen=True)
class TimelineEntry:
    event: CaseEvent
    who: str  # a staff member's name, or "" for the citizen / the system (see kind)
    actor_kind: ActorKind
    deliveries: list[Delivery]
    says: str | None = None  # a body core wrote, in the user's language (else: the body)


@dataclass
class CasePage:
    case: Case
    unit: Unit | None
    officer: Officer | None
    assignee: AppUser | None
    timeline: list[TimelineEntry]
    show_reporter: bool
    reporter: list[Address] | None  # None: hidden, or erased (case.citizen_id is None)
    reporter_phone: str | None  # a number left for a call-back, under the same rule
    show_location: bool
    photos: list[Attachment]
    photos_pending: int  # sent by the citizen, not downloaded yet
    photos_failed: int  # could not be downloaded
    duplicates: list[CaseSummary]
    steps: frozenset[str]
    assignees: list[AppUser]
    units: list[Unit]
    canned: dict[str, list[CannedResponse]]
    citizen_lang: str
    drafts: dict[str, dict[str, str]] = field(default_factory=dict)
    previews: dict[str, str | None] = field(default_factory=dict)
    # A web reporter with no e-mail: told of nothing, but reads each public step on their
    # follow-up page (what the preview says instead of "not told").
    web_reader: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    done: str = ""


def _outcome(value: str) -> CaseOutcome | None:
    try:
        return CaseOutcome(value)
    except ValueError:
        return None


def _preview(
    session: Session, case: Case, step: str, draft: Mapping[str, str], *, actor: Actor
) -> str | None:
    """The text the citizen would be sent by `step` with `draft`, or None (nobody told)."""
    action = NOTIFYING.get(step)
    if action is None:
        return None
    field_name = TEXT_FIELD.get(step)
    message = preview_notice(
        session,
        case,
        action,
        actor=actor,
        text=draft.get(field_name, "") if field_name else "",
        outcome=_outcome(draft.get("outcome", "")),
        duplicate_of=draft.get("duplicate_of") or None,
    )
    return None if message is None else render_notice(message).text


def _display_names(session: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = session.exec(select(AppUser).where(col(AppUser.username).in_(usernames))).all()
    return {u.username: u.display_name or u.username for u in rows}


def _says(facts: svc.Described, names: dict[str, str], lang: str) -> str:
    """What core wrote in an event's body, in the user's words (names, not usernames)."""
    if facts.what == "lapor_set":
        return t(lang, "event.says.lapor_set", number=facts.number or "")
    if facts.what == "lapor_removed":
        return t(lang, "event.says.lapor_removed")
    who = names.get(facts.username or "", facts.username or "")
    if facts.unit and who:
        return t(lang, "event.says.forwarded_assigned", unit=facts.unit, name=who)
    if facts.unit:
        return t(lang, "event.says.forwarded", unit=facts.unit)
    return t(lang, "event.says.assigned", name=who)


def _load(
    session: Session,
    request: Request,
    reference: str,
    *,
    actor: Actor,
    lang: str,
    drafts: dict[str, dict[str, str]],
    canned_id: int | None = None,
) -> CasePage:
    policies = policies_of(request)
    case = get_case_for_staff_by_reference(session, reference[:40], actor=actor)
    events = list(case_events(session, case, actor=actor))
    names = event_actor_names(session, events)
    public = [e.id for e in events if e.visibility == Visibility.public.value and e.id]
    deliveries = event_deliveries(session, public)
    facts = {e.id: found for e in events if (found := svc.described(e)) is not None}
    shown = _display_names(session, {f.username for f in facts.values() if f.username})
    timeline = [
        TimelineEntry(
            event=e,
            who=names.get(e.actor_user_id, "") if e.actor_user_id is not None else "",
            actor_kind=event_actor_kind(e),
            deliveries=deliveries.get(e.id or 0, []),
            says=_says(facts[e.id], shown, lang) if e.id in facts else None,
        )
        for e in events
    ]
    show_reporter = can_see_reporter(case, actor=actor)
    reporter = None
    reporter_phone = None
    citizen_lang = "id"
    if case.citizen_id is not None:
        citizen = session.get(Citizen, case.citizen_id)
        citizen_lang = citizen.language if citizen is not None else "id"
        if show_reporter:
            reporter = citizen_addresses(session, case.citizen_id)
            reporter_phone = citizen.phone if citizen is not None else None
    unit = session.get(Unit, case.unit_id)
    attached = case_attachments(session, case, actor=actor)
    photos = [a for a in attached if a.status == AttachmentStatus.stored.value]
    steps = svc.allowed_steps(case, actor=actor)
    canned: dict[str, list[CannedResponse]] = {}
    if steps:
        for c in list_canned(session, active_only=True):
            canned.setdefault(c.action, []).append(c)
    drafts = {k: dict(v) for k, v in drafts.items()}
    if canned_id is not None:
        chosen = get_canned(session, canned_id)
        step = next(
            (s for s, a in CANNED_ACTION.items() if a == chosen.action and s in steps), None
        )
        if step is not None and chosen.active:
            text_lang = citizen_lang if step in CITIZEN_TEXTS else lang
            text = fill_canned(
                chosen, text_lang, reference=case.reference, unit=unit.name if unit else ""
            )
            drafts.setdefault(step, {})[TEXT_FIELD[step]] = text
            drafts[step]["canned"] = str(chosen.id)
    page = CasePage(
        case=case,
        unit=unit,
        officer=session.get(Officer, case.officer_id) if case.officer_id else None,
        assignee=session.get(AppUser, case.assignee_id) if case.assignee_id else None,
        timeline=timeline,
        show_reporter=show_reporter,
        reporter=reporter,
        reporter_phone=reporter_phone,
        show_location=can_see_location(case, actor=actor),
        photos=photos,
        photos_pending=sum(a.status == AttachmentStatus.pending.value for a in attached),
        photos_failed=sum(a.status == AttachmentStatus.failed.value for a in attached),
        duplicates=svc.duplicate_hints(session, case, policies.cases, actor=actor),
        steps=steps,
        assignees=case_assignees(session, case) if "assign" in steps else [],
        units=forward_units(session, case, actor=actor) if "assign" in steps else [],
        canned=canned,
        citizen_lang=citizen_lang,
        drafts=drafts,
    )
    for step in steps & NOTIFYING.keys():
        page.previews[step] = _preview(session, case, step, drafts.get(step, {}), actor=actor)
    page.web_reader = reads_on_the_web(case)
    return page


def reads_on_the_web(case: Case) -> bool:
    """A web report whose reporter is still there: they read public steps on /lacak."""
    return case.channel == "web" and case.citizen_id is not None


async def _show(
    request: Request,
    staff: Staff,
    reference: str,
    *,
    drafts: dict[str, dict[str, str]] | None = None,
    errors: dict[str, str] | None = None,
    canned_id: int | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    policies = policies_of(request)
    actor = staff.actor

    def load(session: Session) -> CasePage:
        return _load(
            session,
            request,
            reference,
            actor=actor,
            lang=staff.lang,
            drafts=drafts or {},
            canned_id=canned_id,
        )

    page = await read(request, load)
    page.errors = errors or {}
    page.done = done
    if case_read_audit_actions(page.case, actor=actor):

        def audit(session: Session) -> None:
            record_case_read(session, page.case, actor=actor, now=policies.now())

        await write(request, audit)
    return render(
        request,
        "case.html",
        staff.lang,
        staff,
        page=page,
        now=policies.now(),
        base=f"{PREFIX}/cases/{page.case.reference}",
        outcomes=[o.value for o in CaseOutcome],
        steps=STEPS,
        text_fields=TEXT_FIELD,
        canned_actions=CANNED_ACTION,
        status_code=status_code,
    )


@router.get("/cases/{reference}")
async def case_page(
    request: Request,
    staff: CurrentStaff,
    reference: str,
    canned: Annotated[str, Query(max_length=12)] = "",  # "" when "(choose a text)"
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return await _show(request, staff, reference, canned_id=_int(canned), done=done)


@router.get("/cases/{reference}/photos/{attachment_id}")
async def case_photo(
    request: Request,
    staff: CurrentStaff,
    reference: str,
    attachment_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
) -> Response:
    root = Path(policies_of(request).settings.attachments_dir)

    def find(session: Session) -> tuple[Path, str]:
        case = get_case_for_staff_by_reference(session, reference[:40], actor=staff.actor)
        return attachment_file(session, case, attachment_id, root, actor=staff.actor)

    path, media_type = await read(request, find)
    return FileResponse(path, media_type=media_type)


def _draft(form: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(form.get(name) or "")[:5000] for name in FIELDS}


def _int(value: str) -> int | None:
    return parse_id(value)


@router.post("/cases/{reference}/preview/{step}")
async def case_preview(
    request: Request, staff: CurrentStaff, reference: str, step: str
) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    draft = _draft(form)
    if request.headers.get("HX-Request"):
        actor = staff.actor

        def load(session: Session) -> tuple[str | None, bool]:
            case = get_case_for_staff_by_reference(session, reference[:40], actor=actor)
            if step not in svc.allowed_steps(case, actor=actor):
                return None, False
            return _preview(session, case, step, draft, actor=actor), reads_on_the_web(case)

        text, web_reader = await read(request, load)
        return render(
            request,
            "case_preview.html",
            staff.lang,
            staff,
            step=step,
            preview=text,
            web_reader=web_reader,
        )
    return await _show(request, staff, reference, drafts={step: draft})


class UnknownDuplicate(InvalidInput):
    """A reject naming as the original a reference the user cannot open: said on the form
    (which keeps what was typed), the same for a hidden case as for no case."""


@router.post("/cases/{reference}/{step}")
async def case_step(request: Request, staff: CurrentStaff, reference: str, step: str) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    if step not in STEPS and step != "lapor":
        raise NotFound(f"no step {step!r}")
    draft = _draft(form)
    policies = policies_of(request)
    actor = staff.actor
    now = policies.now()

    def act(session: Session) -> str:
        case = get_case_for_staff_by_reference(session, reference[:40], actor=actor)
        match step:
            case "verify":
                svc.verify(session, case, policies.cases, actor=actor, now=now)
            case "reject":
                try:
                    svc.reject(
                        session,
                        case,
                        draft["reason"],
                        actor=actor,
                        duplicate_of=draft["duplicate_of"].strip() or None,
                        now=now,
                    )
                except NotFound:  # the duplicate's reference: the case itself was found
                    raise UnknownDuplicate(t(staff.lang, "case.duplicate_unknown")) from None
            case "assign":
                svc.assign(
                    session,
                    case,
                    actor=actor,
                    assignee_id=_int(draft["assignee_id"]),
                    unit_code=draft["unit_code"].strip() or None,
                    now=now,
                )
            case "request_info":
                svc.request_info(session, case, draft["question"], actor=actor, now=now)
            case "hold":
                svc.hold(session, case, draft["question"], actor=actor, now=now)
            case "resolve":
                outcome = _outcome(draft["outcome"])
                if outcome is None:
                    raise InvalidInput("choose the outcome")
                svc.resolve(session, case, outcome, draft["resolution"], actor=actor, now=now)
            case "close":
                svc.close(session, case, actor=actor, now=now)
            case "reopen":
                svc.reopen(session, case, draft["reason"], actor=actor, now=now)
            case "misdirect":
                svc.mark_misdirected(session, case, draft["note"], actor=actor, now=now)
            case "note":
                svc.add_note(session, case, draft["body"], actor=actor, now=now)
            case "lapor":
                svc.set_lapor_id(session, case, draft["lapor_id"], actor=actor, now=now)
        return case.reference

    try:
        ref = await write(request, act)
    except (Conflict, InvalidInput) as exc:  # Forbidden and NotFound: the error pages
        status = 409 if isinstance(exc, Conflict) else 400
        return await _show(
            request,
            staff,
            reference,
            drafts={step: draft},
            errors={step: refusal(staff.lang, exc)},
            status_code=status,
        )
    return RedirectResponse(f"{PREFIX}/cases/{ref}?done={step}#h-timeline", status_code=303)
