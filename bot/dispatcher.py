"""Telegram's sender for core's outbox dispatcher (`core.outbox.dispatch`).

Renders an outbox message in its recipient's language (`conversations.notices`) and sends
it through the Bot API, under Telegram's flood limits (30 messages/s overall, 20/min per
chat). A 429 pauses Telegram for `retry_after`; network errors are retried with backoff;
403 (the user blocked the bot) and 400 fail the message for good.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from conversations.notices import render
from core.outbox.dispatch import (
    ChannelLimits,
    Dispatcher,
    DispatchLimits,
    NotSentYet,
    SlowDown,
    Undeliverable,
)
from core.outbox.models import OutboundMessage
from core.people.models import Channel

__all__ = ["DispatchLimits", "Dispatcher", "TelegramSender", "retry_after_seconds"]

CAPTION_LIMIT = 1024


def retry_after_seconds(exc: RetryAfter) -> float:
    """Seconds to wait: an int in PTB 22, a timedelta in later versions; both work."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    channel = Channel.telegram

    def __init__(self, bot: Bot, limits: ChannelLimits | None = None) -> None:
        self.bot = bot
        self._limits = limits or ChannelLimits()

    @property
    def limits(self) -> ChannelLimits:
        return self._limits

    async def send(self, message: OutboundMessage) -> str | None:
        rendered = render(message)
        markup = None
        if rendered.buttons:
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                    for row in rendered.buttons
                ]
            )
        chat_id = int(message.address)
        try:
            if message.photo:
                caption = rendered.text[:CAPTION_LIMIT]
                result = await self.bot.send_photo(
                    chat_id, photo=message.photo, caption=caption, reply_markup=markup
                )
            else:
                result = await self.bot.send_message(chat_id, rendered.text, reply_markup=markup)
        except RetryAfter as exc:
            raise SlowDown(retry_after_seconds(exc)) from exc
        except (Forbidden, BadRequest) as exc:
            raise Undeliverable(str(exc)) from exc
        except (TelegramError, OSError) as exc:
            raise NotSentYet(str(exc)) from exc
        return str(result.message_id)


def telegram_dispatcher(
    engine: Any, bot: Bot, limits: DispatchLimits | None = None, **kw: Any
) -> Dispatcher:
    """A dispatcher with Telegram as its only channel (tests and benchmarks)."""
    return Dispatcher(engine, {Channel.telegram: TelegramSender(bot)}, limits, **kw)
