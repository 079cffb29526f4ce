"""Reporting a problem: unit, officer, category, description, photos, location, privacy,
a summary to confirm or edit, and a reference number."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import select

from conversations.engine import (
    Ctx,
    Outcome,
    Screen,
    back_row,
    edit,
    go_back,
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
from core.cases.categories import CATEGORIES, category_label
from core.cases.models import Attachment, Privacy
from core.cases.policy import (
    Rule,
    RuleBroken,
    check_attachments,
    check_description,
    check_location,
    parse_privacy,
)
from core.cases.service import (
    MAX_ATTACHMENTS,
    ComplaintDraft,
    TooManyComplaints,
    complaints_today,
    file_complaint,
)
from core.masterdata.models import Officer, Unit
from core.masterdata.service import active_officers, offered_officer, offered_unit
from core.shared.errors import InvalidInput

CATEGORY_CODES = tuple(CATEGORIES)
ORDER = (
    "cmp_unit",
    "cmp_officer",
    "cmp_category",
    "cmp_desc",
    "cmp_photo",
    "cmp_location",
    "cmp_privacy",
    "cmp_confirm",
)
EDITABLE = {
    "unit": "cmp_unit",
    "cat": "cmp_category",
    "desc": "cmp_desc",
    "photo": "cmp_photo",
    "loc": "cmp_location",
    "pv": "cmp_privacy",
}


def start_complaint(ctx: Ctx) -> Screen:
    assert ctx.citizen.id is not None
    policy = ctx.cfg.case_policy
    if (
        complaints_today(ctx.session, ctx.citizen.id, policy, now=ctx.cfg.clock())
        >= policy.complaints_per_day
    ):
        to_menu(ctx)
        return menu_screen(ctx, prefix=ctx.tr("cmp.too_many", max=policy.complaints_per_day))
    ctx.st.step = "cmp_unit"
    ctx.st.data = {"back": [], "page": 0, "photos": []}
    return render(ctx)


def _has_officers(ctx: Ctx) -> bool:
    return bool(active_officers(ctx.session, ctx.st.data["unit_id"], limit=1))


def _advance(ctx: Ctx, done: str) -> Screen:
    """Go to the step after `done`; while editing, straight back to the summary."""
    data = ctx.st.data
    nxt = ORDER[ORDER.index(done) + 1]
    if data.get("editing") and done != "cmp_unit":
        nxt = "cmp_confirm"
    if nxt == "cmp_officer" and not _has_officers(ctx):
        data["officer_id"] = None
        nxt = "cmp_confirm" if data.get("editing") else "cmp_category"
    if nxt == "cmp_confirm":
        data.pop("editing", None)
    if nxt == "cmp_officer":
        data["page"] = 0
    push_and_go(ctx, nxt)
    return render(ctx)


def on_button(ctx: Ctx, parts: Sequence[str]) -> Outcome | None:
    st, action = ctx.st, parts[0]
    args = list(parts[1:])
    step = st.step
    if action == "back" and not args and st.data.get("back"):
        go_back(ctx)
        return edit(render(ctx))
    if (action == "pg" and step == "cmp_unit") or (action == "opg" and step == "cmp_officer"):
        return page_button(ctx, args)
    number = int(args[0]) if len(args) == 1 and args[0].isdigit() and len(args[0]) < 10 else None
    if action == "u" and step == "cmp_unit" and number is not None:
        if offered_unit(ctx.session, number) is None:
            return None
        st.data.update(unit_id=number, officer_id=None)
        return edit(_advance(ctx, "cmp_unit"))
    if action == "o" and step == "cmp_officer" and number is not None:
        unit_id = st.data.get("unit_id")
        if number and (unit_id is None or offered_officer(ctx.session, unit_id, number) is None):
            return None
        st.data["officer_id"] = number or None
        return edit(_advance(ctx, "cmp_officer"))
    if action == "c" and step == "cmp_category" and number is not None:
        if number >= len(CATEGORY_CODES):
            return None
        st.data["category"] = CATEGORY_CODES[number]
        return edit(_advance(ctx, "cmp_category"))
    if action == "ph" and args == ["done"] and step == "cmp_photo":
        return edit(_advance(ctx, "cmp_photo"))
    if action == "loc" and args == ["skip"] and step == "cmp_location":
        st.data["lat"] = st.data["lon"] = None
        return edit(_advance(ctx, "cmp_location"))
    privacy = parse_privacy(args[0]) if len(args) == 1 else None
    if action == "pv" and step == "cmp_privacy" and privacy is not None:
        st.data["privacy"] = privacy.value
        return edit(_advance(ctx, "cmp_privacy"))
    if step == "cmp_confirm" and action == "send" and not args:
        return _submit(ctx)
    if step == "cmp_confirm" and action == "edit" and not args:
        push_and_go(ctx, "cmp_edit")
        return edit(render(ctx))
    if step == "cmp_edit" and action == "e" and len(args) == 1 and args[0] in EDITABLE:
        st.data["editing"] = True
        st.data["page"] = 0
        push_and_go(ctx, EDITABLE[args[0]])
        return edit(render(ctx))
    return None


def on_text(ctx: Ctx, text: str) -> Outcome | None:
    if ctx.st.step != "cmp_desc":
        return None
    policy = ctx.cfg.case_policy
    try:
        description = check_description(policy, text)
    except RuleBroken as broken:
        key = "cmp.desc.too_short" if broken.rule == Rule.too_short else "cmp.desc.too_long"
        hint = ctx.tr(
            key, length=broken.length, min=policy.min_description, max=policy.max_description
        )
        return Outcome(screens=[prefixed(render(ctx), hint)])
    ctx.st.data["description"] = description
    return Outcome(screens=[_advance(ctx, "cmp_desc")])


def on_photo(ctx: Ctx, file_id: str) -> Outcome | None:
    if ctx.st.step != "cmp_photo":
        return None
    photos: list[str] = ctx.st.data.setdefault("photos", [])
    try:
        check_attachments(len(photos) + 1)
        room = len(file_id) <= 200  # (longer is no Telegram file id)
    except RuleBroken:
        room = False
    if not room:
        return Outcome(
            screens=[prefixed(render(ctx), ctx.tr("cmp.photo.full", max=MAX_ATTACHMENTS))]
        )
    photos.append(file_id)
    if len(photos) == MAX_ATTACHMENTS:
        return Outcome(screens=[prefixed(_advance(ctx, "cmp_photo"), ctx.tr("cmp.photo.got_all"))])
    got = ctx.tr("cmp.photo.got", n=len(photos), max=MAX_ATTACHMENTS)
    return Outcome(screens=[prefixed(render(ctx), got)])


def on_location(ctx: Ctx, latitude: float, longitude: float) -> Outcome | None:
    if ctx.st.step != "cmp_location":
        return None
    try:
        check_location(latitude, longitude)
    except RuleBroken:
        return None
    ctx.st.data["lat"], ctx.st.data["lon"] = latitude, longitude
    return Outcome(screens=[_advance(ctx, "cmp_location")])


def _submit(ctx: Ctx) -> Outcome:
    data = ctx.st.data
    draft = ComplaintDraft(
        unit_id=data["unit_id"],
        officer_id=data.get("officer_id"),
        category=data["category"],
        description=data["description"],
        privacy=Privacy(data.get("privacy", "biasa")),
        latitude=data.get("lat"),
        longitude=data.get("lon"),
        photos=tuple(data.get("photos") or ()),
    )
    policy = ctx.cfg.case_policy
    try:
        case = file_complaint(ctx.session, ctx.citizen, draft, policy, now=ctx.cfg.clock())
    except TooManyComplaints:
        to_menu(ctx)
        return edit(menu_screen(ctx, prefix=ctx.tr("cmp.too_many", max=policy.complaints_per_day)))
    except InvalidInput:
        to_menu(ctx)
        return edit(menu_screen(ctx, prefix=ctx.tr("cmp.changed")))
    attachments = ctx.session.exec(select(Attachment.id).where(Attachment.case_id == case.id)).all()
    to_menu(ctx)
    sent = Screen(ctx.tr("cmp.sent", ref=case.reference))
    return Outcome(
        screens=[sent, menu_screen(ctx)],
        edit_first=True,
        attachments=[a for a in attachments if a is not None],
    )


# Screens ----------------------------------------------------------------------------------


def _header(ctx: Ctx) -> str:
    lines = [ctx.tr("cmp.header")]
    unit_id = ctx.st.data.get("unit_id")
    unit = ctx.session.get(Unit, unit_id) if unit_id else None
    if unit is not None:
        lines.append(ctx.tr("svy.selected", unit=unit.name))
    return "\n".join(lines)


def _step_screen(ctx: Ctx, prompt: str, buttons: list[list[tuple[str, str]]]) -> Screen:
    return Screen(f"{_header(ctx)}\n\n{prompt}", buttons + back_row(ctx))


@register("cmp_unit")
def _render_unit(ctx: Ctx) -> Screen:
    page = unit_buttons(ctx, "cmp")
    if page is None:
        to_menu(ctx)
        return menu_screen(ctx, prefix=ctx.tr("svy.unit.none"))
    buttons, index, pages = page
    return _step_screen(ctx, ctx.tr("cmp.unit.prompt", page=index + 1, pages=pages), buttons)


@register("cmp_officer")
def _render_officer(ctx: Ctx) -> Screen:
    buttons = officer_buttons(ctx, "cmp", ctx.st.data["unit_id"])
    buttons.append([(ctx.tr("svy.officer.skip"), "cmp:o:0")])
    return _step_screen(ctx, ctx.tr("cmp.officer.prompt"), buttons)


@register("cmp_category")
def _render_category(ctx: Ctx) -> Screen:
    buttons = [
        [(category_label(code, ctx.lang), f"cmp:c:{i}")] for i, code in enumerate(CATEGORY_CODES)
    ]
    return _step_screen(ctx, ctx.tr("cmp.category.prompt"), buttons)


@register("cmp_desc")
def _render_desc(ctx: Ctx) -> Screen:
    policy = ctx.cfg.case_policy
    prompt = ctx.tr("cmp.desc.prompt", min=policy.min_description, max=policy.max_description)
    return _step_screen(ctx, prompt, [])


@register("cmp_photo")
def _render_photo(ctx: Ctx) -> Screen:
    count = len(ctx.st.data.get("photos") or [])
    label = ctx.tr("cmp.photo.next", n=count) if count else ctx.tr("cmp.photo.skip")
    prompt = ctx.tr("cmp.photo.prompt", max=MAX_ATTACHMENTS)
    return _step_screen(ctx, prompt, [[(label, "cmp:ph:done")]])


@register("cmp_location")
def _render_location(ctx: Ctx) -> Screen:
    return _step_screen(
        ctx, ctx.tr("cmp.location.prompt"), [[(ctx.tr("cmp.location.skip"), "cmp:loc:skip")]]
    )


@register("cmp_privacy")
def _render_privacy(ctx: Ctx) -> Screen:
    buttons = [[(ctx.tr(f"privacy.level.{p.value}"), f"cmp:pv:{p.value}")] for p in Privacy]
    return _step_screen(ctx, ctx.tr("cmp.privacy.prompt"), buttons)


@register("cmp_confirm")
def _render_confirm(ctx: Ctx) -> Screen:
    data = ctx.st.data
    unit = ctx.session.get(Unit, data["unit_id"])
    officer = ctx.session.get(Officer, data["officer_id"]) if data.get("officer_id") else None
    location = ctx.tr("cmp.summary.yes") if data.get("lat") is not None else "-"
    summary = ctx.tr(
        "cmp.summary",
        unit=unit.name if unit else "-",
        officer=officer.name if officer else "-",
        category=category_label(data["category"], ctx.lang),
        description=data["description"],
        photos=len(data.get("photos") or []),
        location=location,
        privacy=ctx.tr(f"privacy.level.{data.get('privacy', 'biasa')}"),
    )
    buttons = [
        [(ctx.tr("cmp.send"), "cmp:send")],
        [(ctx.tr("cmp.edit"), "cmp:edit")],
    ]
    return Screen(summary, buttons + back_row(ctx))


@register("cmp_edit")
def _render_edit(ctx: Ctx) -> Screen:
    buttons = [[(ctx.tr(f"cmp.edit.{key}"), f"cmp:e:{key}")] for key in EDITABLE]
    return Screen(ctx.tr("cmp.edit.prompt"), buttons + back_row(ctx))
