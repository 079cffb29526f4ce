"""`asn-feedback chat`: the real bot in a terminal. What the bot sends is printed, keyboards
as numbered options; what you type becomes a real Telegram Update."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from dataclasses import replace
from typing import Any

from telegram import Update

from bot import build_application
from bot.local_transport import BOT_USER, LocalBotApi, LocalMessage
from core.policies import Policies

HELP = "(type a number to press a button, text to answer, /cancel or /help; Ctrl-D quits)"


class TerminalChat:
    def __init__(self, policies: Policies, user_id: int) -> None:
        self.user = {"id": user_id, "is_bot": False, "first_name": "Warga", "language_code": "id"}
        self.chat = {"id": user_id, "type": "private", "first_name": "Warga"}
        self.transport = LocalBotApi(self._show)
        # The same policies, with a token the simulator's transport accepts.
        local = policies.settings.model_copy(update={"telegram_bot_token": "1:local-simulator"})
        self.app = build_application(replace(policies, settings=local), request=self.transport)
        self.ids = itertools.count(1)
        self.current: LocalMessage | None = None

    def _show(self, message: LocalMessage, edited: bool) -> None:
        print()
        print(message.text)
        options = [b for row in message.buttons for b in row]
        for number, (label, _) in enumerate(options, start=1):
            print(f"  [{number}] {label}")
        if options:
            self.current = message
        sys.stdout.flush()

    async def send(self, text: str) -> None:
        options = [b for row in self.current.buttons for b in row] if self.current else []
        if text.isdigit() and options and 1 <= int(text) <= len(options):
            assert self.current is not None
            data = options[int(text) - 1][1]
            message = {
                "message_id": self.current.message_id,
                "date": 0,
                "chat": self.chat,
                "from": BOT_USER,
                "text": self.current.text,
            }
            payload: dict[str, Any] = {
                "callback_query": {
                    "id": str(next(self.ids)),
                    "from": self.user,
                    "chat_instance": "terminal",
                    "data": data,
                    "message": message,
                }
            }
        else:
            msg: dict[str, Any] = {
                "message_id": next(self.ids) + 100_000,
                "date": 0,
                "chat": self.chat,
                "from": self.user,
                "text": text,
            }
            if text.startswith("/"):
                msg["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                ]
            payload = {"message": msg}
        update = Update.de_json({"update_id": self._update_id(), **payload}, self.app.bot)
        await self.app.process_update(update)

    def _update_id(self) -> int:
        """Unique across runs of the simulator on the same database (ids are remembered)."""
        return time.time_ns() // 1000 + next(self.ids)


async def run_chat(policies: Policies, user_id: int, lang: str | None) -> None:
    chat = TerminalChat(policies, user_id)
    await chat.app.initialize()
    print(f"asn-feedback bot simulator, user {user_id} {HELP}")
    try:
        await chat.send("/start")
        if (
            lang
            and chat.current
            and any(d == f"lang:{lang}" for r in chat.current.buttons for _, d in r)
        ):
            options = [d for row in chat.current.buttons for _, d in row]
            await chat.send(str(options.index(f"lang:{lang}") + 1))
        while True:
            try:
                line = await asyncio.to_thread(input, "> ")
            except EOFError:
                break
            line = line.strip()
            if line:
                await chat.send(line)
    finally:
        await chat.app.shutdown()
        print("\nbye")
