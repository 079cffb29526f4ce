"""Rate a service on the web: the bot's SKM survey (conversations/survey.py) as pages.

`/nilai` lists the active units (a GET search by name); `/nilai/{code}` is where a unit's
page and a counter's QR code lead: `code` is a unit's code or a QR payload the bot takes
(`u_<unit>`, `s_<service id>`, `o_<officer code>`, core.masterdata.deeplinks), so the unit,
service and officer are chosen as in the bot. Then, as in the bot: the service (or
"other / skip") and the officer (or "don't know") when the QR did not name them, the nine
SKM questions with the bot's words, and the optional comment and respondent profile.

No state is kept between pages: each page carries the earlier answers in hidden fields, and
every step is one GET (its page) and one POST. The one-rating-a-day rule counts per device
(the long-lived cookie): checked before the questions are shown and when the answers are
stored. Like the bot, the survey asks no consent: the citizen's consent covers what names or
reaches them, and a survey response holds neither (its profile is statistics).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from conversations.i18n import t as bot_t
from core.masterdata.deeplinks import PAYLOAD_RE, Preselection, resolve_payload
from core.masterdata.models import Officer, Service, Unit
from core.masterdata.service import (
    active_officers,
    active_services,
    offered_officer,
    offered_service,
    offered_unit,
)
from core.people.models import Intake
from core.shared.errors import InvalidInput
from core.surveys.skm import ELEMENT_COUNT
from core.surveys.submission import (
    MAX_COMMENT_LENGTH,
    PROFILE_CHOICES,
    AlreadyAnsweredToday,
    SurveyDraft,
    device_answered_today,
    submit_survey,
)
from web.i18n import t as web_t
from web.pages import (
    StampCheck,
    bad_form,
    check_form,
    device_token,
    error_page,
    form_of,
    lang_of,
    may_post,
    policies_of,
    read,
    render,
    write,
)

router = APIRouter()

MAX_SERVICES_SHOWN = 20  # as the bot (conversations/survey.py)
MAX_SEARCH = 100
MAX_COMMENT_KEPT = 4096  # a too long comment kept to cut, as the bot keeps it
UNIT_CODE_RE = re.compile(r"[a-z][a-z0-9-]{0,39}")
QUESTIONS = tuple(range(1, ELEMENT_COUNT + 1))
ANSWERS = (1, 2, 3, 4)
PROFILE_FIELDS = tuple(PROFILE_CHOICES)


# What a link or QR code names ------------------------------------------------------------


def preselection(session: Session, code: str) -> Preselection | None:
    """What `/nilai/{code}` (or `/lapor/{code}`) names: a unit by its code, or the bot's QR
    payload; None for an unknown or inactive one."""
    if "_" in code:
        return resolve_payload(session, code)
    if not UNIT_CODE_RE.fullmatch(code):
        return None
    unit = session.exec(select(Unit).where(Unit.code == code)).first()
    if unit is None or unit.id is None or offered_unit(session, unit.id) is None:
        return None
    return Preselection(unit_id=unit.id)


def search_units(session: Session, query: str) -> list[Unit]:
    """The active units whose name or code holds every word of `query`, by name."""
    units = session.exec(
        select(Unit).where(Unit.active == True).order_by(col(Unit.name))  # noqa: E712
    ).all()
    words = query.casefold().split()
    return [u for u in units if all(w in f"{u.name} {u.code}".casefold() for w in words)]


async def unit_list(request: Request, q: str, *, base: str, title: str, lead: str) -> Response:
    """The page of units to choose from (the survey's and the report's), searchable."""
    query = " ".join(q.split())[:MAX_SEARCH]
    units = await read(request, lambda s: search_units(s, query))
    return render(
        request, "survey_units.html", units=units, query=query, base=base, title=title, lead=lead
    )


@dataclass
class Target:
    """What the survey rates: the unit, and what the link chose and the citizen may choose."""

    code: str
    unit: Unit
    services: Sequence[Service]
    has_officers: bool
    pre_service: Service | None = None
    pre_officer: Officer | None = None
    officer_named: bool = False  # the QR named an officer: no list to choose from
    officers: Sequence[Officer] = field(default_factory=list)

    @property
    def chooses_service(self) -> bool:
        return self.pre_service is None and bool(self.services)

    @property
    def chooses_officer(self) -> bool:
        return not self.officer_named and self.has_officers

    @property
    def asks_first(self) -> bool:
        return self.chooses_service or self.chooses_officer


def load_target(session: Session, code: str, *, with_officers: bool = False) -> Target | None:
    pre = preselection(session, code)
    if pre is None:
        return None
    unit = offered_unit(session, pre.unit_id)
    if unit is None:
        return None
    service = offered_service(session, pre.unit_id, pre.service_id) if pre.service_id else None
    officer = offered_officer(session, pre.unit_id, pre.officer_id) if pre.officer_id else None
    officers = active_officers(session, pre.unit_id) if with_officers else []
    return Target(
        code=code,
        unit=unit,
        services=active_services(session, pre.unit_id, limit=MAX_SERVICES_SHOWN),
        has_officers=bool(officers) or bool(active_officers(session, pre.unit_id, limit=1)),
        pre_service=service,
        pre_officer=officer,
        officer_named=pre.officer_id is not None,
        officers=officers,
    )


# The answers carried from page to page ---------------------------------------------------


@dataclass
class Answers:
    service_id: int | None = None
    officer_id: int | None = None
    service_name: str | None = None
    officer_name: str | None = None
    answers: dict[int, int] = field(default_factory=dict)
    comment: str = ""
    profile: dict[str, str] = field(default_factory=dict)

    def hidden(self) -> list[tuple[str, str]]:
        """The hidden fields that carry these answers to the next page."""
        fields = [("service", str(self.service_id or 0)), ("officer", str(self.officer_id or 0))]
        fields += [(f"a{n}", str(v)) for n, v in sorted(self.answers.items())]
        return fields


def _id(form: Mapping[str, Any], name: str) -> int | None:
    """A posted id: None for none ("0" or empty); ValueError when it cannot be one."""
    text = str(form.get(name) or "0")
    if not text.isdigit() or len(text) > 9:
        raise ValueError(f"{name} is no id")
    return int(text) or None


def _chosen(session: Session, target: Target, form: Mapping[str, Any]) -> Answers | None:
    """The service and officer the form carries, if the citizen may choose them for the unit
    (a QR's service and officer stay what it named); None when they may not."""
    assert target.unit.id is not None
    try:
        service_id, officer_id = _id(form, "service"), _id(form, "officer")
    except ValueError:
        return None
    answers = Answers()
    if target.pre_service is not None:
        service_id = target.pre_service.id
    if service_id:
        service = offered_service(session, target.unit.id, service_id)
        if service is None:
            return None
        answers.service_id, answers.service_name = service.id, service.name
    if target.officer_named:
        officer_id = target.pre_officer.id if target.pre_officer else None
    if officer_id:
        officer = offered_officer(session, target.unit.id, officer_id)
        if officer is None:
            return None
        answers.officer_id, answers.officer_name = officer.id, officer.name
    return answers


def _answers(form: Mapping[str, Any]) -> tuple[dict[int, int], list[int]]:
    """The answers given (question number: 1-4) and the questions left unanswered."""
    given: dict[int, int] = {}
    for n in QUESTIONS:
        value = str(form.get(f"a{n}") or "")
        if value in ("1", "2", "3", "4"):
            given[n] = int(value)
    return given, [n for n in QUESTIONS if n not in given]


def _profile(form: Mapping[str, Any]) -> dict[str, str] | None:
    """The profile answers chosen (each optional); None for a value no list offers."""
    chosen: dict[str, str] = {}
    for name in PROFILE_FIELDS:
        value = str(form.get(name) or "")
        if not value:
            continue
        if value not in PROFILE_CHOICES[name]:
            return None
        chosen[name] = value
    return chosen


# Pages ------------------------------------------------------------------------------------


def _base(target: Target) -> str:
    return f"/nilai/{target.code}"


def _page(
    request: Request,
    template: str,
    target: Target,
    answers: Answers,
    *,
    status_code: int = 200,
    notice: str | None = None,
    **context: Any,
) -> Response:
    lang = lang_of(request)

    def bt(key: str, **params: object) -> str:
        return bot_t(lang, key, **params)

    return render(
        request,
        template,
        status_code=status_code,
        bt=bt,
        target=target,
        chosen=answers,
        base=_base(target),
        notice=notice,
        questions=QUESTIONS,
        answer_values=ANSWERS,
        profile_fields=PROFILE_FIELDS,
        profile_choices=PROFILE_CHOICES,
        max_comment=MAX_COMMENT_LENGTH,
        **context,
    )


def _stamp_notice(request: Request, check: StampCheck) -> str:
    return web_t(lang_of(request), "form.too_fast")


def _already(request: Request, target: Target, answers: Answers) -> Response:
    return _page(request, "survey_already.html", target, answers, status_code=409)


def _unknown(request: Request) -> Response:
    return error_page(request, 404, "survey.unknown")


def _changed(request: Request) -> Response:
    return error_page(request, 409, "survey.changed")


def _answered_today(request: Request, session: Session, target: Target, answers: Answers) -> bool:
    policies = policies_of(request)
    assert target.unit.id is not None
    return device_answered_today(
        session,
        device_token(request),
        policies.settings.pseudonym_key,
        target.unit.id,
        answers.service_id,
        policies.settings.tz,
        now=policies.now(),
    )


@router.get("/nilai")
async def units(request: Request, q: Annotated[str, Query(max_length=500)] = "") -> Response:
    lang = lang_of(request)
    title, lead = web_t(lang, "survey.title"), web_t(lang, "survey.units_lead")
    return await unit_list(request, q, base="/nilai", title=title, lead=lead)


@router.get("/nilai/{code}")
async def start(request: Request, code: str) -> Response:
    """The survey of what the link names: the service and officer to choose, or (nothing to
    choose) the questions, unless the device rated this unit and service today."""

    def look(session: Session) -> tuple[Target, Answers, bool] | None:
        target = load_target(session, code, with_officers=True)
        if target is None:
            return None
        answers = Answers()
        if target.pre_service is not None:
            answers.service_id, answers.service_name = (
                target.pre_service.id,
                target.pre_service.name,
            )
        if target.pre_officer is not None:
            answers.officer_id, answers.officer_name = (
                target.pre_officer.id,
                target.pre_officer.name,
            )
        done = not target.chooses_service and _answered_today(request, session, target, answers)
        return target, answers, done

    found = await read(request, look)
    if found is None:
        return _unknown(request)
    target, answers, done = found
    if done:
        return _already(request, target, answers)
    if target.asks_first:
        return _page(request, "survey_choose.html", target, answers)
    return _page(request, "survey_questions.html", target, answers)


async def _posted(
    request: Request, code: str, *, with_officers: bool = False
) -> tuple[Target, Answers, Any, StampCheck] | Response:
    """A step's post, checked: the flood cap, the unit, what it carries, the form's stamp."""
    if not may_post(request):
        return error_page(request, 429, "error.429")
    form = await form_of(request)
    check = check_form(request, form)
    if check is StampCheck.bad:
        return bad_form(request)

    def look(session: Session) -> tuple[Target, Answers | None] | None:
        target = load_target(session, code, with_officers=with_officers)
        if target is None:
            return None
        return target, _chosen(session, target, form)

    found = await read(request, look)
    if found is None:
        return _unknown(request)
    target, answers = found
    if answers is None:
        return _changed(request)
    return target, answers, form, check


@router.post("/nilai/{code}")
async def choose(request: Request, code: str) -> Response:
    """The service and officer chosen: the questions (or: already rated today)."""
    posted = await _posted(request, code, with_officers=True)
    if isinstance(posted, Response):
        return posted
    target, answers, _, check = posted
    if check is StampCheck.too_fast:
        notice = _stamp_notice(request, check)
        return _page(request, "survey_choose.html", target, answers, notice=notice)
    if await read(request, lambda s: _answered_today(request, s, target, answers)):
        return _already(request, target, answers)
    return _page(request, "survey_questions.html", target, answers)


@router.post("/nilai/{code}/pertanyaan")
async def questions(request: Request, code: str) -> Response:
    """The nine answers: all given, the comment and profile page; else the questions again
    with the answers given kept and the missing ones named."""
    posted = await _posted(request, code)
    if isinstance(posted, Response):
        return posted
    target, answers, form, check = posted
    answers.answers, missing = _answers(form)
    if check is StampCheck.too_fast:
        notice = _stamp_notice(request, check)
        return _page(request, "survey_questions.html", target, answers, notice=notice)
    if missing:
        return _page(
            request, "survey_questions.html", target, answers, status_code=400, missing=missing
        )
    return _page(request, "survey_profile.html", target, answers)


@router.post("/nilai/{code}/kirim")
async def send(request: Request, code: str) -> Response:
    """The comment and profile, and the whole response stored: the thanks page."""
    posted = await _posted(request, code)
    if isinstance(posted, Response):
        return posted
    target, answers, form, check = posted
    answers.answers, missing = _answers(form)
    profile = _profile(form)
    if missing or profile is None:
        return _changed(request)
    answers.profile = profile
    typed = str(form.get("comment") or "").strip()
    answers.comment = typed[:MAX_COMMENT_KEPT]
    if check is StampCheck.too_fast:
        notice = _stamp_notice(request, check)
        return _page(request, "survey_profile.html", target, answers, notice=notice)
    if len(typed) > MAX_COMMENT_LENGTH:
        return _page(
            request,
            "survey_profile.html",
            target,
            answers,
            status_code=400,
            comment_error=(len(typed), len(typed) - MAX_COMMENT_LENGTH),
        )
    policies = policies_of(request)
    assert target.unit.id is not None
    draft = SurveyDraft(
        unit_id=target.unit.id,
        service_id=answers.service_id,
        officer_id=answers.officer_id,
        answers=tuple(answers.answers[n] for n in QUESTIONS),
        comment=typed or None,
        channel=Intake.web,
        **profile,
    )

    def store(session: Session) -> str:
        try:
            submit_survey(
                session,
                draft,
                citizen_id=None,
                tz=policies.settings.tz,
                pseudonym_key=policies.settings.pseudonym_key,
                device_token=device_token(request),
                now=policies.now(),
            )
        except AlreadyAnsweredToday:
            return "already"
        except InvalidInput:
            return "changed"
        return "ok"

    outcome = await write(request, store)
    if outcome == "already":
        return _already(request, target, answers)
    if outcome == "changed":
        return _changed(request)
    return RedirectResponse(f"{_base(target)}/terima-kasih", status_code=303)


@router.get("/nilai/{code}/terima-kasih")
async def thanks(request: Request, code: str) -> Response:
    target = await read(request, lambda s: load_target(s, code))
    if target is None:
        return _unknown(request)
    return _page(request, "survey_done.html", target, Answers())


@router.get("/nilai/{code}/pertanyaan")
@router.get("/nilai/{code}/kirim")
async def step_again(code: str) -> Response:
    """A step's address opened again (the browser's history): the survey from its start."""
    if not (PAYLOAD_RE.fullmatch(code) or UNIT_CODE_RE.fullmatch(code)):
        code = ""
    return RedirectResponse(f"/nilai/{code}" if code else "/nilai", status_code=303)
