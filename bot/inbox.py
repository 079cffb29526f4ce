"""Telegram updates into core's inbox (`core.chat.inbox`): stripped of names, keyed by
the update id, tied to the private chat they came from."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from core.chat.inbox import Arrival, store_inbound, unprocessed
from core.people.models import Channel

# Keys dropped wherever they occur in an update: who the people are, not what they did.
_DROPPED = frozenset(
    {"last_name", "username", "active_usernames", "language_code", "is_premium", "vcard"}
)
# Keys Telegram always sends (the Bot API library requires them) that hold a name or a
# phone number: kept, but empty. `first_name` of a chat is optional and dropped instead.
_EMPTIED = frozenset({"sender_user_name", "phone_number"})


def strip_personal(value: Any) -> Any:
    """A copy of a raw update without names: `first_name`, `last_name`, `username` of every
    user and chat in it (sender, chat, forwarded-from, mentioned users, contacts...)."""
    if isinstance(value, list):
        return [strip_personal(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in _DROPPED:
            continue
        if key in _EMPTIED:
            out[key] = ""
        elif key == "first_name":
            if "is_bot" in value or "phone_number" in value:  # a User or a Contact
                out[key] = ""
        else:
            out[key] = strip_personal(item)
    return out


def chat_of(raw: dict[str, Any]) -> str | None:
    """The id of the chat an update belongs to (a private chat's is its user's id)."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
        message = raw.get(key)
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return str(message["chat"].get("id"))
    query = raw.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return str(message["chat"].get("id"))
        sender = query.get("from")
        if isinstance(sender, dict):
            return str(sender.get("id"))
    return None


def store_updates(engine: Engine, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Persist raw updates, without names; returns those not seen before (in arrival order),
    as stored: the bot handles exactly what a replay would. Malformed ones are skipped."""
    arrivals = [
        Arrival(message_id=str(raw["update_id"]), address=chat_of(raw), payload=strip_personal(raw))
        for raw in updates
        if isinstance(raw, dict) and isinstance(raw.get("update_id"), int)
    ]
    return [a.payload for a in store_inbound(engine, Channel.telegram, arrivals)]


def unprocessed_updates(engine: Engine, limit: int = 10_000) -> list[dict[str, Any]]:
    """Stored but never handled (the process stopped first): to be handled at start."""
    return unprocessed(engine, Channel.telegram, limit)
