"""A citizen's conversation, in any channel, as a state machine over the database.

One inbound event (a command, text, photo, location, button press or anything else) is
handled inside one database transaction: the message id is claimed (a channel may deliver
twice), the citizen and their saved step are loaded together, the step advances, the new
step is saved, and the screens to show are returned. A channel only translates its
messages in and screens out, so a process killed between two steps loses nothing: the next
message resumes at the saved step.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from sqlmodel import Session

from conversations import complaint, mycases, survey
from conversations.engine import (
    ONBOARDING_STEPS,
    Ctx,
    FlowConfig,
    Inbound,
    Outcome,
    Screen,
    edit,
    in_flow,
    menu_screen,
    prefixed,
    register,
    render,
    to_menu,
    with_hint,
    zone_label,
)
from conversations.i18n import LANGUAGES, t
from core.chat.inbox import INBOUND_RETENTION
from core.chat.state import claim_message, load_state, save_state
from core.masterdata.deeplinks import Preselection, resolve_payload
from core.people.citizens import (
    erase_citizen,
    get_citizen,
    get_or_create_citizen,
    give_consent,
    load_conversation,
    set_language,
    unfinished_reports,
)
from core.people.links import LINK_PAYLOAD_PREFIX, LinkRefused, redeem_link_code
from core.people.models import Address, Language

LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
CALLBACK_RE = re.compile(r"^[a-z]{1,8}(:[A-Za-z0-9_-]{1,20}){1,3}$")
MAX_REFS_SHOWN = 10  # open reports named on the erase confirmation
MAX_TYPED_KEPT = 4096  # text typed at the menu, kept for a report (a Telegram message's most)

__all__ = ["FlowConfig", "Inbound", "Outcome", "Screen", "handle"]


def handle(session: Session, cfg: FlowConfig, ev: Inbound) -> Outcome:
    if not claim_message(session, ev.channel, ev.message_id):
        return _answer_again(session, ev)
    if ev.kind == "command" and ev.command == "link":
        return _link(session, cfg, ev)
    if ev.kind == "command" and ev.command == "start":
        payload = ev.args.strip()
        if payload.startswith(LINK_PAYLOAD_PREFIX):  # a link code's QR (deep link)
            return _link(session, cfg, replace(ev, args=payload[len(LINK_PAYLOAD_PREFIX) :]))
    known, state = load_conversation(session, ev.channel, ev.address)
    citizen = get_or_create_citizen(session, ev.channel, ev.address, known)
    ctx = Ctx(session=session, cfg=cfg, citizen=citizen, st=state)
    if ctx.citizen.consent_at is None and ctx.st.step not in ONBOARDING_STEPS:
        ctx.st.step = "lang"
    out = _dispatch(ctx, ev)
    if not ctx.erased:
        ctx.st.reply_to, ctx.st.reply = ev.message_id, out.to_json()
        save_state(session, ctx.st)
    return out


def _answer_again(session: Session, ev: Inbound) -> Outcome:
    """A message handled before, delivered again. If it was the conversation's last one, the
    process may have died after committing its effects and before sending its answer (the
    channel redelivers what it was never told arrived): its answer is returned again, marked
    `again`, and the channel gives it unless it knows the first one went out."""
    state = load_state(session, ev.channel, ev.address)
    if state.reply_to != ev.message_id or state.reply is None:
        return Outcome(duplicate=True)
    again = Outcome.from_json(state.reply)
    again.again = True
    return again


def _link(session: Session, cfg: FlowConfig, ev: Inbound) -> Outcome:
    """`/link CODE`: a unit head connects this chat to their staff account (for digests)."""
    known = get_citizen(session, ev.channel, ev.address)
    lang = known.language if known else "id"
    code = ev.args.strip()
    if not code:
        return Outcome(screens=[Screen(t(lang, "link.usage"))])
    try:
        to = Address(ev.channel, ev.address)
        user = redeem_link_code(session, code[:40], to, language=lang, now=cfg.clock())
    except LinkRefused as exc:
        if exc.reason == "throttled":
            minutes = max(1, math.ceil(exc.retry_after / 60))
            return Outcome(screens=[Screen(t(lang, "link.throttled", minutes=minutes))])
        return Outcome(screens=[Screen(t(lang, f"link.{exc.reason}"))])
    return Outcome(screens=[Screen(t(lang, "link.ok", username=user.username))])


def _dispatch(ctx: Ctx, ev: Inbound) -> Outcome:
    onboarded = ctx.st.step not in ONBOARDING_STEPS
    if ev.kind == "command":
        return _on_command(ctx, ev.command, ev.args)
    if ev.kind == "callback":
        return _on_callback(ctx, ev.data)
    if ev.kind == "text":
        handled = onboarded and (
            survey.on_text(ctx, ev.text)
            or complaint.on_text(ctx, ev.text)
            or mycases.on_text(ctx, ev.text)
        )
        return handled or _unexpected_text(ctx, ev.text)
    if ev.kind == "photo" and onboarded:
        photo = complaint.on_photo(ctx, ev.data)
        if photo is not None:
            return photo
    if ev.kind == "location" and onboarded and ev.latitude is not None and ev.longitude is not None:
        located = complaint.on_location(ctx, ev.latitude, ev.longitude)
        if located is not None:
            return located
    return Outcome(screens=[with_hint(ctx, "hint.unsupported")])


# Commands ---------------------------------------------------------------------------------


def _on_command(ctx: Ctx, command: str, args: str) -> Outcome:
    st = ctx.st
    onboarding = st.step in ONBOARDING_STEPS
    if command == "start":
        return _start(ctx, args.strip())
    if command == "cancel":
        if in_flow(st.step) or st.step in ("case_reason", "case_reply"):
            to_menu(ctx)
            return Outcome(screens=[menu_screen(ctx, prefix=ctx.tr("cancel.done"))])
        if onboarding:
            return Outcome(screens=[render(ctx)])
        to_menu(ctx)  # the menu shown is the step now: its buttons work
        return Outcome(screens=[menu_screen(ctx, prefix=ctx.tr("cancel.nothing"))])
    if command == "help":
        return Outcome(screens=[Screen(ctx.tr("help.text")), render(ctx)])
    if command == "language":
        if not onboarding:
            st.data["resume"] = st.step
        st.step = "lang"
        return Outcome(screens=[render(ctx)])
    if command == "privacy" and (in_flow(st.step) or onboarding):
        return Outcome(screens=[_privacy_screen(ctx), render(ctx)])
    if command == "privacy" and not onboarding:
        st.step = "privacy"
        return Outcome(screens=[render(ctx)])
    if command == "status" and not onboarding:
        if not args.strip():
            return Outcome(screens=[Screen(ctx.tr("case.status_usage")), render(ctx)])
        return Outcome(screens=mycases.show_status(ctx, args))
    if command == "status":  # listed by /help, usable once onboarded
        return Outcome(screens=[with_hint(ctx, "hint.onboarding_first")])
    return Outcome(screens=[with_hint(ctx, "hint.unknown_command")])


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
        return Outcome(screens=[prefixed(render(ctx), notice)])
    if pre is not None:
        return Outcome(screens=[survey.start_survey(ctx, pre)])
    if in_flow(st.step) and not payload:
        return Outcome(screens=[with_hint(ctx, "hint.in_progress")])
    to_menu(ctx)
    return Outcome(screens=[menu_screen(ctx, prefix=notice)])


def _unexpected_text(ctx: Ctx, text: str) -> Outcome:
    step = ctx.st.step
    if step == "menu":
        return _offer_complaint(ctx, text)
    key = "consent.required" if step == "consent" else "hint.use_buttons"
    return Outcome(screens=[with_hint(ctx, key)])


# Buttons ----------------------------------------------------------------------------------


def _on_callback(ctx: Ctx, data: str) -> Outcome:
    out = _route_callback(ctx, data) if CALLBACK_RE.match(data) else None
    if out is None:
        screen = prefixed(render(ctx), ctx.tr("hint.stale_button"))
        return Outcome(screens=[screen], toast=ctx.tr("hint.stale_toast"))
    return out


def _route_callback(ctx: Ctx, data: str) -> Outcome | None:
    parts = data.split(":")
    head, step = parts[0], ctx.st.step
    if head == "lang" and step == "lang" and parts[1] in LANGUAGES:
        return _choose_language(ctx, parts[1])
    if head == "lang" and step == "lang" and parts[1] == "back" and ctx.citizen.consent_at:
        return edit(_resume(ctx))
    if head == "consent" and step == "consent" and parts[1] == "yes":
        give_consent(ctx.session, ctx.citizen)
        return _after_onboarding(ctx)
    if head == "consent" and step == "consent" and parts[1] == "no":
        return edit(prefixed(render(ctx), ctx.tr("consent.declined")))
    if step in ONBOARDING_STEPS:
        return None
    if head == "m" and step == "menu":
        return _on_menu(ctx, parts[1])
    if head == "pv" and step in ("privacy", "erase_confirm"):
        return _on_privacy(ctx, parts[1])
    if head == "svy" and step.startswith("svy_"):
        return survey.on_button(ctx, parts[1:])
    if head == "cmp" and step.startswith("cmp_"):
        return complaint.on_button(ctx, parts[1:])
    if head == "case":
        return mycases.on_button(ctx, parts[1:])
    return None


def _choose_language(ctx: Ctx, lang: str) -> Outcome:
    set_language(ctx.session, ctx.citizen, Language(lang))
    confirmed = ctx.tr("lang.set")
    if ctx.citizen.consent_at is None:
        ctx.st.step = "consent"
        return edit(prefixed(render(ctx), confirmed))
    return edit(prefixed(_resume(ctx), confirmed))


def _resume(ctx: Ctx) -> Screen:
    """Back from the language step to where the citizen opened it (a flow, a report, else
    the menu)."""
    resume = str(ctx.st.data.pop("resume", "menu"))
    ctx.st.step = resume if in_flow(resume) or resume.startswith("case_") else "menu"
    return render(ctx)


def _after_onboarding(ctx: Ctx) -> Outcome:
    pre = ctx.st.data.pop("pre", None)
    if isinstance(pre, list) and len(pre) == 3:
        unit_id, service_id, officer_id = pre
        return edit(survey.start_survey(ctx, Preselection(unit_id, service_id, officer_id)))
    to_menu(ctx)
    return edit(menu_screen(ctx))


def _on_menu(ctx: Ctx, item: str) -> Outcome | None:
    if item == "rate":
        return edit(survey.start_survey(ctx, None))
    if item == "report":
        typed = ctx.st.data.get("typed")
        return edit(complaint.start_complaint(ctx, typed if isinstance(typed, str) else None))
    if item == "mine":
        return edit(mycases.show_list(ctx))
    if item == "lang":
        ctx.st.data["resume"] = "menu"
        ctx.st.step = "lang"
        return edit(render(ctx))
    if item == "privacy":
        ctx.st.step = "privacy"
        return edit(render(ctx))
    return None


def _offer_complaint(ctx: Ctx, text: str) -> Outcome:
    """Text typed at the main menu: most people start by telling what went wrong. The
    menu is shown with an offer to report it; the text is kept as the description."""
    typed = text.strip()[:MAX_TYPED_KEPT]
    if not typed:
        return Outcome(screens=[menu_screen(ctx)])
    to_menu(ctx)
    ctx.st.data["typed"] = typed
    screen = menu_screen(ctx, prefix=ctx.tr("menu.typed_offer"))
    screen.buttons[1] = [(ctx.tr("menu.typed_report"), "m:report")]
    return Outcome(screens=[screen])


def _on_privacy(ctx: Ctx, action: str) -> Outcome | None:
    step = ctx.st.step
    if step == "privacy" and action == "erase":
        ctx.st.step = "erase_confirm"
        return edit(render(ctx))
    if step == "erase_confirm" and action == "yes":
        farewell = Screen(ctx.tr("privacy.erased"))
        erase_citizen(ctx.session, ctx.citizen)
        ctx.erased = True
        return edit(farewell)
    if action in ("back", "no"):
        to_menu(ctx)
        return edit(menu_screen(ctx))
    return None


# Screens ----------------------------------------------------------------------------------


@register("lang")
def _render_lang(ctx: Ctx) -> Screen:
    buttons = [[(LANGUAGE_NAMES["id"], "lang:id"), (LANGUAGE_NAMES["en"], "lang:en")]]
    if ctx.citizen.consent_at is not None:  # opened from the menu or a step: a way back
        buttons.append([(ctx.tr("nav.back"), "lang:back")])
    return Screen(t(ctx.lang, "lang.prompt"), buttons)


@register("consent")
def _render_consent(ctx: Ctx) -> Screen:
    return Screen(
        ctx.tr("consent.notice", area=ctx.cfg.area_name),
        [[(ctx.tr("consent.accept"), "consent:yes")], [(ctx.tr("consent.decline"), "consent:no")]],
    )


@register("menu")
def _render_menu(ctx: Ctx) -> Screen:
    return menu_screen(ctx)


def _privacy_screen(ctx: Ctx) -> Screen:
    consent_at = ctx.citizen.consent_at
    if consent_at is None:
        consent = ctx.tr("consent.none")
    else:
        local = consent_at.astimezone(ctx.cfg.tz)
        time = f"{local.strftime('%Y-%m-%d %H:%M')} {zone_label(ctx.cfg.tz)}"
        consent = ctx.tr("consent.given", time=time)
    text = ctx.tr(
        "privacy.text",
        consent=consent,
        raw_days=INBOUND_RETENTION.days,
        outbox_days=ctx.cfg.outbox_retention_days,
    )
    return Screen(text)


@register("privacy")
def _render_privacy(ctx: Ctx) -> Screen:
    screen = _privacy_screen(ctx)
    screen.buttons = [[(ctx.tr("privacy.erase"), "pv:erase")], [(ctx.tr("nav.back"), "pv:back")]]
    return screen


@register("erase_confirm")
def _render_erase(ctx: Ctx) -> Screen:
    """What erasing does, and first what it does to reports still open, then confirm."""
    screen = Screen(
        ctx.tr("privacy.erase_confirm"),
        [[(ctx.tr("privacy.erase_yes"), "pv:yes")], [(ctx.tr("privacy.erase_no"), "pv:no")]],
    )
    refs = unfinished_reports(ctx.session, ctx.citizen)
    if not refs:
        return screen
    shown = ", ".join(refs[:MAX_REFS_SHOWN]) + (", …" if len(refs) > MAX_REFS_SHOWN else "")
    return prefixed(screen, ctx.tr("privacy.erase_open_reports", count=len(refs), refs=shown))
