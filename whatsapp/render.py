"""Screens as WhatsApp messages, within WhatsApp's limits: the WhatsApp channel's one renderer.

A `Screen` (a text and rows of `(label, data)` buttons, see conversations/engine.py) becomes
one or more Cloud API message payloads (without "messaging_product" and "to"); the data of
every button comes back as the id of the reply (`interactive.button_reply.id` or
`interactive.list_reply.id` in the webhook), which the channel hands to the conversations as
a `callback`. Telegram's screens are not changed: this only draws them.

WhatsApp's limits, as Meta documents them (checked with the `search` tool):

- Reply buttons ("Interactive reply buttons messages", developers.facebook.com/documentation/
  business-messaging/whatsapp/messages/interactive-reply-buttons-messages; the reply button
  object in the WhatsApp Node.js SDK reference, whatsapp.github.io/WhatsApp-Nodejs-SDK/
  api-reference/types/ButtonObject): at most 3 buttons, a title of at most 20 characters,
  unique within the message and not empty; an id of at most 256 characters; a body of at
  most 1,024 characters, a header and footer of at most 60.
- List messages ("Interactive list messages | Developer Documentation", Meta's page of
  Nov 3, 2025 as mirrored at support.chatarchitect.com/books/meta-whatsapp/page/interactive-
  list-messages-developer-documentation): up to 10 sections with at most 10 rows in all; a
  row's title at most 24 characters, its description at most 72, its id at most 200; the
  button label at most 20 characters; a section's title at most 24; a text header and the
  footer at most 60. That page allows a list's body 4,096 characters; interactive bodies are
  kept to 1,024 here all the same (the reply buttons' limit, and older revisions' for lists).
- Text messages: a body of at most 4,096 characters.

Characters are counted as UTF-16 code units, the stricter count (an emoji outside the Basic
Multilingual Plane, or one with a variation selector, counts twice).

How a screen is drawn:

- no buttons: a text, split at 4,096 on paragraph (else line, else word) boundaries;
- 1-3 buttons whose labels fit 20: reply buttons, the screen's text as the body; a text
  longer than 1,024 goes first as its own text message(s), then the buttons with a short
  prompt;
- 4-10 buttons (or fewer whose labels do not fit): one list message; a label longer than 24
  is shortened with "…" as the row's title and given in full as its description (itself
  shortened to 72);
- more than 10: the choices (with the page arrows when they fit) as list messages of at most
  10 rows, then the way out ("Kembali", "Menu", "Laporan saya": `<flow>:back`,
  `<flow>:home`, `case:list`, and the page arrows `<flow>:pg:N` / `<flow>:opg:N` when they
  did not fit with the choices) as a second message: reply buttons if they fit, else a list.

Every screen of the conversations fits this way (tests/test_whatsapp_render.py drives each
flow in both languages and checks each payload), so the citizen never has to type a number
for a choice: there is no numbered-text fallback to map back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conversations.engine import Button, Outcome, Screen
from conversations.notices import render as render_notice_text
from core.outbox.models import OutboundMessage
from core.shared.i18n import translate

LOCALES_DIR = Path(__file__).resolve().parent / "locales"

TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_MAX = 60
FOOTER_MAX = 60
REPLY_BUTTONS_MAX = 3
REPLY_TITLE_MAX = 20
REPLY_ID_MAX = 256
LIST_ROWS_MAX = 10
LIST_BUTTON_MAX = 20
SECTION_TITLE_MAX = 24
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200

ELLIPSIS = "…"
# The way out of a screen, by its button's data: Back, Menu, back to "my reports".
EXIT_RE = re.compile(r"^[a-z]{1,8}:(back|home)$|^case:list$")
# The page arrows of a list of units or officers.
PAGER_RE = re.compile(r"^[a-z]{1,8}:o?pg:[0-9]{1,4}$")

Payload = dict[str, Any]

__all__ = [
    "render_notice",
    "render_outcome",
    "render_screen",
    "width",
]


def tr(lang: str, key: str, **params: object) -> str:
    return translate(LOCALES_DIR, "whatsapp", lang, key, **params)


def render_screen(screen: Screen, lang: str) -> list[Payload]:
    """One screen as the message payloads that draw it (without "messaging_product" and
    "to"): texts, reply buttons or list messages, each within WhatsApp's limits. A button's
    data comes back as the reply's id."""
    text = screen.text.strip() or "-"
    buttons = _unique([b for row in screen.buttons for b in row])
    if not buttons:
        return [_text(part) for part in split_text(text, TEXT_MAX)]
    if width(text) <= INTERACTIVE_BODY_MAX:
        first: list[Payload] = []
        body = text
    else:  # the text on its own first, then the choices with a short prompt
        first = [_text(part) for part in split_text(text, TEXT_MAX)]
        body = tr(lang, "wa.prompt.choose")
    if len(buttons) <= LIST_ROWS_MAX:
        return [*first, _choices(body, buttons, lang)]
    exits = [b for b in buttons if EXIT_RE.match(b[1])]
    pagers = [b for b in buttons if PAGER_RE.match(b[1])]
    choices = [b for b in buttons if b not in exits and b not in pagers]
    if len(choices) + len(pagers) <= LIST_ROWS_MAX:
        choices, ways_out = choices + pagers, exits
    else:
        ways_out = pagers + exits
    groups = _balanced(choices, LIST_ROWS_MAX) if choices else []
    if len(ways_out) > LIST_ROWS_MAX:  # (no screen has this many ways out; nothing is lost)
        groups += _balanced(ways_out, LIST_ROWS_MAX)
        ways_out = []
    payloads = list(first)
    for n, group in enumerate(groups, start=1):
        prompt = body if n == 1 else tr(lang, "wa.prompt.more", n=n, total=len(groups))
        payloads.append(_list(prompt, group, lang))
    if ways_out:
        key = "wa.prompt.nav" if any(PAGER_RE.match(b[1]) for b in ways_out) else "wa.prompt.exit"
        prompt = tr(lang, key) if groups else body
        payloads.append(_choices(prompt, ways_out, lang))
    return payloads


def render_outcome(outcome: Outcome, lang: str) -> list[Payload]:
    """Every screen of an outcome, in order. WhatsApp cannot change a message sent before: a
    screen Telegram draws in place comes as a new one. WhatsApp has no passing note either:
    a toast alone (`case.already_rated`) comes as a text; a toast with screens does not, as
    the screens say it already (a stale button's: `hint.stale_button` heads the screen)."""
    payloads: list[Payload] = []
    if outcome.toast and outcome.toast.strip() and not outcome.screens:
        payloads.extend(_text(part) for part in split_text(outcome.toast.strip(), TEXT_MAX))
    for screen in outcome.screens:
        payloads.extend(render_screen(screen, lang))
    return payloads


def render_notice(message: OutboundMessage) -> list[Payload]:
    """An outbox message (`conversations.notices.render`: its text and buttons in the
    recipient's language) as free-form messages, for inside the 24-hour window."""
    rendered = render_notice_text(message)
    return render_screen(Screen(rendered.text, rendered.buttons), message.language)


# Message types ----------------------------------------------------------------------------


def _text(body: str) -> Payload:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def _choices(body: str, buttons: Sequence[Button], lang: str) -> Payload:
    """Reply buttons when they can be (at most 3, each title fits and is unique), else a
    list message."""
    titles = [label.strip() for label, _ in buttons]
    fits = all(0 < width(title) <= REPLY_TITLE_MAX for title in titles)
    if len(buttons) <= REPLY_BUTTONS_MAX and fits and len(set(titles)) == len(titles):
        return _reply_buttons(body, buttons)
    return _list(body, buttons, lang)


def _reply_buttons(body: str, buttons: Sequence[Button]) -> Payload:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": shorten(body, INTERACTIVE_BODY_MAX)},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": data, "title": label.strip()}}
                    for label, data in buttons
                ]
            },
        },
    }


def _list(body: str, buttons: Sequence[Button], lang: str) -> Payload:
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": shorten(body, INTERACTIVE_BODY_MAX)},
            "action": {
                "button": shorten(tr(lang, "wa.list.button"), LIST_BUTTON_MAX),
                "sections": [
                    {
                        "title": shorten(tr(lang, "wa.list.section"), SECTION_TITLE_MAX),
                        "rows": [_row(label, data) for label, data in buttons],
                    }
                ],
            },
        },
    }


def _row(label: str, data: str) -> Payload:
    """A list row: the label as its title; a longer label shortened there and given in full
    as the description (a label longer than 72 there with its middle left out: long names
    of units often differ only at their end)."""
    label = " ".join(label.split()) or "-"
    if width(label) <= ROW_TITLE_MAX:
        return {"id": data, "title": label}
    return {
        "id": data,
        "title": shorten(label, ROW_TITLE_MAX),
        "description": shorten_middle(label, ROW_DESCRIPTION_MAX),
    }


# Lengths ----------------------------------------------------------------------------------


def width(text: str) -> int:
    """A text's length as WhatsApp may count it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, units: int) -> str:
    """The longest start of `text` at most `units` UTF-16 code units long."""
    total = 0
    for i, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > units:
            return text[:i]
    return text


def shorten(text: str, limit: int) -> str:
    """`text` within `limit`, shortened with "…" at a word's end when one is near."""
    if width(text) <= limit:
        return text
    head = _cut(text, limit - width(ELLIPSIS))
    space = head.rfind(" ")
    if space >= len(head) // 2:  # a word's end, not too far back
        head = head[:space]
    # Nor a dangling separator, variation selector or joiner before the "…".
    return head.rstrip(" /-,:;(·\ufe0f\u200d") + ELLIPSIS


def shorten_middle(text: str, limit: int) -> str:
    """`text` within `limit`: its start and its end, with " … " for what is left out."""
    if width(text) <= limit:
        return text
    gap = " … "
    tail_room = (limit - width(gap)) // 3
    tail = _cut(text[::-1], tail_room)[::-1]
    space = tail.find(" ")
    if 0 <= space < len(tail) // 3:  # start the end at a word
        tail = tail[space + 1 :]
    head = _cut(text, limit - width(gap) - width(tail))
    space = head.rfind(" ")
    if space >= len(head) * 2 // 3:
        head = head[:space]
    return head.rstrip() + gap + tail.lstrip()


def split_text(text: str, limit: int) -> list[str]:
    """`text` as parts of at most `limit`, split at paragraphs, else lines, else words, else
    anywhere; nothing is dropped but the whitespace at the splits."""
    return [part for part in _split(text, limit, ("\n\n", "\n", " ")) if part.strip()]


def _split(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    if width(text) <= limit:
        return [text]
    if not separators:
        parts: list[str] = []
        while text:
            head = _cut(text, limit)
            parts.append(head)
            text = text[len(head) :]
        return parts
    sep, rest = separators[0], separators[1:]
    pieces: list[str] = []
    for piece in text.split(sep):
        pieces.extend(_split(piece, limit, rest))
    parts = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{sep}{piece}" if current else piece
        if width(candidate) <= limit:
            current = candidate
        else:
            if current:
                parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts


# Grouping ---------------------------------------------------------------------------------


def _unique(buttons: list[Button]) -> list[Button]:
    """Each button's data once (a reply's id must be unique within its message)."""
    seen: set[str] = set()
    kept: list[Button] = []
    for label, data in buttons:
        if data not in seen:
            seen.add(data)
            kept.append((label, data))
    return kept


def _balanced(buttons: list[Button], size: int) -> list[list[Button]]:
    """`buttons` in as few groups of at most `size` as can be, of nearly equal sizes (11
    choices as 6 and 5, not 10 and a lonely 1)."""
    count = -(-len(buttons) // size)
    base, extra = divmod(len(buttons), count)
    groups: list[list[Button]] = []
    start = 0
    for i in range(count):
        end = start + base + (1 if i < extra else 0)
        groups.append(buttons[start:end])
        start = end
    return groups
