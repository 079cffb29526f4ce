"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import overload

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from admin_api import (
    routes_auth,
    routes_calendar,
    routes_cases,
    routes_comments,
    routes_digests,
    routes_evaluations,
    routes_hold,
    routes_masterdata,
    routes_qr,
    routes_recap,
    routes_scores,
    routes_users,
)
from admin_api.limits import BodySizeLimit
from admin_api.problems import document_problems, install_problem_handlers
from core.policies import Policies, build
from core.shared.config import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/static"


@overload
def create_app(policies: Policies, /) -> FastAPI: ...
@overload
def create_app(settings: Settings, engine: Engine, /) -> FastAPI: ...
def create_app(first: Policies | Settings, engine: Engine | None = None, /) -> FastAPI:
    """The API of a process: `create_app(policies)`, the policies the composition root built;
    `create_app(settings, engine)` builds them here (tests, benchmarks)."""
    policies = _policies(first, engine)
    settings, engine = policies.settings, policies.engine
    app = FastAPI(
        title="asn-feedback admin API",
        version="0.1.0",
        description=(
            "Supervisors triage citizen feedback and read service scores (IKM). "
            "Log in with POST /api/auth/token (OAuth2 password flow), then use the bearer token."
        ),
        openapi_url="/openapi.json" if settings.api_docs_enabled else None,
        docs_url=None,  # served below from the vendored assets, without a CDN
        redoc_url=None,
    )
    app.add_middleware(BodySizeLimit)
    app.state.policies = policies  # see admin_api.deps.get_policies
    app.state.settings = settings
    app.state.engine = engine
    app.state.write_turn = asyncio.Lock()  # see admin_api.deps.write_turn
    install_problem_handlers(app)

    app.include_router(routes_auth.router)
    app.include_router(routes_users.router)
    app.include_router(routes_masterdata.router)
    app.include_router(routes_scores.router)
    app.include_router(routes_comments.router)
    app.include_router(routes_recap.router)  # before /cases/{case_id}
    app.include_router(routes_cases.router)
    app.include_router(routes_evaluations.router)
    app.include_router(routes_digests.router)
    app.include_router(routes_qr.router)
    app.include_router(routes_calendar.router)
    app.include_router(routes_hold.router)
    document_problems(app)
    if settings.api_docs_enabled:
        install_docs(app)
    return app


def _policies(first: Policies | Settings, engine: Engine | None) -> Policies:
    if isinstance(first, Policies):
        if engine is not None:
            raise TypeError("create_app(policies) takes no engine: the policies carry theirs")
        return first
    if engine is None:
        raise TypeError("create_app(settings, engine) needs the engine")
    return build(first, engine)


def install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, from assets shipped in admin_api/static, so
    they work without internet (admin_api/static/README.md says where they come from)."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    openapi_url = app.openapi_url or "/openapi.json"
    favicon = f"{STATIC_URL}/swagger-ui/favicon-32x32.png"
    oauth2_redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}{favicon}",
            oauth2_redirect_url=f"{root}{oauth2_redirect}",
            # No badge that asks validator.swagger.io about the schema.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{favicon}",
            with_google_fonts=False,
        )
