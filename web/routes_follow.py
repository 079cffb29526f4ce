"""Following a web report without an account (`/lacak`): the reference and the follow-up
code, typed in a form or carried by the private link `/lacak/{reference}/{code}`, open the
case page, where the citizen answers a staff question, rates the outcome and erases their
data, through the same core functions as the bot's "Laporan saya". And `/privasi`.

Every opening counts: a wrong code (from the form, the private link or any action's hidden
fields) is counted by `open_web_report` for its reference (whose lock then refuses wrong
codes for a while; the right code always opens) and here for the client's address across
every reference (`WrongCodeCap`: past it, the address is refused every attempt for a while).
An unknown reference, a wrong code and a locked reference get the same answer (no oracle for
which references exist). The code never goes into a query string; actions post it back in
hidden fields, and the site sends no Referer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from conversations.i18n import t as bot_t
from conversations.mycases import BODY_SHOWN
from core.cases.categories import category_label
from core.cases.lifecycle import can_reopen, citizen_rate, citizen_reply
from core.cases.models import OPEN_STATUSES, Case, CaseEventKind, CaseStatus
from core.cases.policy import MAX_ANSWER, MIN_ANSWER, Rule, RuleBroken, check_answer
from core.cases.policy import parse_reference as parse_case_reference
from core.cases.reading import public_timeline
from core.cases.web_reports import open_web_report, parse_code, reporter_of, shown_code
from core.chat.inbox import INBOUND_RETENTION
from core.masterdata.models import Unit
from core.people.citizens import erase_citizen, unfinished_reports
from core.people.models import Citizen
from core.shared.errors import DomainError
from web.i18n import t as web_t
from web.pages import (
    StampCheck,
    address_of,
    bad_form,
    check_form,
    error_page,
    form_of,
    lang_of,
    may_post,
    policies_of,
    render,
    write,
    wrong_code_cap,
)

router = APIRouter()

MAX_REFERENCE_FIELD = 60  # longer is not a reference (kept no further)
MAX_CODE_FIELD = 40
MAX_ANSWER_KEPT = 20_000  # a too long answer is shown back to be cut, up to this much
# What an action did (`?done=` after it) and the bot's words for it.
DONE = {
    "reply": "case.reply_sent",
    "satisfied": "case.thanks_satisfied",
    "reopened": "case.reopened",
    "closed_unsatisfied": "case.closed_unsatisfied",
}


# What the case page shows ----------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    kind: str
    at: datetime
    body: str | None


@dataclass(frozen=True)
class CaseView:
    """The reporter's view of their case: what the bot's "Laporan saya" shows."""

    reference: str
    code: str  # the stored form, posted back in hidden fields
    unit: str
    category: str  # its code (labelled in the page's language)
    status: str
    outcome: str | None
    due: datetime | None  # the resolution deadline while the case is open
    paused: bool  # waiting on the citizen: the clock stands still
    question: str | None  # the staff question waiting for the citizen's answer
    may_rate: bool
    may_reopen: bool
    events: list[EventView]
    open_reports: list[str] = field(default_factory=list)  # for the erasure's warning


@dataclass(frozen=True)
class Opened:
    """What a step with the reference and code came to: the case page, or a refusal (a
    mismatch, a locked reference answered alike; `throttled`: the address's cap); `done` what
    an action did, or `problem` (a web catalog key with its params) what the citizen must
    correct."""

    view: CaseView | None = None
    done: str | None = None
    problem: tuple[str, dict[str, object]] | None = None
    erased: bool = False
    throttled: bool = False  # the client's address sent too many wrong codes


def _view(session: Session, case: Case, code: str, now: datetime, request: Request) -> CaseView:
    policy = policies_of(request).cases
    unit = session.get(Unit, case.unit_id)
    events = [EventView(e.kind, e.created_at, e.body) for e in public_timeline(session, case)]
    question = None
    if case.status == CaseStatus.waiting_citizen:
        asked = [e for e in events if e.kind == CaseEventKind.info_requested.value]
        question = asked[-1].body if asked else None
    is_open = case.status in {s.value for s in OPEN_STATUSES}
    citizen = reporter_of(session, case)
    return CaseView(
        reference=case.reference,
        code=code,
        unit=unit.name if unit else "-",
        category=case.category,
        status=case.status,
        outcome=case.outcome,
        due=_shown_deadline(case.resolve_due_at, policy.sla.tz) if is_open else None,
        paused=case.status == CaseStatus.waiting_citizen,
        question=question,
        may_rate=case.status == CaseStatus.resolved,
        may_reopen=can_reopen(case, policy, now=now),
        events=events,
        open_reports=unfinished_reports(session, citizen) if citizen else [],
    )


def _shown_deadline(due: datetime, tz: ZoneInfo) -> datetime:
    """A deadline at local midnight ends the day before: shown as that day's last minute
    (as the console shows it), not as 00:00 of the next day."""
    local = due.astimezone(tz)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return due - timedelta(minutes=1)
    return due


Action = Callable[[Session, Case, Citizen, datetime], "Opened | None"]


async def _open(
    request: Request, reference: str, code: str, action: Action | None = None
) -> Opened:
    """Open the case with the reference and code (counting a wrong code, in its own committed
    step), then run `action` on it in the same step; the page's view after it."""
    policies = policies_of(request)
    settings = policies.settings
    cap, address = wrong_code_cap(request), address_of(request)
    if not cap.allows(address):
        return Opened(throttled=True)
    parsed = parse_case_reference(reference[:MAX_REFERENCE_FIELD])
    if parsed is None:
        cap.count(address)
        return Opened()  # nothing to count against: no report has this reference
    typed = parse_code(code[:MAX_CODE_FIELD]) or "-"  # a code that cannot be one is wrong

    def step(session: Session) -> Opened:
        now = policies.now()
        attempt = open_web_report(
            session,
            parsed,
            typed,
            secret=settings.pseudonym_key,
            max_failures=settings.web_code_max_failures,
            lock_minutes=settings.web_code_lock_minutes,
            now=now,
        )
        case = attempt.case
        if case is None:
            return Opened()  # locked or not: the same answer (no oracle)
        citizen = reporter_of(session, case)
        if citizen is None:
            return Opened()
        outcome = action(session, case, citizen, now) if action is not None else None
        if outcome is not None and outcome.erased:
            return outcome
        view = _view(session, case, typed, now, request)
        if outcome is None:
            return Opened(view=view)
        return Opened(view=view, done=outcome.done, problem=outcome.problem)

    opened = await write(request, step)
    if opened.view is None and not opened.erased:
        cap.count(address)
    return opened


def _link(reference: str, code: str, done: str | None = None) -> str:
    path = f"/lacak/{quote(reference, safe='-')}/{quote(shown_code(code), safe='-')}"
    return f"{path}?done={done}" if done else path


def _refused(request: Request, opened: Opened, *, reference: str = "", code: str = "") -> Response:
    """The form again with the one answer for a mismatch: the same for an unknown reference,
    a wrong code and a locked reference (saying, always, that wrong codes may lock a
    reference for a while), or the cap's for an address that sent too many wrong codes."""
    minutes = policies_of(request).settings.web_code_lock_minutes
    if opened.throttled:
        return render(
            request,
            "follow_form.html",
            status_code=429,
            error=_t(request, "follow.too_many", minutes=minutes),
            reference=reference,
            code=code,
        )
    wait = _t(request, "follow.mismatch_wait", minutes=minutes)
    return render(
        request,
        "follow_form.html",
        status_code=404,
        error=f"{_t(request, 'follow.mismatch')} {wait}",
        reference=reference,
        code=code,
    )


def _t(request: Request, key: str, **params: object) -> str:
    return web_t(lang_of(request), key, **params)


def _case_page(
    request: Request,
    view: CaseView,
    *,
    status_code: int = 200,
    done: str | None = None,
    problem: tuple[str, dict[str, object]] | None = None,
    answer: str = "",
    reason: str = "",
    form: str | None = None,
) -> Response:
    lang = lang_of(request)
    tz = policies_of(request).settings.tz

    def bot(key: str, **params: object) -> str:
        return bot_t(lang, key, **params)

    def when(moment: datetime) -> str:
        return moment.astimezone(tz).strftime("%d-%m-%Y %H:%M")

    notice = bot(DONE[done], ref=view.reference) if done in DONE else None
    if (form == "reply" and view.question is None) or (form == "rate" and not view.may_rate):
        form = None  # that form is gone (the case moved on): its problem goes on top
    return render(
        request,
        "follow_case.html",
        status_code=status_code,
        case=view,
        bot=bot,
        when=when,
        category=category_label(view.category, lang),
        body_shown={k.value for k in BODY_SHOWN},
        done=notice,
        problem=_t(request, problem[0], **problem[1]) if problem else None,
        form=form,
        answer=answer,
        reason=reason,
        max_answer=MAX_ANSWER,
        min_answer=MIN_ANSWER,
    )


def _answer_problem(text: str) -> tuple[str, dict[str, object]] | None:
    """None if the answer may be sent, else what to correct (too long: by how much)."""
    try:
        check_answer(text)
    except RuleBroken as broken:
        length = len(text.strip())
        if broken.rule == Rule.too_long:
            return "follow.answer_too_long", {
                "length": length,
                "max": MAX_ANSWER,
                "cut": length - MAX_ANSWER,
            }
        return "follow.answer_length", {"min": MIN_ANSWER, "max": MAX_ANSWER}
    return None


async def _form_fields(request: Request) -> tuple[Any, str, str]:
    form = await form_of(request)
    return form, str(form.get("reference") or ""), str(form.get("code") or "")


# The form and the private link ---------------------------------------------------------------


@router.get("/lacak")
async def follow_form(request: Request) -> Response:
    return render(request, "follow_form.html", reference="", code="")


@router.post("/lacak")
async def follow_post(request: Request) -> Response:
    if not may_post(request):
        return error_page(request, 429, "error.429")
    form, reference, code = await _form_fields(request)
    reference, code = reference[:MAX_REFERENCE_FIELD], code[:MAX_CODE_FIELD]
    # A pasted reference and code are sent at once: no minimum fill time here (wrong codes
    # are capped per reference and per address); the honeypot and the device still count.
    if check_form(request, form) is StampCheck.bad:
        return bad_form(request)
    opened = await _open(request, reference, code)
    if opened.view is None:
        return _refused(request, opened, reference=reference, code=code)
    return RedirectResponse(_link(opened.view.reference, opened.view.code), status_code=303)


@router.get("/lacak/{reference}/{code}")
async def follow_link(request: Request, reference: str, code: str) -> Response:
    opened = await _open(request, reference, code)
    if opened.view is None:
        return _refused(request, opened)
    done = request.query_params.get("done")
    return _case_page(request, opened.view, done=done if done in DONE else None)


# The case page's actions --------------------------------------------------------------------


async def _guarded(request: Request) -> tuple[Any, str, str] | Response:
    """The form of an action, or the answer to a flood or a robot."""
    if not may_post(request):
        return error_page(request, 429, "error.429")
    form, reference, code = await _form_fields(request)
    if check_form(request, form) is StampCheck.bad:
        return bad_form(request)
    return form, reference, code


@router.post("/lacak/jawab")
async def follow_reply(request: Request) -> Response:
    """The citizen's answer to the staff question (waiting_citizen -> back to the staff)."""
    guarded = await _guarded(request)
    if isinstance(guarded, Response):
        return guarded
    form, reference, code = guarded
    answer = str(form.get("answer") or "")[:MAX_ANSWER_KEPT]
    if form.get("cut"):
        answer = answer.strip()[:MAX_ANSWER]
    too_fast = check_form(request, form) is StampCheck.too_fast

    def act(session: Session, case: Case, citizen: Citizen, now: datetime) -> Opened | None:
        if case.status != CaseStatus.waiting_citizen:
            return Opened(problem=("follow.not_waiting", {}))
        if too_fast:
            return Opened(problem=("form.too_fast", {}))
        problem = _answer_problem(answer)
        if problem is not None:
            return Opened(problem=problem)
        try:
            citizen_reply(session, citizen, case, answer, now=now)
        except DomainError:
            return Opened(problem=("follow.not_waiting", {}))
        return Opened(done="reply")

    opened = await _open(request, reference, code, act)
    if opened.view is None:
        return _refused(request, opened)
    if opened.done:
        return RedirectResponse(_link(opened.view.reference, opened.view.code, opened.done), 303)
    return _case_page(
        request, opened.view, status_code=400, problem=opened.problem, answer=answer, form="reply"
    )


@router.post("/lacak/nilai")
async def follow_rate(request: Request) -> Response:
    """Puas / tidak puas on a resolved case: not satisfied reopens it once within the
    window, else closes it with the reason kept."""
    guarded = await _guarded(request)
    if isinstance(guarded, Response):
        return guarded
    form, reference, code = guarded
    satisfied = str(form.get("satisfied") or "")
    reason = str(form.get("reason") or "")[:MAX_ANSWER_KEPT]
    if form.get("cut"):
        reason = reason.strip()[:MAX_ANSWER]
    too_fast = check_form(request, form) is StampCheck.too_fast
    policy = policies_of(request).cases

    def act(session: Session, case: Case, citizen: Citizen, now: datetime) -> Opened | None:
        if case.status != CaseStatus.resolved:
            return Opened(problem=("follow.not_resolved", {}))
        if satisfied not in ("y", "n"):
            return Opened(problem=("follow.choose_rating", {}))
        if too_fast:
            return Opened(problem=("form.too_fast", {}))
        if satisfied == "n":
            problem = _answer_problem(reason)
            if problem is not None:
                return Opened(problem=problem)
        try:
            citizen_rate(session, citizen, case, policy, satisfied == "y", reason or None, now=now)
        except DomainError:
            return Opened(problem=("follow.not_resolved", {}))
        if satisfied == "y":
            return Opened(done="satisfied")
        reopened = case.status == CaseStatus.in_progress
        return Opened(done="reopened" if reopened else "closed_unsatisfied")

    opened = await _open(request, reference, code, act)
    if opened.view is None:
        return _refused(request, opened)
    if opened.done:
        return RedirectResponse(_link(opened.view.reference, opened.view.code, opened.done), 303)
    return _case_page(
        request, opened.view, status_code=400, problem=opened.problem, reason=reason, form="rate"
    )


@router.post("/lacak/hapus")
async def follow_erase(request: Request) -> Response:
    """Erase my data: first what it does (the bot's words), then, confirmed, erasure of the
    report's citizen; the link and the code stop working."""
    guarded = await _guarded(request)
    if isinstance(guarded, Response):
        return guarded
    form, reference, code = guarded
    confirmed = form.get("confirm") == "yes"
    too_fast = check_form(request, form) is StampCheck.too_fast

    def act(session: Session, case: Case, citizen: Citizen, now: datetime) -> Opened | None:
        if not confirmed or too_fast:
            return None
        erase_citizen(session, citizen)
        return Opened(erased=True)

    opened = await _open(request, reference, code, act)
    if opened.erased:
        return render(request, "follow_erased.html")
    if opened.view is None:
        return _refused(request, opened)
    lang = lang_of(request)
    refs = opened.view.open_reports
    return render(
        request,
        "follow_erase.html",
        case=opened.view,
        confirm_text=web_t(lang, "web.privacy.erase_confirm"),
        open_text=(
            bot_t(lang, "privacy.erase_open_reports", count=len(refs), refs=", ".join(refs))
            if refs
            else None
        ),
        yes=bot_t(lang, "privacy.erase_yes"),
        no=bot_t(lang, "privacy.erase_no"),
        problem=_t(request, "form.too_fast") if confirmed and too_fast else None,
        back=_link(opened.view.reference, opened.view.code),
    )


@router.get("/lacak/jawab")
@router.get("/lacak/nilai")
@router.get("/lacak/hapus")
async def follow_action_get(request: Request) -> Response:
    """An action's address opened as a page (the language switch on a page it answered, a
    bookmark): the form, in the language asked for."""
    asked = request.query_params.get("lang")
    target = f"/lacak?lang={asked}" if asked in ("id", "en") else "/lacak"
    return RedirectResponse(target, status_code=303)


@router.get("/lacak/{reference}")
async def follow_form_for(request: Request, reference: str) -> Response:
    """The form with the reference filled in: the link in a case's e-mails."""
    return render(request, "follow_form.html", reference=reference[:MAX_REFERENCE_FIELD], code="")


# The privacy notice ---------------------------------------------------------------------------


@router.get("/privasi")
async def privacy(request: Request) -> Response:
    settings = policies_of(request).settings
    lang = lang_of(request)
    return render(
        request,
        "privacy.html",
        notice=web_t(lang, "web.consent.notice", area=settings.area_name),
        outbox_days=settings.outbox_retention_days,
        raw_days=INBOUND_RETENTION.days,
        contact=settings.smtp_from or None,
    )
