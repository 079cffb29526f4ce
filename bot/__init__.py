"""The Telegram adapter: conversations, keyboards, texts (id, en)."""

from bot.application import build_application, set_bot_commands

__all__ = ["build_application", "set_bot_commands"]
