"""The Telegram adapter: conversations, keyboards, texts (id, en)."""

from bot.application import build_application

__all__ = ["build_application"]
