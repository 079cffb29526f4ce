"""The SKM survey: unit, optional service and officer, nine elements, comment, profile."""

from __future__ import annotations

from collections.abc import Sequence

from conversations.engine import (
    Ctx,
    Outcome,
    Screen,
    back_row,
    chosen,
    edit,
    go_back,
    leave_flow,
    menu_screen,
    officer_buttons,
    page_button,
    prefixed,
    push_and_go,
    register,
    render,
    to_menu,
    unit_buttons,
)
from core.masterdata.deeplinks import Preselection
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
    has_answered_today,
    submit_survey,
)

MAX_SERVICES_SHOWN = 20
MAX_DRAFT_KEPT = 4096  # a too long comment kept to cut (a Telegram message's most)
DRAFT_SHOWN = 300  # of a kept comment, shown again at the comment step
PROFILE_FIELDS = tuple(PROFILE_CHOICES)


def start_survey(ctx: Ctx, pre: Preselection | None) -> Screen:
    st = ctx.st
    st.data = {"answers": [0] * ELEMENT_COUNT, "back": [], "page": 0}
    if pre is None:
        st.step = "svy_unit"
        return render(ctx)
    if offered_unit(ctx.session, pre.unit_id) is None:
        to_menu(ctx)
        return menu_screen(ctx, prefix=ctx.tr("deeplink.unknown"))
    st.data.update(unit_id=pre.unit_id, service_id=pre.service_id, officer_id=pre.officer_id)
    st.data["pre_officer"] = pre.officer_id is not None
    if pre.service_id is not None:
        return _after_service(ctx)
    return _after_unit(ctx)


def on_button(ctx: Ctx, parts: Sequence[str]) -> Outcome | None:
    st, action = ctx.st, parts[0]
    args = parts[1:]
    if action == "back" and not args and st.data.get("back"):
        go_back(ctx)
        return edit(render(ctx))
    if action == "home" and not args:
        return leave_flow(ctx)
    if (action == "pg" and st.step == "svy_unit") or (action == "opg" and st.step == "svy_officer"):
        return page_button(ctx, args)
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
        st.data.pop("comment_draft", None)
        push_and_go(ctx, "svy_profile", pf=0)
        return edit(render(ctx))
    if action == "c" and args in (["keep"], ["cut"]) and st.step == "svy_comment":
        kept = _comment_draft(ctx)
        if kept is None:
            return None
        return edit(_take_comment(ctx, kept[:MAX_COMMENT_LENGTH] if args == ["cut"] else kept))
    if action == "p" and st.step == "svy_profile":
        return _profile(ctx, args)
    return None


def on_text(ctx: Ctx, text: str) -> Outcome | None:
    """The comment step takes text; other survey steps do not."""
    if ctx.st.step != "svy_comment":
        return None
    return Outcome(screens=[_take_comment(ctx, text)])


def _take_comment(ctx: Ctx, text: str) -> Screen:
    """The comment if it fits; too long, it is kept and the citizen told how much to cut
    (or to use its first part)."""
    comment = text.strip()
    data = ctx.st.data
    if len(comment) > MAX_COMMENT_LENGTH:
        data["comment_draft"] = comment[:MAX_DRAFT_KEPT]
        hint = ctx.tr(
            "svy.comment.too_long",
            length=len(comment),
            max=MAX_COMMENT_LENGTH,
            cut=len(comment) - MAX_COMMENT_LENGTH,
        )
        return prefixed(render(ctx), hint)
    data["comment"] = comment or None
    data.pop("comment_draft", None)
    push_and_go(ctx, "svy_profile", pf=0)
    return prefixed(render(ctx), ctx.tr("svy.comment.saved"))


def _comment_draft(ctx: Ctx) -> str | None:
    for key in ("comment_draft", "comment"):
        value = ctx.st.data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _choose_unit(ctx: Ctx, unit_id: int) -> Outcome | None:
    if offered_unit(ctx.session, unit_id) is None:
        return None
    ctx.st.data.update(unit_id=unit_id, service_id=None, officer_id=None, pre_officer=False)
    return edit(_after_unit(ctx))


def _services(ctx: Ctx) -> Sequence[Service]:
    return active_services(ctx.session, ctx.st.data["unit_id"], limit=MAX_SERVICES_SHOWN)


def _after_unit(ctx: Ctx) -> Screen:
    if _services(ctx):
        push_and_go(ctx, "svy_service")
        return render(ctx)
    ctx.st.data["service_id"] = None
    return _after_service(ctx)


def _choose_service(ctx: Ctx, service_id: int) -> Outcome | None:
    unit_id = ctx.st.data.get("unit_id")
    if service_id and (
        unit_id is None or offered_service(ctx.session, unit_id, service_id) is None
    ):
        return None
    ctx.st.data["service_id"] = service_id or None
    return edit(_after_service(ctx))


def _after_service(ctx: Ctx) -> Screen:
    data = ctx.st.data
    assert ctx.citizen.id is not None
    if has_answered_today(
        ctx.session,
        ctx.citizen.id,
        data["unit_id"],
        data.get("service_id"),
        ctx.cfg.tz,
        now=ctx.cfg.clock(),
    ):
        to_menu(ctx)
        return menu_screen(ctx, prefix=ctx.tr("svy.already_today"))
    has_officers = active_officers(ctx.session, data["unit_id"], limit=1)
    if not data.get("pre_officer") and has_officers:
        push_and_go(ctx, "svy_officer", page=0)
    else:
        push_and_go(ctx, "svy_q", qi=0)
    return render(ctx)


def _choose_officer(ctx: Ctx, officer_id: int) -> Outcome | None:
    unit_id = ctx.st.data.get("unit_id")
    if officer_id and (
        unit_id is None or offered_officer(ctx.session, unit_id, officer_id) is None
    ):
        return None
    ctx.st.data["officer_id"] = officer_id or None
    push_and_go(ctx, "svy_q", qi=0)
    return edit(render(ctx))


def _answer(ctx: Ctx, args: Sequence[str]) -> Outcome | None:
    data = ctx.st.data
    if not (args[0].isdigit() and args[1] in ("1", "2", "3", "4")):
        return None
    qi = int(args[0])
    if qi != data.get("qi"):
        return None
    data["answers"][qi] = int(args[1])
    if qi + 1 < ELEMENT_COUNT:
        push_and_go(ctx, "svy_q", qi=qi + 1)
    else:
        push_and_go(ctx, "svy_comment")
    return edit(render(ctx))


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
        push_and_go(ctx, "svy_profile", pf=pf + 1)
        return edit(render(ctx))
    return _submit(ctx)


def _submit(ctx: Ctx) -> Outcome:
    data = ctx.st.data
    unit = _name(ctx, Unit, data["unit_id"])
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
        channel=Intake(ctx.st.channel.value),  # the citizen's identity for the caps is there
    )
    try:
        submit_survey(
            ctx.session,
            draft,
            citizen_id=ctx.citizen.id,
            tz=ctx.cfg.tz,
            pseudonym_key=ctx.cfg.pseudonym_key,
            now=ctx.cfg.clock(),
        )
    except AlreadyAnsweredToday:
        to_menu(ctx)
        return edit(menu_screen(ctx, prefix=ctx.tr("svy.already_today")))
    except InvalidInput:
        to_menu(ctx)
        return edit(menu_screen(ctx, prefix=ctx.tr("svy.changed")))
    to_menu(ctx)
    thanks = Screen(ctx.tr("svy.thanks", unit=unit or ""))
    return Outcome(screens=[thanks, menu_screen(ctx)], edit_first=True)


# Screens ----------------------------------------------------------------------------------


def _header(ctx: Ctx) -> str:
    data = ctx.st.data
    lines = [ctx.tr("svy.header")]
    unit = _name(ctx, Unit, data.get("unit_id"))
    if unit is not None:
        lines.append(ctx.tr("svy.selected", unit=unit))
    service = _name(ctx, Service, data.get("service_id"))
    if service is not None:
        lines.append(ctx.tr("svy.selected_service", service=service))
    officer = _name(ctx, Officer, data.get("officer_id"))
    if officer is not None:
        lines.append(ctx.tr("svy.selected_officer", officer=officer))
    return "\n".join(lines)


def _name(
    ctx: Ctx, model: type[Unit] | type[Service] | type[Officer], row_id: object
) -> str | None:
    """The chosen unit's, service's or officer's name, read once per survey and kept in the
    saved state: every question screen shows it, and a read per tap would be one more
    round trip to the database for each of the survey's sixteen taps."""
    if not isinstance(row_id, int):
        return None
    names = ctx.st.data.setdefault("names", {})
    key = f"{model.__tablename__}:{row_id}"
    if key not in names:
        names[key] = getattr(ctx.session.get(model, row_id), "name", None)
    name = names[key]
    return name if isinstance(name, str) else None


@register("svy_unit")
def _render_unit(ctx: Ctx) -> Screen:
    page = unit_buttons(ctx, "svy")
    if page is None:
        to_menu(ctx)
        return menu_screen(ctx, prefix=ctx.tr("svy.unit.none"))
    buttons, index, pages = page
    text = f"{ctx.tr('svy.header')}\n\n{ctx.tr('svy.unit.prompt', page=index + 1, pages=pages)}"
    return Screen(text, buttons + back_row(ctx))


@register("svy_service")
def _render_service(ctx: Ctx) -> Screen:
    picked = ctx.st.data.get("service_id")
    buttons = [[(chosen(s.name, s.id == picked), f"svy:s:{s.id}")] for s in _services(ctx)]
    buttons.append([(ctx.tr("svy.service.skip"), "svy:s:0")])
    text = f"{_header(ctx)}\n\n{ctx.tr('svy.service.prompt')}"
    return Screen(text, buttons + back_row(ctx))


@register("svy_officer")
def _render_officer(ctx: Ctx) -> Screen:
    buttons = officer_buttons(ctx, "svy", ctx.st.data["unit_id"])
    buttons.append([(ctx.tr("svy.officer.skip"), "svy:o:0")])
    text = f"{_header(ctx)}\n\n{ctx.tr('svy.officer.prompt')}"
    return Screen(text, buttons + back_row(ctx))


@register("svy_q")
def _render_question(ctx: Ctx) -> Screen:
    qi = int(ctx.st.data.get("qi") or 0)
    number = qi + 1
    question = ctx.tr(
        "svy.question",
        n=number,
        element=ctx.tr(f"element.{number}"),
        question=ctx.tr(f"svy.q{number}"),
    )
    answers = ctx.st.data.get("answers") or []
    given = answers[qi] if qi < len(answers) else 0
    buttons = [
        [(chosen(ctx.tr(f"svy.q{number}.a{v}"), v == given), f"svy:a:{qi}:{v}")]
        for v in (1, 2, 3, 4)
    ]
    return Screen(f"{_header(ctx)}\n\n{question}", buttons + back_row(ctx))


@register("svy_comment")
def _render_comment(ctx: Ctx) -> Screen:
    text = f"{_header(ctx)}\n\n{ctx.tr('svy.comment.prompt', max=MAX_COMMENT_LENGTH)}"
    rows = [[(ctx.tr("svy.comment.skip"), "svy:c:skip")]]
    kept = _comment_draft(ctx)
    if kept is not None:
        shown = kept if len(kept) <= DRAFT_SHOWN else kept[:DRAFT_SHOWN].rstrip() + " …"
        text += "\n\n" + ctx.tr("svy.comment.kept", length=len(kept), text=shown)
        if len(kept) > MAX_COMMENT_LENGTH:
            rows.insert(0, [(ctx.tr("svy.comment.cut", max=MAX_COMMENT_LENGTH), "svy:c:cut")])
        else:
            rows.insert(0, [(ctx.tr("svy.comment.keep"), "svy:c:keep")])
    return Screen(text, rows + back_row(ctx))


@register("svy_profile")
def _render_profile(ctx: Ctx) -> Screen:
    pf = int(ctx.st.data.get("pf") or 0)
    name = PROFILE_FIELDS[pf]
    given = ctx.st.data.get(name)
    choices = [
        (chosen(ctx.tr(f"profile.{name}.{value}"), value == given), f"svy:p:{pf}:{i}")
        for i, value in enumerate(PROFILE_CHOICES[name])
    ]
    rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
    rows.append([(ctx.tr("svy.profile.skip"), "svy:p:skip")])
    text = f"{ctx.tr('svy.profile.intro')}\n\n{ctx.tr(f'svy.profile.{name}')}"
    return Screen(text, rows + back_row(ctx))
