"""The FastAPI application factory."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from admin_api import (
    routes_auth,
    routes_cases,
    routes_digests,
    routes_evaluations,
    routes_masterdata,
    routes_qr,
    routes_scores,
)
from admin_api.limits import BodySizeLimit
from admin_api.problems import document_problems, install_problem_handlers
from admin_api.schemas import HealthOut, ReadyOut
from core.config import Settings
from core.health import readiness


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    app = FastAPI(
        title="asn-feedback admin API",
        version="0.1.0",
        description=(
            "Supervisors triage citizen feedback and read service scores (IKM). "
            "Log in with POST /auth/token (OAuth2 password flow), then use the bearer token."
        ),
    )
    app.add_middleware(BodySizeLimit)
    app.state.settings = settings
    app.state.engine = engine
    app.state.write_turn = asyncio.Lock()  # see admin_api.deps.write_turn
    install_problem_handlers(app)

    @app.get("/healthz", response_model=HealthOut, tags=["health"])
    def healthz() -> HealthOut:
        """Liveness: the process answers."""
        return HealthOut(status="ok")

    @app.get(
        "/readyz", response_model=ReadyOut, tags=["health"], responses={503: {"model": ReadyOut}}
    )
    def readyz() -> JSONResponse:
        """Readiness: database reachable, schema at head, outbox backlog."""
        state = readiness(engine)
        body = ReadyOut(**state.__dict__).model_dump(mode="json")
        return JSONResponse(body, status_code=200 if state.ready else 503)

    app.include_router(routes_auth.router)
    app.include_router(routes_masterdata.router)
    app.include_router(routes_scores.router)
    app.include_router(routes_cases.router)
    app.include_router(routes_evaluations.router)
    app.include_router(routes_digests.router)
    app.include_router(routes_qr.router)
    document_problems(app)
    return app
