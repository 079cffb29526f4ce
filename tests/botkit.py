"""Drive the real bot: real `Update`s through the real `Application`, with a Bot API
transport (a `telegram.request.BaseRequest`) that answers like Telegram and records calls."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from PIL import Image
from telegram import Update
from telegram.error import NetworkError
from telegram.ext import Application
from telegram.request import RequestData

from bot.local_transport import LocalBotApi

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

BOT_ID = 123456
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "ASN Feedback", "username": "asnfb_bot"}


@dataclass
class ChatMessage:
    message_id: int
    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)


class FakeTelegram(LocalBotApi):
    """Answers Bot API calls as Telegram would, keeps each chat's messages, records every
    call, and can be told to fail (429, 403, network errors)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.chats: dict[int, dict[int, ChatMessage]] = {}
        self._ids = itertools.count(1000)
        self.callback_answers: list[dict[str, Any]] = []
        # Scripted trouble for sendMessage: ("429", seconds), ("403", ""), ("net", "")
        self.failures: list[tuple[str, object]] = []
        self.errors_returned: list[int] = []
        self.timer: Any = None  # a callable giving the (fake) time of each call
        self.send_times: list[float] = []
        self.files: dict[str, bytes] = {}  # file_id -> content served by getFile + download

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
        if "/file/bot" in url:  # a file download
            file_path = url.split("/file/bot", 1)[1].split("/", 1)[1]
            return 200, self.files[file_path.rsplit("/", 1)[-1]]
        api_method = url.rsplit("/", 1)[-1]
        params = json.loads(request_data.json_payload) if request_data else {}
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "{[":
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        if api_method in ("sendMessage", "sendPhoto") and self.failures:
            kind, value = self.failures.pop(0)
            if kind == "net":
                raise NetworkError("connection reset by peer")
            code = int(kind)
            self.errors_returned.append(code)
            body: dict[str, Any] = {
                "ok": False,
                "error_code": code,
                "description": {
                    429: f"Too Many Requests: retry after {value}",
                    403: "Forbidden: bot was blocked by the user",
                    400: "Bad Request: chat not found",
                    502: "Bad Gateway",
                }[code],
            }
            if code == 429:
                body["parameters"] = {"retry_after": value}
            return code, json.dumps(body).encode()
        self.calls.append((api_method, params))
        if api_method in ("sendMessage", "sendPhoto") and self.timer is not None:
            self.send_times.append(self.timer())
        result = self.answer(api_method, params)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            msg = ChatMessage(next(self._ids), params["text"], _buttons(params))
            self.chats.setdefault(chat_id, {})[msg.message_id] = msg
            return self._message_json(chat_id, msg)
        if method == "sendPhoto":
            chat_id = int(params["chat_id"])
            msg = ChatMessage(next(self._ids), "[photo] " + params.get("caption", ""))
            self.chats.setdefault(chat_id, {})[msg.message_id] = msg
            return {
                **self._message_json(chat_id, msg),
                "photo": [
                    {
                        "file_id": f"p{msg.message_id}",
                        "file_unique_id": "u",
                        "width": 800,
                        "height": 400,
                    }
                ],
            }
        if method == "editMessageText":
            chat_id = int(params["chat_id"])
            known = self.chats.setdefault(chat_id, {}).get(int(params["message_id"]))
            msg = known or ChatMessage(int(params["message_id"]), "")
            self.chats[chat_id][msg.message_id] = msg
            msg.text = params["text"]
            msg.buttons = _buttons(params)
            return self._message_json(chat_id, msg)
        if method == "answerCallbackQuery":
            self.callback_answers.append(params)
            return True
        if method == "getFile":
            file_id = params["file_id"]
            data = self.files[file_id]
            return {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(data),
                "file_path": f"photos/{file_id}",
            }
        if method in ("setMyCommands", "deleteWebhook", "setWebhook", "deleteMessage"):
            return True
        if method == "getUpdates":
            return []
        raise AssertionError(f"the bot called an unexpected method {method}")

    @staticmethod
    def _message_json(chat_id: int, msg: ChatMessage) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": msg.message_id,
            "date": 1_800_000_000,
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            "text": msg.text,
        }
        if msg.buttons:
            out["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": label, "callback_data": data} for label, data in row]
                    for row in msg.buttons
                ]
            }
        return out

    def sent_to(self, chat_id: int, method: str | None = None) -> list[dict[str, Any]]:
        return [
            p
            for m, p in self.calls
            if (method is None or m == method) and int(p.get("chat_id", 0) or 0) == chat_id
        ]


def _buttons(params: dict[str, Any]) -> list[list[tuple[str, str]]]:
    markup = params.get("reply_markup") or {}
    return [
        [(b["text"], b["callback_data"]) for b in row] for row in markup.get("inline_keyboard", [])
    ]


_update_ids = itertools.count(1)


class ScriptedCitizen:
    """A person in a private chat with the bot: types, sends stickers, presses buttons."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        tg: FakeTelegram,
        user_id: int,
        first_name: str = "Ani",
    ) -> None:
        self.app = app
        self.tg = tg
        self.user_id = user_id
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "id",
        }
        self._message_ids = itertools.count(1)
        self.last_update: dict[str, Any] | None = None

    # -- what the citizen sees -------------------------------------------------------------
    def messages(self) -> list[ChatMessage]:
        return list(self.tg.chats.get(self.user_id, {}).values())

    def screen(self) -> ChatMessage:
        """The newest message of the bot (the one to read and press)."""
        msgs = self.messages()
        assert msgs, "the bot has said nothing yet"
        return max(msgs, key=lambda m: m.message_id)

    def buttons(self) -> list[tuple[str, str]]:
        return [b for row in self.screen().buttons for b in row]

    def labels(self) -> list[str]:
        return [label for label, _ in self.buttons()]

    # -- what the citizen does ---------------------------------------------------------------
    def _chat(self) -> dict[str, Any]:
        return {"id": self.user_id, "type": "private", "first_name": self.user["first_name"]}

    async def send_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(_update_ids), **payload}
        self.last_update = update
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return update

    async def replay(self, update: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))

    def _message(self, **fields: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": 1_800_000_000,
            "chat": self._chat(),
            "from": self.user,
            **fields,
        }

    async def say(self, text: str) -> None:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])}
            ]
        await self.send_update({"message": self._message(**fields)})

    async def send_sticker(self) -> None:
        sticker = {
            "file_id": "CAACAgIAAxk",
            "file_unique_id": "AgAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        await self.send_update({"message": self._message(sticker=sticker)})

    async def send_photo(self, file_id: str = "AgACAgIAAxk") -> None:
        photo = [
            {"file_id": f"{file_id}-small", "file_unique_id": "AQAD", "width": 90, "height": 90},
            {"file_id": file_id, "file_unique_id": "AQAE", "width": 800, "height": 600},
        ]
        await self.send_update({"message": self._message(photo=photo)})

    async def send_location(self, latitude: float, longitude: float) -> None:
        location = {"latitude": latitude, "longitude": longitude}
        await self.send_update({"message": self._message(location=location)})

    async def press_data(self, data: str, message_id: int | None = None) -> None:
        msg_id = message_id if message_id is not None else self.screen().message_id
        msg = self.tg.chats.get(self.user_id, {}).get(msg_id)
        message = {
            "message_id": msg_id,
            "date": 1_800_000_000,
            "chat": self._chat(),
            "from": BOT_USER,
            "text": msg.text if msg else "...",
        }
        query = {
            "id": str(next(_update_ids)),
            "from": self.user,
            "chat_instance": "ci",
            "data": data,
            "message": message,
        }
        await self.send_update({"callback_query": query})

    async def press(self, label_part: str) -> None:
        """Press the button of the newest message whose label contains `label_part`."""
        matches = [(lbl, d) for lbl, d in self.buttons() if label_part.lower() in lbl.lower()]
        assert matches, f"no button {label_part!r} in {self.labels()} ({self.screen().text!r})"
        await self.press_data(matches[0][1])


class BotUnderTest(NamedTuple):
    """The real bot `Application` (initialized) and the fake Telegram it talks to: the
    `bot` fixture of tests/conftest.py."""

    app: Application[Any, Any, Any, Any, Any, Any]
    tg: FakeTelegram

    def chat(self, user_id: int) -> ScriptedCitizen:
        """A citizen (or staff member) in a private chat with the bot."""
        return ScriptedCitizen(self.app, self.tg, user_id)


async def onboard(c: ScriptedCitizen, lang: str = "id", start: str = "/start") -> None:
    """`start` (/start, or a deep link), a language, and consent: the main menu."""
    await c.say(start)
    assert "Pilih bahasa" in c.screen().text or "Choose your language" in c.screen().text
    await c.press("Bahasa Indonesia" if lang == "id" else "English")
    await c.press("setuju" if lang == "id" else "I agree")


STORY = "Petugas loket meminta uang Rp50.000 supaya KTP-el saya cepat selesai."


async def file_quick(c: ScriptedCitizen, unit: str = "Kecamatan Alak") -> str:
    """From the main menu, a report without officer, photo or location; its reference."""
    await c.press("Laporkan masalah")
    await c.press(unit)
    await c.press("Tidak patut")
    await c.say(STORY)
    await c.press("Lewati")  # photos
    await c.press("Lewati")  # location
    await c.press("Biasa")
    await c.press("Kirim laporan")
    sent = [m.text for m in c.messages() if "Nomor laporan" in m.text][-1]
    return sent.split("Nomor laporan: ")[1].split()[0]


async def deliver_all(dispatcher: Dispatcher) -> int:
    """Send everything the outbox holds now; how many messages went out."""
    total = 0
    while sent := await dispatcher.run_once():
        total += sent
    return total


def jpeg_with_gps() -> bytes:
    """A photo whose EXIF names a camera and a GPS position (which must not be kept)."""
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "S"
    gps[2] = (10.0, 9.0, 36.0)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def start_update(update_id: int, user_id: int) -> dict[str, Any]:
    """The JSON of a `/start` message from `user_id` in their private chat."""
    user = {"id": user_id, "is_bot": False, "first_name": "W"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_800_000_000,
            "text": "/start",
            "from": user,
            "chat": {"id": user_id, "type": "private"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def survey_updates(user_id: int, unit_id: int, first_update: int = 0) -> list[dict[str, Any]]:
    """A citizen's whole SKM survey as 16 updates: /start, language, consent, menu, a unit
    without services or officers, nine answers, no comment, no profile. Update ids count up
    from `first_update` (callers that number updates on arrival replace them)."""
    user = {"id": user_id, "is_bot": False, "first_name": "W"}
    chat = {"id": user_id, "type": "private"}
    steps = [
        "lang:id",
        "consent:yes",
        "m:rate",
        f"svy:u:{unit_id}",
        *[f"svy:a:{i}:3" for i in range(9)],
        "svy:c:skip",
        "svy:p:skip",
    ]
    out = [start_update(first_update, user_id)]
    for n, data in enumerate(steps, start=1):
        message = {"message_id": 2, "date": 0, "chat": chat, "from": BOT_USER, "text": "q"}
        out.append(
            {
                "update_id": first_update + n,
                "callback_query": {
                    "id": f"{user_id}-{n}",
                    "from": user,
                    "chat_instance": "s",
                    "data": data,
                    "message": message,
                },
            }
        )
    return out
