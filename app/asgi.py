"""ASGI factory for `asn-feedback api --workers N` (each worker builds its own engine)."""

from __future__ import annotations

from fastapi import FastAPI

from admin_api import create_app
from core.config import load_settings
from core.db import make_engine


def api() -> FastAPI:
    settings = load_settings()
    return create_app(settings, make_engine(settings.database_url))
