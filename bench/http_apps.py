"""The two HTTP apps the case benchmark drives: the real admin API and a bare endpoint."""

from __future__ import annotations

from fastapi import FastAPI

from admin_api import create_app
from core.shared.config import load_settings
from core.shared.db import make_engine


def real_app() -> FastAPI:
    settings = load_settings()
    return create_app(settings, make_engine(settings.database_url))


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/cases")
    def cases() -> dict[str, object]:
        return {"items": [], "next_cursor": None}

    return app
