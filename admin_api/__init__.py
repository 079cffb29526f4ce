"""The admin HTTP API (FastAPI). Calls core services; never talks to Telegram."""

from admin_api.app import create_app

__all__ = ["create_app"]
