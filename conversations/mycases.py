"""A citizen's own reports: the list, one report's public timeline, and what the citizen
answers about it (satisfied or not after resolution, more information when asked)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from conversations.engine import (
    Ctx,
    Outcome,
    Screen,
    edit,
    in_flow,
    menu_screen,
    register,
    render,
    to_menu,
    zone_label,
)
from core.cases.categories import category_label
from core.cases.models import Case, CaseEventKind, CaseStatus
from core.cases.policy import (
    MAX_ANSWER,
    MIN_ANSWER,
    Rule,
    RuleBroken,
    check_answer,
    parse_reference,
)
from core.cases.service import (
    can_reopen,
    citizen_cases,
    citizen_rate,
    citizen_reply,
    get_case_for_citizen,
    public_timeline,
)
from core.masterdata.models import Unit
from core.shared.errors import DomainError

MAX_DRAFT_KEPT = 4096  # a too long answer kept to cut (a Telegram message's most)
MAX_REFERENCE_TEXT = 60  # longer text is a message, not a pasted reference
_LOOSE_REFERENCE_RE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{2,6})[\s\-–]*([0-9]{4})[\s\-–]*([0-9]{4,7})(?![0-9])"
)

BODY_SHOWN = frozenset(
    {
        CaseEventKind.rejected,
        CaseEventKind.info_requested,
        CaseEventKind.resolved,
        CaseEventKind.reopened,
        CaseEventKind.reopened_by_citizen,
        CaseEventKind.citizen_replied,
    }
)


def show_list(ctx: Ctx) -> Screen:
    ctx.st.step = "mine"
    ctx.st.data = {}
    return render(ctx)


def typed_reference(text: str, prefix: str | None = None) -> str | None:
    """A reference as people paste or type it: `KPG-2611-0042`, `kpg 2611 0042`,
    `Nomor laporan: KPG-2611-0042`; None when the text is not a short one naming one (with
    `prefix`, one of this installation's references: `KTP 2024 1234` is no reference)."""
    if len(text) > MAX_REFERENCE_TEXT:
        return None
    found = _LOOSE_REFERENCE_RE.search(text)
    if found is None or (prefix and found.group(1).upper() != prefix.upper()):
        return None
    return parse_reference("-".join(found.groups()))


def show_status(ctx: Ctx, reference: str) -> list[Screen]:
    """`/status REF`: the reporter's own case, or the same "not found" for anything else."""
    parsed = typed_reference(reference) or parse_reference(reference)
    case = get_case_for_citizen(ctx.session, ctx.citizen, parsed) if parsed else None
    if case is None:
        shown = parsed or reference.strip().upper()[:30] or "-"
        return [Screen(ctx.tr("case.not_found", ref=shown)), render(ctx)]
    if in_flow(ctx.st.step) or ctx.st.step.startswith("case_"):
        return [_detail(ctx, case, with_buttons=False), render(ctx)]
    ctx.st.step = "case_detail"
    ctx.st.data = {"ref": case.reference}
    return [render(ctx)]


def on_button(ctx: Ctx, parts: Sequence[str]) -> Outcome | None:
    """`case:view:REF`, `case:list`, `case:rate:REF:y|n`, `case:reply:REF`, `case:cancel`."""
    action, args = parts[0], list(parts[1:])
    step = ctx.st.step
    if action == "list" and not args and step in ("mine", "case_detail"):
        return edit(show_list(ctx))
    if action == "home" and not args and step in ("mine", "case_detail"):
        to_menu(ctx)
        return edit(menu_screen(ctx))
    if action == "cancel" and not args and step in ("case_reason", "case_reply"):
        screen = _restore(ctx)
        return edit(screen)
    draft = ctx.st.data.get("draft")
    if action == "cut" and not args and step in ("case_reason", "case_reply"):
        return _take_answer(ctx, draft[:MAX_ANSWER]) if isinstance(draft, str) else None
    if not args:
        return None
    case = get_case_for_citizen(ctx.session, ctx.citizen, args[0])
    if case is None:
        return None
    if action == "view" and len(args) == 1 and step in ("mine", "case_detail"):
        ctx.st.step = "case_detail"
        ctx.st.data = {"ref": case.reference}
        return edit(render(ctx))
    if action == "rate" and len(args) == 2 and args[1] in ("y", "n"):
        return _rate(ctx, case, args[1] == "y")
    if action == "reply" and len(args) == 1:
        if case.status != CaseStatus.waiting_citizen:
            return Outcome(toast=ctx.tr("case.no_question"))
        _stash(ctx, "case_reply", case.reference)
        return Outcome(screens=[render(ctx)])
    return None


def on_text(ctx: Ctx, text: str) -> Outcome | None:
    step = ctx.st.step
    prefix = ctx.cfg.case_policy.reference_prefix
    if step in ("menu", "mine", "case_detail") and typed_reference(text, prefix):
        return Outcome(screens=show_status(ctx, text))  # a reference pasted without /status
    if step not in ("case_reason", "case_reply"):
        return None
    return _take_answer(ctx, text)


def _take_answer(ctx: Ctx, text: str) -> Outcome:
    """The citizen's reason or reply, sent on; too long, it is kept and the citizen told how
    much to cut (or to send its first part)."""
    step = ctx.st.step
    try:
        answer = check_answer(text)
    except RuleBroken as broken:
        length = len(text.strip())
        if broken.rule == Rule.too_long:
            ctx.st.data["draft"] = text.strip()[:MAX_DRAFT_KEPT]
            hint = ctx.tr(
                "case.answer_too_long", length=length, max=MAX_ANSWER, cut=length - MAX_ANSWER
            )
        else:
            hint = ctx.tr("case.answer_length", min=MIN_ANSWER, max=MAX_ANSWER)
        return Outcome(screens=[Screen(hint), render(ctx)])
    case = get_case_for_citizen(ctx.session, ctx.citizen, str(ctx.st.data.get("ref", "")))
    try:
        if case is None:
            raise DomainError("case not found")
        if step == "case_reason":
            citizen_rate(
                ctx.session,
                ctx.citizen,
                case,
                ctx.cfg.case_policy,
                False,
                answer,
                now=ctx.cfg.clock(),
            )
            key = (
                "case.reopened"
                if case.status == CaseStatus.in_progress
                else "case.closed_unsatisfied"
            )
        else:
            citizen_reply(ctx.session, ctx.citizen, case, answer, now=ctx.cfg.clock())
            key = "case.reply_sent"
    except DomainError:
        key = "case.not_open"
    ref = case.reference if case else ""
    done = Screen(ctx.tr(key, ref=ref))
    return Outcome(screens=[done, _restore(ctx)])


def _rate(ctx: Ctx, case: Case, satisfied: bool) -> Outcome:
    if case.status != CaseStatus.resolved:
        return Outcome(toast=ctx.tr("case.already_rated"))
    if satisfied:
        citizen_rate(ctx.session, ctx.citizen, case, ctx.cfg.case_policy, True, now=ctx.cfg.clock())
        return edit(Screen(ctx.tr("case.thanks_satisfied", ref=case.reference)))
    if not can_reopen(case, ctx.cfg.case_policy, now=ctx.cfg.clock()):
        _stash(ctx, "case_reason", case.reference)
        screen = Screen(ctx.tr("case.reason_final", ref=case.reference), _cancel_row(ctx))
        return Outcome(screens=[screen])
    _stash(ctx, "case_reason", case.reference)
    return Outcome(screens=[render(ctx)])


def _stash(ctx: Ctx, step: str, reference: str) -> None:
    """Remember what the citizen was doing, to come back to it after this answer."""
    st = ctx.st
    previous: dict[str, Any] = {"step": st.step, "data": st.data}
    if st.step in ("case_reason", "case_reply"):
        previous = st.data.get("stash") or {"step": "menu", "data": {}}
    st.step = step
    st.data = {"ref": reference, "stash": previous}


def _restore(ctx: Ctx) -> Screen:
    stash = ctx.st.data.get("stash") or {}
    ctx.st.step = str(stash.get("step") or "menu")
    data = stash.get("data")
    ctx.st.data = data if isinstance(data, dict) else {}
    if ctx.st.step in ("case_reason", "case_reply", "lang", "consent"):
        to_menu(ctx)
    return render(ctx)


def _cancel_row(ctx: Ctx) -> list[list[tuple[str, str]]]:
    rows = [[(ctx.tr("case.cancel"), "case:cancel")]]
    draft = ctx.st.data.get("draft")
    if isinstance(draft, str) and len(draft) > MAX_ANSWER:
        rows.insert(0, [(ctx.tr("case.answer_cut", max=MAX_ANSWER), "case:cut")])
    return rows


# Screens ----------------------------------------------------------------------------------


def _status_label(ctx: Ctx, status: str) -> str:
    return ctx.tr(f"status.{status}")


@register("mine")
def _render_list(ctx: Ctx) -> Screen:
    cases = citizen_cases(ctx.session, ctx.citizen)
    home = [(ctx.tr("nav.menu"), "case:home")]
    if not cases:
        return Screen(ctx.tr("case.none"), [home])
    buttons = [
        [(f"{c.reference} · {_status_label(ctx, c.status)}", f"case:view:{c.reference}")]
        for c in cases
    ]
    return Screen(ctx.tr("case.list"), [*buttons, home])


@register("case_detail")
def _render_detail(ctx: Ctx) -> Screen:
    case = get_case_for_citizen(ctx.session, ctx.citizen, str(ctx.st.data.get("ref", "")))
    if case is None:
        return show_list(ctx)
    return _detail(ctx, case, with_buttons=True)


def _detail(ctx: Ctx, case: Case, *, with_buttons: bool) -> Screen:
    unit = ctx.session.get(Unit, case.unit_id)
    tz = ctx.cfg.tz
    zone = zone_label(tz)
    lines = [
        ctx.tr(
            "case.detail",
            ref=case.reference,
            unit=unit.name if unit else "-",
            category=category_label(case.category, ctx.lang),
            status=_status_label(ctx, case.status),
        ),
        "",
        ctx.tr("case.timeline"),
    ]
    for event in public_timeline(ctx.session, case):
        when = f"{event.created_at.astimezone(tz).strftime('%d-%m-%Y %H:%M')} {zone}"
        line = f"• {when} {ctx.tr(f'event.{event.kind}')}"
        if event.kind in BODY_SHOWN and event.body:
            line += f": {event.body[:300]}"
        lines.append(line)
    buttons: list[list[tuple[str, str]]] = []
    if with_buttons:
        if case.status == CaseStatus.resolved:
            buttons.append(
                [
                    (ctx.tr("notify.button.satisfied"), f"case:rate:{case.reference}:y"),
                    (ctx.tr("notify.button.unsatisfied"), f"case:rate:{case.reference}:n"),
                ]
            )
        if case.status == CaseStatus.waiting_citizen:
            buttons.append([(ctx.tr("notify.button.reply"), f"case:reply:{case.reference}")])
        buttons.append(
            [(ctx.tr("case.back_to_list"), "case:list"), (ctx.tr("nav.menu"), "case:home")]
        )
    return Screen("\n".join(lines), buttons)


@register("case_reason")
def _render_reason(ctx: Ctx) -> Screen:
    ref = ctx.st.data.get("ref", "")
    return Screen(ctx.tr("case.reason_prompt", ref=ref), _cancel_row(ctx))


@register("case_reply")
def _render_reply(ctx: Ctx) -> Screen:
    ref = str(ctx.st.data.get("ref", ""))
    case = get_case_for_citizen(ctx.session, ctx.citizen, ref)
    question = ""
    if case is not None:
        asked = [
            e for e in public_timeline(ctx.session, case) if e.kind == CaseEventKind.info_requested
        ]
        question = asked[-1].body or "" if asked else ""
    return Screen(ctx.tr("case.reply_prompt", ref=ref, question=question), _cancel_row(ctx))
