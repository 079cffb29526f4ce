"""A Bot API stand-in inside the process: the real Application talks to it instead of
Telegram. It keeps each chat's messages and reports every new or edited one; the terminal
simulator (`asn-feedback chat`) prints them."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 1, "is_bot": True, "first_name": "ASN Feedback", "username": "asn_feedback_bot"}


@dataclass
class LocalMessage:
    message_id: int
    chat_id: int
    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)


class LocalBotApi(BaseRequest):
    def __init__(
        self,
        on_message: Callable[[LocalMessage, bool], None] | None = None,
        *,
        latency: float = 0.0,
    ) -> None:
        self.messages: dict[int, LocalMessage] = {}
        self.on_message = on_message
        self.latency = latency  # seconds each call takes (a benchmark's stand-in for Telegram)
        self._ids = itertools.count(1)

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if self.latency:
            await asyncio.sleep(self.latency)
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        result = self._answer(api_method, params)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in ("sendMessage", "sendPhoto", "editMessageText"):
            chat_id = int(params["chat_id"])
            text = str(params.get("text") or params.get("caption") or "")
            buttons = _buttons(params.get("reply_markup"))
            edited = method == "editMessageText"
            message_id = int(params["message_id"]) if edited else next(self._ids)
            message = LocalMessage(message_id, chat_id, text, buttons)
            self.messages[message_id] = message
            if self.on_message is not None:
                self.on_message(message, edited)
            return {
                "message_id": message_id,
                "date": 0,
                "text": text,
                "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private"},
            }
        return True  # answerCallbackQuery, setMyCommands, ...


def _buttons(markup: Any) -> list[list[tuple[str, str]]]:
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return []
    return [
        [(str(b.get("text", "")), str(b.get("callback_data", ""))) for b in row]
        for row in markup.get("inline_keyboard", [])
    ]
