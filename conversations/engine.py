"""What every conversation step shares: events in, screens out, the saved state, navigation.

A step is a name in `ChatState.step`; each flow module registers how its steps are drawn
(`RENDERERS`), so any step can be shown again from the saved state alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from conversations.i18n import t
from core.cases.service import CasePolicy
from core.chat.state import ChatState
from core.masterdata import service as masterdata
from core.masterdata.models import Officer, Unit
from core.people.models import Channel, Citizen
from core.shared.clock import utcnow
from core.shared.config import ZONE_NAMES

PAGE_SIZE = 8
ONBOARDING_STEPS = frozenset({"lang", "consent"})
# Steps with a "back" history (the survey's and the complaint's).
FLOW_PREFIXES = ("svy_", "cmp_")

Button = tuple[str, str]  # label, callback data


@dataclass(frozen=True)
class Inbound:
    """One message or button press from a citizen, as every channel hands it over."""

    channel: Channel
    message_id: str  # the channel's own id for it: a redelivered one is handled once
    address: str  # the conversation's address on the channel (a Telegram private chat id)
    kind: Literal["command", "text", "callback", "photo", "location", "other"]
    command: str = ""
    args: str = ""
    text: str = ""
    data: str = ""  # a button's data, or the channel's reference to a photo
    latitude: float | None = None
    longitude: float | None = None


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
    # The answer of a message handled before, given again: a channel skips it when it knows
    # that answer went out (see conversations.flow._answer_again).
    again: bool = False
    attachments: list[int] = field(default_factory=list)  # photos to fetch from the channel

    def to_json(self) -> dict[str, Any]:
        """What is kept to answer again (`conversations.flow.handle`): screens and toast."""
        return {
            "screens": [{"text": s.text, "buttons": s.buttons} for s in self.screens],
            "edit_first": self.edit_first,
            "toast": self.toast,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Outcome:
        screens = [
            Screen(
                str(s.get("text", "")),
                [[(str(label), str(data)) for label, data in row] for row in s.get("buttons", [])],
            )
            for s in raw.get("screens", [])
            if isinstance(s, dict)
        ]
        toast = raw.get("toast")
        return cls(
            screens=screens,
            edit_first=bool(raw.get("edit_first")),
            toast=toast if isinstance(toast, str) else None,
        )


@dataclass(frozen=True)
class FlowConfig:
    tz: ZoneInfo
    area_name: str
    case_policy: CasePolicy
    pseudonym_key: str  # PSEUDONYM_KEY: survey responses' respondent keys (core.surveys)
    outbox_retention_days: int = 90  # told to citizens in the privacy notice
    # The composition root's clock (`Policies.clock`): every moment an update records or
    # compares against is read from it.
    clock: Callable[[], datetime] = utcnow


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
        """The text of `key` in the citizen's language; a channel's own wording where the
        catalog has one (`<key>@whatsapp`: the privacy texts name what that channel keeps)."""
        if self.st.channel is not Channel.telegram:
            variant = f"{key}@{self.st.channel.value}"
            text = t(self.lang, variant, **params)
            if text != variant:
                return text
        return t(self.lang, key, **params)


def in_flow(step: str) -> bool:
    return step.startswith(FLOW_PREFIXES)


# Navigation -------------------------------------------------------------------------------


def push_and_go(
    ctx: Ctx,
    step: str,
    *,
    qi: int | None = None,
    pf: int | None = None,
    page: int | None = None,
) -> None:
    """Go to `step`, remembering where we were (and on which page of a list) so "back" can
    return there; `page` starts the new step's list at that page."""
    st = ctx.st
    if in_flow(st.step):
        entry = [st.step, st.data.get("qi"), st.data.get("pf"), st.data.get("page")]
        st.data.setdefault("back", []).append(entry)
    st.step = step
    st.data["qi"] = qi
    st.data["pf"] = pf
    if page is not None:
        st.data["page"] = page


def go_back(ctx: Ctx) -> None:
    """The step before, on the page of its list the citizen left it (entries saved before
    the page was kept have three items)."""
    entry = ctx.st.data["back"].pop()
    ctx.st.step, ctx.st.data["qi"], ctx.st.data["pf"] = entry[0], entry[1], entry[2]
    if len(entry) > 3 and isinstance(entry[3], int):
        ctx.st.data["page"] = entry[3]


def to_menu(ctx: Ctx) -> None:
    ctx.st.step = "menu"
    ctx.st.data = {}


def edit(screen: Screen, **kw: object) -> Outcome:
    return Outcome(screens=[screen], edit_first=True, **kw)  # type: ignore[arg-type]


# Rendering --------------------------------------------------------------------------------

RENDERERS: dict[str, Callable[[Ctx], Screen]] = {}


def register(step: str) -> Callable[[Callable[[Ctx], Screen]], Callable[[Ctx], Screen]]:
    def deco(fn: Callable[[Ctx], Screen]) -> Callable[[Ctx], Screen]:
        RENDERERS[step] = fn
        return fn

    return deco


def render(ctx: Ctx) -> Screen:
    """The screen of the current step, from the saved state alone."""
    renderer = RENDERERS.get(ctx.st.step)
    return renderer(ctx) if renderer is not None else menu_screen(ctx)


def menu_screen(ctx: Ctx, prefix: str | None = None) -> Screen:
    buttons = [
        [(ctx.tr("menu.rate"), "m:rate")],
        [(ctx.tr("menu.report"), "m:report")],
        [(ctx.tr("menu.mine"), "m:mine")],
        [(ctx.tr("menu.language"), "m:lang"), (ctx.tr("menu.privacy"), "m:privacy")],
    ]
    return prefixed(Screen(ctx.tr("menu.title"), buttons), prefix)


def prefixed(screen: Screen, prefix: str | None) -> Screen:
    if prefix:
        screen.text = f"{prefix}\n\n{screen.text}"
    return screen


def with_hint(ctx: Ctx, key: str) -> Screen:
    return prefixed(render(ctx), ctx.tr(key))


def back_row(ctx: Ctx) -> list[list[Button]]:
    """Back (when there is a step before) and Menu: every step of a flow has a way out."""
    flow = ctx.st.step[:3]
    row: list[Button] = []
    if ctx.st.data.get("back"):
        row.append((ctx.tr("nav.back"), f"{flow}:back"))
    row.append((ctx.tr("nav.menu"), f"{flow}:home"))
    return [row]


def chosen(label: str, is_chosen: bool) -> str:
    """A button's label, marked when it is the answer given before (after Back)."""
    return f"✅ {label}" if is_chosen else label


def zone_label(tz: ZoneInfo) -> str:
    """The configured zone as people say it (WITA), else its key."""
    return ZONE_NAMES.get(tz.key, tz.key)


def leave_flow(ctx: Ctx) -> Outcome:
    """The Menu button of a flow step: the unsent answers go, the menu comes."""
    to_menu(ctx)
    return edit(menu_screen(ctx, prefix=ctx.tr("cancel.done")))


def pager(ctx: Ctx, page: int, pages: int, data_prefix: str) -> list[Button]:
    nav: list[Button] = []
    if page > 0:
        nav.append((ctx.tr("nav.prev"), f"{data_prefix}:{page - 1}"))
    if page + 1 < pages:
        nav.append((ctx.tr("nav.next"), f"{data_prefix}:{page + 1}"))
    return nav


def current_page(ctx: Ctx) -> int:
    return max(int(ctx.st.data.get("page") or 0), 0)


def unit_buttons(ctx: Ctx, flow: str) -> tuple[list[list[Button]], int, int] | None:
    """A page of active units as buttons `<flow>:u:<id>` plus paging; None if no units."""
    units = ctx.session.exec(
        select(Unit).where(Unit.active == True).order_by(col(Unit.name))  # noqa: E712
    ).all()
    if not units:
        return None
    pages = (len(units) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(current_page(ctx), pages - 1)
    chunk = units[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    picked = ctx.st.data.get("unit_id")
    buttons: list[list[Button]] = [
        [(chosen(u.name, u.id == picked), f"{flow}:u:{u.id}")] for u in chunk
    ]
    nav = pager(ctx, page, pages, f"{flow}:pg")
    if nav:
        buttons.append(nav)
    return buttons, page, pages


def active_officers(ctx: Ctx, unit_id: int, offset: int, limit: int) -> Sequence[Officer]:
    return masterdata.active_officers(ctx.session, unit_id, offset=offset, limit=limit)


def officer_buttons(ctx: Ctx, flow: str, unit_id: int) -> list[list[Button]]:
    """A page of the unit's active officers as `<flow>:o:<id>` buttons, with paging."""
    page = current_page(ctx)
    officers = active_officers(ctx, unit_id, page * PAGE_SIZE, PAGE_SIZE + 1)
    if not officers and page:
        ctx.st.data["page"] = page = 0
        officers = active_officers(ctx, unit_id, 0, PAGE_SIZE + 1)
    picked = ctx.st.data.get("officer_id")
    buttons: list[list[Button]] = [
        [(chosen(o.name, o.id == picked), f"{flow}:o:{o.id}")] for o in officers[:PAGE_SIZE]
    ]
    pages = page + (2 if len(officers) > PAGE_SIZE else 1)
    nav = pager(ctx, page, pages, f"{flow}:opg")
    if nav:
        buttons.append(nav)
    return buttons


def page_button(ctx: Ctx, args: Sequence[str]) -> Outcome | None:
    """A press on a paging button: show that page of the current step."""
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 4:
        return None
    ctx.st.data["page"] = int(args[0])
    return edit(render(ctx))
