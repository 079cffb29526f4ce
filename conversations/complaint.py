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
from core.cases.categories import CATEGORIES, category_label
from core.cases.intake import normalise_phone
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
from core.people.models import Intake
from core.shared.errors import InvalidInput

CATEGORY_CODES = tuple(CATEGORIES)
MAX_DRAFT_KEPT = 4096  # a too long description kept to cut (a Telegram message's most)
DRAFT_SHOWN = 300  # of a kept description, shown again at the description step
MIN_ADDRESS, MAX_ADDRESS = 5, 200  # a typed address of the incident
MAX_PHONE_TYPED = 40
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


def start_complaint(ctx: Ctx, typed: str | None = None) -> Screen:
    """The first step of a report; `typed` is text the citizen wrote at the menu, kept as the
    description to use (or change) at the description step."""
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
    if typed:
        ctx.st.data["desc_draft"] = typed
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
    push_and_go(ctx, nxt, page=0 if nxt == "cmp_officer" else None)
    return render(ctx)


def on_button(ctx: Ctx, parts: Sequence[str]) -> Outcome | None:
    st, action = ctx.st, parts[0]
    args = list(parts[1:])
    step = st.step
    if action == "back" and not args and st.data.get("back"):
        go_back(ctx)
        return edit(render(ctx))
    if action == "home" and not args:
        return leave_flow(ctx)
    if action in ("keep", "cut") and not args and step == "cmp_desc":
        return _use_draft(ctx, cut=action == "cut")
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
        st.data["lat"] = st.data["lon"] = st.data["address"] = None
        return edit(_advance(ctx, "cmp_location"))
    if action == "loc" and args == ["keep"] and step == "cmp_location" and _has_location(ctx):
        return edit(_advance(ctx, "cmp_location"))
    privacy = parse_privacy(args[0]) if len(args) == 1 else None
    if action == "pv" and step == "cmp_privacy" and privacy is not None:
        st.data["privacy"] = privacy.value
        return edit(_advance(ctx, "cmp_privacy"))
    if action == "ph" and step == "cmp_phone" and args in (["none"], ["keep"]):
        kept = _phone_on_file(ctx) if args == ["keep"] else None
        st.data["phone"] = kept or ""
        return edit(_back_to_summary(ctx))
    if step == "cmp_confirm" and action == "phone" and not args:
        push_and_go(ctx, "cmp_phone")
        return edit(render(ctx))
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
    if ctx.st.step == "cmp_location":
        return _typed_address(ctx, text)
    if ctx.st.step == "cmp_phone":
        return _typed_phone(ctx, text)
    if ctx.st.step != "cmp_desc":
        return None
    return Outcome(screens=[_take_description(ctx, text)])


def _take_description(ctx: Ctx, text: str) -> Screen:
    """The description if it fits; too long, it is kept (the citizen is told how much to cut
    and may use its first part); too short, the step again with how much is missing."""
    policy = ctx.cfg.case_policy
    data = ctx.st.data
    try:
        description = check_description(policy, text)
    except RuleBroken as broken:
        length = broken.length if broken.length is not None else len(text.strip())
        if broken.rule == Rule.too_short:
            key = "cmp.desc.too_short"
        else:
            key = "cmp.desc.too_long"
            data["desc_draft"] = text.strip()[:MAX_DRAFT_KEPT]
        hint = ctx.tr(
            key,
            length=length,
            min=policy.min_description,
            max=policy.max_description,
            cut=length - policy.max_description,
        )
        return prefixed(render(ctx), hint)
    data["description"] = description
    data.pop("desc_draft", None)
    return _advance(ctx, "cmp_desc")


def _draft(ctx: Ctx) -> str | None:
    """The text shown at the description step to use again: one kept (typed at the menu, or
    too long), else the description given before (after Back or Change)."""
    data = ctx.st.data
    for key in ("desc_draft", "description"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _use_draft(ctx: Ctx, *, cut: bool) -> Outcome | None:
    draft = _draft(ctx)
    if draft is None:
        return None
    if cut:
        draft = draft[: ctx.cfg.case_policy.max_description].rstrip()
    return edit(_take_description(ctx, draft))


def _typed_address(ctx: Ctx, text: str) -> Outcome:
    """An address typed at the location step (not everyone can share a location): it is
    added to the description, within the description's length."""
    address = " ".join(text.split())
    room = ctx.cfg.case_policy.max_description - len(_with_address(ctx, ""))
    longest = max(0, min(MAX_ADDRESS, room))
    if longest < MIN_ADDRESS:  # the description already fills the report: no room at all
        hint = ctx.tr("cmp.location.no_room")
        return Outcome(screens=[prefixed(render(ctx), hint)])
    if len(address) < MIN_ADDRESS or len(address) > longest:
        hint = ctx.tr("cmp.location.address_length", min=MIN_ADDRESS, max=longest)
        return Outcome(screens=[prefixed(render(ctx), hint)])
    ctx.st.data.update(address=address, lat=None, lon=None)
    return Outcome(screens=[_advance(ctx, "cmp_location")])


def _typed_phone(ctx: Ctx, text: str) -> Outcome:
    """A phone number for a call-back, as people type it (0812-3456-7890, +62 812 ...)."""
    try:
        phone = normalise_phone(text[:MAX_PHONE_TYPED])
    except InvalidInput:
        phone = None
    if phone is None:
        return Outcome(screens=[prefixed(render(ctx), ctx.tr("cmp.phone.invalid"))])
    ctx.st.data["phone"] = phone
    return Outcome(screens=[_back_to_summary(ctx)])


def _back_to_summary(ctx: Ctx) -> Screen:
    """The phone step is reached from the summary only (optional): back to it."""
    push_and_go(ctx, "cmp_confirm")
    return render(ctx)


def _with_address(ctx: Ctx, address: str) -> str:
    description = str(ctx.st.data.get("description") or "")
    return f"{description}\n\n{ctx.tr('cmp.location.address_label')}: {address}"


def _has_location(ctx: Ctx) -> bool:
    return ctx.st.data.get("lat") is not None or bool(ctx.st.data.get("address"))


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
    description = data["description"]
    if data.get("address"):
        description = _with_address(ctx, data["address"])
        if len(description) > ctx.cfg.case_policy.max_description:
            data["editing"] = True  # the description grew after the address: shorten one
            push_and_go(ctx, "cmp_location")
            hint = ctx.tr("cmp.location.address_too_long")
            return edit(prefixed(render(ctx), hint))
    draft = ComplaintDraft(
        unit_id=data["unit_id"],
        officer_id=data.get("officer_id"),
        category=data["category"],
        description=description,
        privacy=Privacy(data.get("privacy", "biasa")),
        latitude=data.get("lat"),
        longitude=data.get("lon"),
        photos=tuple(data.get("photos") or ()),
        channel=Intake(ctx.st.channel.value),
    )
    policy = ctx.cfg.case_policy
    try:
        case = file_complaint(ctx.session, ctx.citizen, draft, policy, now=ctx.cfg.clock())
        if "phone" in data:  # given, kept or taken back at the phone step
            ctx.citizen.phone = data["phone"] or None
            ctx.session.add(ctx.citizen)
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
    picked = ctx.st.data.get("category")
    buttons = [
        [(chosen(category_label(code, ctx.lang), code == picked), f"cmp:c:{i}")]
        for i, code in enumerate(CATEGORY_CODES)
    ]
    help_lines = [
        f"• {category_label(code, ctx.lang)}: {ctx.tr(f'cmp.category.help.{code}')}"
        for code in CATEGORY_CODES
    ]
    prompt = "\n".join([ctx.tr("cmp.category.prompt"), "", *help_lines])
    return _step_screen(ctx, prompt, buttons)


@register("cmp_desc")
def _render_desc(ctx: Ctx) -> Screen:
    policy = ctx.cfg.case_policy
    prompt = ctx.tr("cmp.desc.prompt", min=policy.min_description, max=policy.max_description)
    draft = _draft(ctx)
    if draft is None:
        return _step_screen(ctx, prompt, [])
    shown = draft if len(draft) <= DRAFT_SHOWN else draft[:DRAFT_SHOWN].rstrip() + " …"
    prompt += "\n\n" + ctx.tr("cmp.desc.kept", length=len(draft), text=shown)
    if len(draft) > policy.max_description:
        button = (ctx.tr("cmp.desc.cut", max=policy.max_description), "cmp:cut")
    else:
        button = (ctx.tr("cmp.desc.keep"), "cmp:keep")
    return _step_screen(ctx, prompt, [[button]])


@register("cmp_photo")
def _render_photo(ctx: Ctx) -> Screen:
    count = len(ctx.st.data.get("photos") or [])
    label = ctx.tr("cmp.photo.next", n=count) if count else ctx.tr("cmp.photo.skip")
    prompt = ctx.tr("cmp.photo.prompt", max=MAX_ATTACHMENTS)
    return _step_screen(ctx, prompt, [[(label, "cmp:ph:done")]])


@register("cmp_location")
def _render_location(ctx: Ctx) -> Screen:
    data = ctx.st.data
    prompt = ctx.tr("cmp.location.prompt", max=MAX_ADDRESS)
    buttons = [[(ctx.tr("cmp.location.skip"), "cmp:loc:skip")]]
    if _has_location(ctx):
        given = data.get("address") or ctx.tr("cmp.location.shared")
        prompt += "\n\n" + ctx.tr("cmp.location.given", location=given)
        buttons.insert(0, [(ctx.tr("cmp.location.keep"), "cmp:loc:keep")])
    return _step_screen(ctx, prompt, buttons)


@register("cmp_privacy")
def _render_privacy(ctx: Ctx) -> Screen:
    picked = ctx.st.data.get("privacy")
    buttons = [
        [(chosen(ctx.tr(f"privacy.level.{p.value}"), p.value == picked), f"cmp:pv:{p.value}")]
        for p in Privacy
    ]
    prompt = ctx.tr("cmp.privacy.prompt")
    if ctx.st.data.get("address"):  # unlike a shared location, it is read with the text
        prompt += "\n\n" + ctx.tr("cmp.privacy.address_note")
    return _step_screen(ctx, prompt, buttons)


def _phone_on_file(ctx: Ctx) -> str | None:
    """The number given at this step before (after Back), else the one the citizen left
    with an earlier report."""
    typed = ctx.st.data.get("phone")
    if isinstance(typed, str) and typed:
        return typed
    return ctx.citizen.phone if "phone" not in ctx.st.data else None


@register("cmp_phone")
def _render_phone(ctx: Ctx) -> Screen:
    """A phone number for a call-back: optional, what it is for and who sees it said."""
    privacy = ctx.st.data.get("privacy", Privacy.biasa.value)
    who = ctx.tr(
        "cmp.phone.who_biasa" if privacy == Privacy.biasa.value else "cmp.phone.who_hidden"
    )
    prompt = ctx.tr("cmp.phone.prompt", who=who)
    buttons = [[(ctx.tr("cmp.phone.none"), "cmp:ph:none")]]
    stored = _phone_on_file(ctx)
    if stored:
        prompt += "\n\n" + ctx.tr("cmp.phone.stored", phone=stored)
        buttons.insert(0, [(ctx.tr("cmp.phone.keep"), "cmp:ph:keep")])
    return _step_screen(ctx, prompt, buttons)


@register("cmp_confirm")
def _render_confirm(ctx: Ctx) -> Screen:
    data = ctx.st.data
    unit = ctx.session.get(Unit, data["unit_id"])
    officer = ctx.session.get(Officer, data["officer_id"]) if data.get("officer_id") else None
    location = ctx.tr("cmp.summary.yes") if data.get("lat") is not None else "-"
    if data.get("address"):
        location = str(data["address"])
    summary = ctx.tr(
        "cmp.summary",
        unit=unit.name if unit else "-",
        officer=officer.name if officer else "-",
        category=category_label(data["category"], ctx.lang),
        description=data["description"],
        photos=len(data.get("photos") or []),
        location=location,
        privacy=ctx.tr(f"privacy.level.{data.get('privacy', 'biasa')}"),
        phone=_phone_on_file(ctx) or ctx.tr("cmp.phone.optional"),
    )
    buttons = [
        [(ctx.tr("cmp.send"), "cmp:send")],
        [(ctx.tr("cmp.phone.button"), "cmp:phone")],
        [(ctx.tr("cmp.edit"), "cmp:edit")],
    ]
    return Screen(summary, buttons + back_row(ctx))


@register("cmp_edit")
def _render_edit(ctx: Ctx) -> Screen:
    buttons = [[(ctx.tr(f"cmp.edit.{key}"), f"cmp:e:{key}")] for key in EDITABLE]
    return Screen(ctx.tr("cmp.edit.prompt"), buttons + back_row(ctx))
