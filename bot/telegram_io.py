"""Translate Telegram updates into flow events, and flow screens into Bot API calls."""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, MessageEntityType, MessageLimit
from telegram.error import BadRequest

from conversations.engine import Inbound, Outcome, Screen
from core.people.models import Channel

log = logging.getLogger(__name__)


def to_inbound(update: Update, bot_username: str | None) -> Inbound | None:
    """None for updates the bot does not answer (groups, channels, service updates)."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None or chat.type != ChatType.PRIVATE or user.is_bot:
        return None
    ids = (Channel.telegram, str(update.update_id), str(chat.id))
    if update.callback_query is not None:
        return Inbound(*ids, kind="callback", data=update.callback_query.data or "")
    message = update.message
    if message is None:
        return Inbound(*ids, kind="other")  # edited messages and the like
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return Inbound(*ids, kind="photo", data=largest.file_id)
    if message.location is not None:
        loc = message.location
        return Inbound(*ids, kind="location", latitude=loc.latitude, longitude=loc.longitude)
    text = message.text
    if text is None:
        return Inbound(*ids, kind="other")
    entities = message.entities or ()
    if text.startswith("/") and any(
        e.type == MessageEntityType.BOT_COMMAND and e.offset == 0 for e in entities
    ):
        head, _, args = text.partition(" ")
        name, _, target = head[1:].partition("@")
        if target and bot_username and target.lower() != bot_username.lower():
            name = ""  # a private chat is ours: "/cmd@otherbot" gets the unknown-command hint
        return Inbound(*ids, kind="command", command=name.lower(), args=args)
    return Inbound(*ids, kind="text", text=text)


def _markup(screen: Screen) -> InlineKeyboardMarkup | None:
    if not screen.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in screen.buttons
        ]
    )


def _fit(text: str) -> str:
    limit = MessageLimit.MAX_TEXT_LENGTH
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def deliver(update: Update, outcome: Outcome) -> None:
    """Answer the button press (if any) while showing the screens: edit the first in place.

    The answer only stops the button's spinner (and shows the toast, if any), so it goes at
    the same time as the screens: a press costs one round trip to Telegram, not two."""
    query = update.callback_query
    answering = asyncio.ensure_future(_answer(query, outcome.toast)) if query else None
    try:
        await _show(update, outcome)
    finally:
        if answering is not None:
            await answering


async def _answer(query: CallbackQuery, toast: str | None) -> None:
    try:
        await query.answer(toast)
    except BadRequest as exc:  # query too old: the press is still handled
        log.info("could not answer callback query: %s", exc)


async def _show(update: Update, outcome: Outcome) -> None:
    query = update.callback_query
    chat = update.effective_chat
    if chat is None:
        return
    screens = list(outcome.screens)
    if screens and outcome.edit_first and query is not None and query.message is not None:
        first = screens.pop(0)
        try:
            await query.edit_message_text(_fit(first.text), reply_markup=_markup(first))
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                screens.insert(0, first)
    for screen in screens:
        await chat.send_message(_fit(screen.text), reply_markup=_markup(screen))
