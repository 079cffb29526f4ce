"""The bot's conversation as a state machine over the database.

One inbound event (a command, text, button press or anything else) is handled inside one
database transaction: the update id is claimed (Telegram may deliver twice), the citizen and
their saved step are loaded, the step advances, the new step is saved, and the screens to
show are returned. The Telegram adapter only translates updates in and screens out, so a
process killed between two steps loses nothing: the next message resumes at the saved step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.i18n import LANGUAGES, t
from core.citizens import erase_citizen, get_or_create_citizen, give_consent, set_language
from core.conversations import ChatState, claim_update, load_state, save_state
from core.deeplinks import Preselection, resolve_payload
from core.errors import InvalidInput
from core.models import Citizen, Language, Officer, Service, Unit
from core.skm import ELEMENT_COUNT
from core.surveys import (
    MAX_COMMENT_LENGTH,
    PROFILE_CHOICES,
    AlreadyAnsweredToday,
    SurveyDraft,
    has_answered_today,
    submit_survey,
)

PAGE_SIZE = 8
MAX_SERVICES_SHOWN = 20
PROFILE_FIELDS = tuple(PROFILE_CHOICES)
SURVEY_STEPS = frozenset(
    {"svy_unit", "svy_service", "svy_officer", "svy_q", "svy_comment", "svy_profile"}
)
ONBOARDING_STEPS = frozenset({"lang", "consent"})
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}

Button = tuple[str, str]  # label, callback data


@dataclass(frozen=True)
class Inbound:
    update_id: int
    chat_id: int
    user_id: int
    kind: Literal["command", "text", "callback", "other"]
    command: str = ""
    args: str = ""
    text: str = ""
    data: str = ""


@dataclass
class Screen:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)


@dataclass
class Outcome:
    screens: list[Screen] = field(default_factory=list)
    edit_first: bool = False  # the first screen replaces the message whose button was pressed
    toast: str | None = None
    duplicate: bool = False


@dataclass(frozen=True)
class FlowConfig:
    tz: ZoneInfo
    area_name: str


@dataclass
class Ctx:
    session: Session
    cfg: FlowConfig
    citizen: Citizen
    st: ChatState
    erased: bool = False

    @property
    def lang(self) -> str:
        return self.citizen.language

    def tr(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)


def handle(session: Session, cfg: FlowConfig, ev: Inbound) -> Outcome:
    if not claim_update(session, ev.update_id):
        return Outcome(duplicate=True)
    citizen = get_or_create_citizen(session, ev.user_id)
    ctx = Ctx(session=session, cfg=cfg, citizen=citizen, st=load_state(session, ev.chat_id))
    if ctx.citizen.consent_at is None and ctx.st.step not in ONBOARDING_STEPS:
        ctx.st.step = "lang"
    if ev.kind == "command":
        out = _on_command(ctx, ev.command, ev.args)
    elif ev.kind == "callback":
        out = _on_callback(ctx, ev.data)
    elif ev.kind == "text":
        out = _on_text(ctx, ev.text)
    else:
        out = Outcome(screens=[_with_hint(ctx, "hint.unsupported")])
    if not ctx.erased:
        save_state(session, ctx.st)
    return out


# Commands ---------------------------------------------------------------------------------


def _on_command(ctx: Ctx, command: str, args: str) -> Outcome:
    st = ctx.st
    if command == "start":
        return _start(ctx, args.strip())
    if command == "cancel":
        if st.step in SURVEY_STEPS:
            _to_menu(ctx)
            return Outcome(screens=[_menu_screen(ctx, prefix=ctx.tr("cancel.done"))])
        if st.step in ONBOARDING_STEPS:
            return Outcome(screens=[render(ctx)])
        return Outcome(screens=[_menu_screen(ctx, prefix=ctx.tr("cancel.nothing"))])
    if command == "help":
        return Outcome(screens=[Screen(ctx.tr("help.text")), render(ctx)])
    if command == "language":
        if st.step not in ONBOARDING_STEPS:
            st.data["resume"] = st.step
        st.step = "lang"
        return Outcome(screens=[render(ctx)])
    if command == "privacy" and st.step in SURVEY_STEPS:
        return Outcome(screens=[_privacy_screen(ctx), render(ctx)])
    if command == "privacy" and st.step not in ONBOARDING_STEPS:
        st.step = "privacy"
        return Outcome(screens=[render(ctx)])
    return Outcome(screens=[_with_hint(ctx, "hint.unknown_command")])


def _start(ctx: Ctx, payload: str) -> Outcome:
    st = ctx.st
    notice = None
    pre: Preselection | None = None
    if payload:
        pre = resolve_payload(ctx.session, payload)
        if pre is None:
            notice = ctx.tr("deeplink.unknown")
    if st.step in ONBOARDING_STEPS:
        if pre is not None:
            st.data["pre"] = [pre.unit_id, pre.service_id, pre.officer_id]
        screen = render(ctx)
        return Outcome(screens=[_prefixed(screen, notice)])
    if pre is not None:
        return Outcome(screens=[_start_survey(ctx, pre)])
    if st.step in SURVEY_STEPS and not payload:
        return Outcome(screens=[_with_hint(ctx, "hint.in_progress")])
    _to_menu(ctx)
    return Outcome(screens=[_menu_screen(ctx, prefix=notice)])


# Text and other input ---------------------------------------------------------------------


def _on_text(ctx: Ctx, text: str) -> Outcome:
    st = ctx.st
    if st.step == "svy_comment":
        comment = text.strip()
        if len(comment) > MAX_COMMENT_LENGTH:
            hint = ctx.tr("svy.comment.too_long", length=len(comment), max=MAX_COMMENT_LENGTH)
            return Outcome(screens=[_prefixed(render(ctx), hint)])
        st.data["comment"] = comment or None
        _push_and_go(ctx, "svy_profile", pf=0)
        return Outcome(screens=[_prefixed(render(ctx), ctx.tr("svy.comment.saved"))])
    if st.step == "menu":
        return Outcome(screens=[_menu_screen(ctx)])
    key = "consent.required" if st.step == "consent" else "hint.use_buttons"
    return Outcome(screens=[_with_hint(ctx, key)])


# Buttons ----------------------------------------------------------------------------------

_CALLBACK_RE = re.compile(r"^[a-z]{1,8}(:[A-Za-z0-9_-]{1,20}){1,3}$")


def _on_callback(ctx: Ctx, data: str) -> Outcome:
    out = _route_callback(ctx, data) if _CALLBACK_RE.match(data) else None
    if out is None:
        screen = _prefixed(render(ctx), ctx.tr("hint.stale_button"))
        return Outcome(screens=[screen], toast=ctx.tr("hint.stale_toast"))
    return out


def _route_callback(ctx: Ctx, data: str) -> Outcome | None:
    parts = data.split(":")
    head, step = parts[0], ctx.st.step
    if head == "lang" and step == "lang" and parts[1] in LANGUAGES:
        return _choose_language(ctx, parts[1])
    if head == "consent" and step == "consent" and parts[1] == "yes":
        give_consent(ctx.session, ctx.citizen)
        return _after_onboarding(ctx)
    if head == "m" and step == "menu":
        return _on_menu(ctx, parts[1])
    if head == "pv" and step in ("privacy", "erase_confirm"):
        return _on_privacy(ctx, parts[1])
    if head == "svy" and step in SURVEY_STEPS:
        return _on_survey_button(ctx, parts[1:])
    return None


def _choose_language(ctx: Ctx, lang: str) -> Outcome:
    set_language(ctx.session, ctx.citizen, Language(lang))
    confirmed = ctx.tr("lang.set")
    if ctx.citizen.consent_at is None:
        ctx.st.step = "consent"
        return Outcome(screens=[_prefixed(render(ctx), confirmed)], edit_first=True)
    resume = ctx.st.data.pop("resume", "menu")
    ctx.st.step = resume if resume in SURVEY_STEPS or resume == "menu" else "menu"
    return Outcome(screens=[_prefixed(render(ctx), confirmed)], edit_first=True)


def _after_onboarding(ctx: Ctx) -> Outcome:
    pre = ctx.st.data.pop("pre", None)
    if isinstance(pre, list) and len(pre) == 3:
        unit_id, service_id, officer_id = pre
        return Outcome(
            screens=[_start_survey(ctx, Preselection(unit_id, service_id, officer_id))],
            edit_first=True,
        )
    _to_menu(ctx)
    return Outcome(screens=[_menu_screen(ctx)], edit_first=True)


def _on_menu(ctx: Ctx, item: str) -> Outcome | None:
    if item == "rate":
        return Outcome(screens=[_start_survey(ctx, None)], edit_first=True)
    if item in ("report", "mine"):
        return Outcome(screens=[_menu_screen(ctx, prefix=ctx.tr("menu.soon"))], edit_first=True)
    if item == "lang":
        ctx.st.data["resume"] = "menu"
        ctx.st.step = "lang"
        return Outcome(screens=[render(ctx)], edit_first=True)
    if item == "privacy":
        ctx.st.step = "privacy"
        return _edit(render(ctx))
    return None


def _on_privacy(ctx: Ctx, action: str) -> Outcome | None:
    step = ctx.st.step
    if step == "privacy" and action == "erase":
        ctx.st.step = "erase_confirm"
        return _edit(render(ctx))
    if step == "erase_confirm" and action == "yes":
        farewell = Screen(ctx.tr("privacy.erased"))
        erase_citizen(ctx.session, ctx.citizen)
        ctx.erased = True
        return _edit(farewell)
    if action in ("back", "no"):
        _to_menu(ctx)
        return _edit(_menu_screen(ctx))
    return None


# The survey -------------------------------------------------------------------------------


def _start_survey(ctx: Ctx, pre: Preselection | None) -> Screen:
    st = ctx.st
    st.data = {"answers": [0] * ELEMENT_COUNT, "back": [], "page": 0}
    if pre is None:
        st.step = "svy_unit"
        return render(ctx)
    unit = ctx.session.get(Unit, pre.unit_id)
    if unit is None or not unit.active:
        _to_menu(ctx)
        return _menu_screen(ctx, prefix=ctx.tr("deeplink.unknown"))
    st.data.update(unit_id=pre.unit_id, service_id=pre.service_id, officer_id=pre.officer_id)
    st.data["pre_officer"] = pre.officer_id is not None
    if pre.service_id is not None:
        return _after_service(ctx)
    return _after_unit(ctx)


def _on_survey_button(ctx: Ctx, parts: Sequence[str]) -> Outcome | None:
    st, action = ctx.st, parts[0]
    args = parts[1:]
    if action == "back" and not args and st.data.get("back"):
        _go_back(ctx)
        return _edit(render(ctx))
    if action in ("pg", "opg") and len(args) == 1 and args[0].isdigit():
        expected = "svy_unit" if action == "pg" else "svy_officer"
        if st.step != expected:
            return None
        st.data["page"] = int(args[0])
        return _edit(render(ctx))
    if len(args) == 1 and args[0].isdigit():
        value = int(args[0])
        if action == "u" and st.step == "svy_unit":
            return _choose_unit(ctx, value)
        if action == "s" and st.step == "svy_service":
            return _choose_service(ctx, value)
        if action == "o" and st.step == "svy_officer":
            return _choose_officer(ctx, value)
    if action == "a" and st.step == "svy_q" and len(args) == 2:
        return _answer(ctx, args)
    if action == "c" and args == ["skip"] and st.step == "svy_comment":
        st.data["comment"] = None
        _push_and_go(ctx, "svy_profile", pf=0)
        return _edit(render(ctx))
    if action == "p" and st.step == "svy_profile":
        return _profile(ctx, args)
    return None


def _edit(screen: Screen) -> Outcome:
    return Outcome(screens=[screen], edit_first=True)


def _choose_unit(ctx: Ctx, unit_id: int) -> Outcome | None:
    unit = ctx.session.get(Unit, unit_id)
    if unit is None or not unit.active:
        return None
    ctx.st.data.update(unit_id=unit_id, service_id=None, officer_id=None, pre_officer=False)
    return _edit(_after_unit(ctx))


def _after_unit(ctx: Ctx) -> Screen:
    if _services(ctx):
        _push_and_go(ctx, "svy_service")
        return render(ctx)
    ctx.st.data["service_id"] = None
    return _after_service(ctx)


def _choose_service(ctx: Ctx, service_id: int) -> Outcome | None:
    if service_id:
        service = ctx.session.get(Service, service_id)
        if service is None or service.unit_id != ctx.st.data.get("unit_id") or not service.active:
            return None
    ctx.st.data["service_id"] = service_id or None
    return _edit(_after_service(ctx))


def _after_service(ctx: Ctx) -> Screen:
    data = ctx.st.data
    assert ctx.citizen.id is not None
    if has_answered_today(
        ctx.session, ctx.citizen.id, data["unit_id"], data.get("service_id"), ctx.cfg.tz
    ):
        _to_menu(ctx)
        return _menu_screen(ctx, prefix=ctx.tr("svy.already_today"))
    if not data.get("pre_officer") and _officers(ctx, 0, 1):
        data["page"] = 0
        _push_and_go(ctx, "svy_officer")
    else:
        _push_and_go(ctx, "svy_q", qi=0)
    return render(ctx)


def _choose_officer(ctx: Ctx, officer_id: int) -> Outcome | None:
    if officer_id:
        officer = ctx.session.get(Officer, officer_id)
        if officer is None or officer.unit_id != ctx.st.data.get("unit_id") or not officer.active:
            return None
    ctx.st.data["officer_id"] = officer_id or None
    _push_and_go(ctx, "svy_q", qi=0)
    return _edit(render(ctx))


def _answer(ctx: Ctx, args: Sequence[str]) -> Outcome | None:
    data = ctx.st.data
    if not (args[0].isdigit() and args[1] in ("1", "2", "3", "4")):
        return None
    qi = int(args[0])
    if qi != data.get("qi"):
        return None
    data["answers"][qi] = int(args[1])
    if qi + 1 < ELEMENT_COUNT:
        _push_and_go(ctx, "svy_q", qi=qi + 1)
    else:
        _push_and_go(ctx, "svy_comment")
    return _edit(render(ctx))


def _profile(ctx: Ctx, args: Sequence[str]) -> Outcome | None:
    data = ctx.st.data
    if args == ["skip"]:
        for name in PROFILE_FIELDS:
            data.pop(name, None)
        return _submit(ctx)
    if len(args) != 2 or not (args[0].isdigit() and args[1].isdigit()):
        return None
    pf, choice = int(args[0]), int(args[1])
    if pf != data.get("pf") or pf >= len(PROFILE_FIELDS):
        return None
    name = PROFILE_FIELDS[pf]
    if choice >= len(PROFILE_CHOICES[name]):
        return None
    data[name] = PROFILE_CHOICES[name][choice]
    if pf + 1 < len(PROFILE_FIELDS):
        _push_and_go(ctx, "svy_profile", pf=pf + 1)
        return _edit(render(ctx))
    return _submit(ctx)


def _submit(ctx: Ctx) -> Outcome:
    data = ctx.st.data
    unit = ctx.session.get(Unit, data["unit_id"])
    draft = SurveyDraft(
        unit_id=data["unit_id"],
        service_id=data.get("service_id"),
        officer_id=data.get("officer_id"),
        answers=tuple(data["answers"]),
        comment=data.get("comment"),
        sex=data.get("sex"),
        age_band=data.get("age_band"),
        education=data.get("education"),
        occupation=data.get("occupation"),
    )
    try:
        submit_survey(ctx.session, draft, citizen_id=ctx.citizen.id, tz=ctx.cfg.tz)
    except AlreadyAnsweredToday:
        _to_menu(ctx)
        return _edit(_menu_screen(ctx, prefix=ctx.tr("svy.already_today")))
    except InvalidInput:
        _to_menu(ctx)
        return _edit(_menu_screen(ctx, prefix=ctx.tr("svy.changed")))
    _to_menu(ctx)
    thanks = Screen(ctx.tr("svy.thanks", unit=unit.name if unit else ""))
    return Outcome(screens=[thanks, _menu_screen(ctx)], edit_first=True)


# Step bookkeeping -------------------------------------------------------------------------


def _push_and_go(ctx: Ctx, step: str, *, qi: int | None = None, pf: int | None = None) -> None:
    st = ctx.st
    if st.step in SURVEY_STEPS:
        st.data.setdefault("back", []).append([st.step, st.data.get("qi"), st.data.get("pf")])
    st.step = step
    st.data["qi"] = qi
    st.data["pf"] = pf


def _go_back(ctx: Ctx) -> None:
    step, qi, pf = ctx.st.data["back"].pop()
    ctx.st.step = step
    ctx.st.data["qi"] = qi
    ctx.st.data["pf"] = pf


def _to_menu(ctx: Ctx) -> None:
    ctx.st.step = "menu"
    ctx.st.data = {}


# Rendering --------------------------------------------------------------------------------


def render(ctx: Ctx) -> Screen:
    """The screen of the current step, from the saved state alone."""
    step = ctx.st.step
    if step == "lang":
        return Screen(
            t("id", "lang.prompt") if ctx.lang == "id" else t("en", "lang.prompt"),
            [[(LANGUAGE_NAMES["id"], "lang:id"), (LANGUAGE_NAMES["en"], "lang:en")]],
        )
    if step == "consent":
        return Screen(
            ctx.tr("consent.notice", area=ctx.cfg.area_name),
            [[(ctx.tr("consent.accept"), "consent:yes")]],
        )
    if step == "privacy":
        screen = _privacy_screen(ctx)
        screen.buttons = [
            [(ctx.tr("privacy.erase"), "pv:erase")],
            [(ctx.tr("nav.back"), "pv:back")],
        ]
        return screen
    if step == "erase_confirm":
        return Screen(
            ctx.tr("privacy.erase_confirm"),
            [[(ctx.tr("privacy.erase_yes"), "pv:yes")], [(ctx.tr("privacy.erase_no"), "pv:no")]],
        )
    renderer = _SURVEY_RENDERERS.get(step)
    if renderer is not None:
        return renderer(ctx)
    return _menu_screen(ctx)


def _menu_screen(ctx: Ctx, prefix: str | None = None) -> Screen:
    buttons = [
        [(ctx.tr("menu.rate"), "m:rate")],
        [(ctx.tr("menu.report"), "m:report")],
        [(ctx.tr("menu.mine"), "m:mine")],
        [(ctx.tr("menu.language"), "m:lang"), (ctx.tr("menu.privacy"), "m:privacy")],
    ]
    return _prefixed(Screen(ctx.tr("menu.title"), buttons), prefix)


def _privacy_screen(ctx: Ctx) -> Screen:
    consent_at = ctx.citizen.consent_at
    if consent_at is None:
        consent = ctx.tr("consent.none")
    else:
        local = consent_at.astimezone(ctx.cfg.tz)
        consent = ctx.tr("consent.given", time=local.strftime("%Y-%m-%d %H:%M"))
    return Screen(ctx.tr("privacy.text", consent=consent))


def _prefixed(screen: Screen, prefix: str | None) -> Screen:
    if prefix:
        screen.text = f"{prefix}\n\n{screen.text}"
    return screen


def _with_hint(ctx: Ctx, key: str) -> Screen:
    return _prefixed(render(ctx), ctx.tr(key))


def _back_row(ctx: Ctx) -> list[list[Button]]:
    return [[(ctx.tr("nav.back"), "svy:back")]] if ctx.st.data.get("back") else []


def _survey_header(ctx: Ctx) -> str:
    data = ctx.st.data
    lines = [ctx.tr("svy.header")]
    unit = ctx.session.get(Unit, data["unit_id"]) if data.get("unit_id") else None
    if unit is not None:
        lines.append(ctx.tr("svy.selected", unit=unit.name))
    service = ctx.session.get(Service, data["service_id"]) if data.get("service_id") else None
    if service is not None:
        lines.append(ctx.tr("svy.selected_service", service=service.name))
    officer = ctx.session.get(Officer, data["officer_id"]) if data.get("officer_id") else None
    if officer is not None:
        lines.append(ctx.tr("svy.selected_officer", officer=officer.name))
    return "\n".join(lines)


def _pager(ctx: Ctx, page: int, pages: int, action: str) -> list[Button]:
    nav: list[Button] = []
    if page > 0:
        nav.append((ctx.tr("nav.prev"), f"svy:{action}:{page - 1}"))
    if page + 1 < pages:
        nav.append((ctx.tr("nav.next"), f"svy:{action}:{page + 1}"))
    return nav


def _render_unit(ctx: Ctx) -> Screen:
    units = ctx.session.exec(select(Unit).where(Unit.active == True).order_by(Unit.name)).all()  # noqa: E712
    if not units:
        _to_menu(ctx)
        return _menu_screen(ctx, prefix=ctx.tr("svy.unit.none"))
    pages = (len(units) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(int(ctx.st.data.get("page") or 0), 0), pages - 1)
    chunk = units[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    buttons: list[list[Button]] = [[(u.name, f"svy:u:{u.id}")] for u in chunk]
    nav = _pager(ctx, page, pages, "pg")
    if nav:
        buttons.append(nav)
    text = f"{ctx.tr('svy.header')}\n\n{ctx.tr('svy.unit.prompt', page=page + 1, pages=pages)}"
    return Screen(text, buttons + _back_row(ctx))


def _services(ctx: Ctx) -> Sequence[Service]:
    return ctx.session.exec(
        select(Service)
        .where(Service.unit_id == ctx.st.data["unit_id"], Service.active == True)  # noqa: E712
        .order_by(Service.name)
        .limit(MAX_SERVICES_SHOWN)
    ).all()


def _officers(ctx: Ctx, offset: int, limit: int) -> Sequence[Officer]:
    return ctx.session.exec(
        select(Officer)
        .where(Officer.unit_id == ctx.st.data["unit_id"], Officer.active == True)  # noqa: E712
        .order_by(col(Officer.name), col(Officer.id))
        .offset(offset)
        .limit(limit)
    ).all()


def _render_service(ctx: Ctx) -> Screen:
    buttons: list[list[Button]] = [[(s.name, f"svy:s:{s.id}")] for s in _services(ctx)]
    buttons.append([(ctx.tr("svy.service.skip"), "svy:s:0")])
    text = f"{_survey_header(ctx)}\n\n{ctx.tr('svy.service.prompt')}"
    return Screen(text, buttons + _back_row(ctx))


def _render_officer(ctx: Ctx) -> Screen:
    page = max(int(ctx.st.data.get("page") or 0), 0)
    officers = _officers(ctx, page * PAGE_SIZE, PAGE_SIZE + 1)
    if not officers and page:
        ctx.st.data["page"] = page = 0
        officers = _officers(ctx, 0, PAGE_SIZE + 1)
    buttons: list[list[Button]] = [[(o.name, f"svy:o:{o.id}")] for o in officers[:PAGE_SIZE]]
    pages = page + (2 if len(officers) > PAGE_SIZE else 1)
    nav = _pager(ctx, page, pages, "opg")
    if nav:
        buttons.append(nav)
    buttons.append([(ctx.tr("svy.officer.skip"), "svy:o:0")])
    text = f"{_survey_header(ctx)}\n\n{ctx.tr('svy.officer.prompt')}"
    return Screen(text, buttons + _back_row(ctx))


def _render_question(ctx: Ctx) -> Screen:
    qi = int(ctx.st.data.get("qi") or 0)
    number = qi + 1
    question = ctx.tr(
        "svy.question",
        n=number,
        element=ctx.tr(f"element.{number}"),
        question=ctx.tr(f"svy.q{number}"),
    )
    buttons: list[list[Button]] = [
        [(ctx.tr(f"svy.q{number}.a{v}"), f"svy:a:{qi}:{v}")] for v in (1, 2, 3, 4)
    ]
    return Screen(f"{_survey_header(ctx)}\n\n{question}", buttons + _back_row(ctx))


def _render_comment(ctx: Ctx) -> Screen:
    text = f"{_survey_header(ctx)}\n\n{ctx.tr('svy.comment.prompt', max=MAX_COMMENT_LENGTH)}"
    return Screen(text, [[(ctx.tr("svy.comment.skip"), "svy:c:skip")], *_back_row(ctx)])


def _render_profile(ctx: Ctx) -> Screen:
    pf = int(ctx.st.data.get("pf") or 0)
    name = PROFILE_FIELDS[pf]
    choices = [
        (ctx.tr(f"profile.{name}.{value}"), f"svy:p:{pf}:{i}")
        for i, value in enumerate(PROFILE_CHOICES[name])
    ]
    rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
    rows.append([(ctx.tr("svy.profile.skip"), "svy:p:skip")])
    text = f"{ctx.tr('svy.profile.intro')}\n\n{ctx.tr(f'svy.profile.{name}')}"
    return Screen(text, rows + _back_row(ctx))


_SURVEY_RENDERERS: dict[str, Callable[[Ctx], Screen]] = {
    "svy_unit": _render_unit,
    "svy_service": _render_service,
    "svy_officer": _render_officer,
    "svy_q": _render_question,
    "svy_comment": _render_comment,
    "svy_profile": _render_profile,
}
