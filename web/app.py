"""The public site's FastAPI application, mounted by `app/` at the root of the public
listener (and of the single listener when the console shares it)."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.policies import Policies
from core.shared.errors import DomainError
from httpkit.guard import BodyTooLarge
from httpkit.turns import DatabaseBusy
from web import routes_follow, routes_home, routes_public, routes_report, routes_survey
from web.i18n import LANGUAGES
from web.pages import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_AGE,
    LANG_COOKIE,
    FloodCap,
    FormRefused,
    WrongCodeCap,
    error_page,
    is_https,
    new_device_token,
    secure_headers,
)

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/assets"
HSTS = "max-age=31536000"  # a year; sent only where the site is served over HTTPS
# Wrong follow-up codes one client address may send (any references) in the lock's window.
WRONG_CODES_PER_ADDRESS = 30
_DEVICE_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


# Answers that are not citizens' pages get no device cookie: static assets, and the open data
# and Open311 answers that caches may keep (a cookie on them would be shared or dropped).
_NO_DEVICE = (f"{STATIC_PATH}/", "/data/", "/open311/")


def _valid_device_token(value: str | None) -> bool:
    return value is not None and 16 <= len(value) <= 128 and set(value) <= _DEVICE_TOKEN_CHARS


class DeviceAndLanguage:
    """Gives each browser its long-lived device token (`request.state.device_token`, and the
    cookie on the answer when it is new), keeps a language chosen with `?lang=` in a cookie,
    and sets the site's security headers on every answer. Plain ASGI: it runs on every
    request of a citizen's survey, and Starlette's `BaseHTTPMiddleware` costs a task and a
    stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        token = request.cookies.get(DEVICE_COOKIE)
        fresh = not _valid_device_token(token)
        device = new_device_token() if fresh else str(token)
        # In place (not a copy): the error handler outside reads the route the router sets.
        scope["state"] = {**scope.get("state", {}), "device_token": device, "fresh_device": fresh}
        static = scope["path"].startswith(f"{STATIC_PATH}/")
        asked = request.query_params.get("lang")
        remember = (
            asked if asked in LANGUAGES and asked != request.cookies.get(LANG_COOKIE) else None
        )
        https = is_https(Request(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response = Response(status_code=message["status"])
                response.raw_headers = list(message.get("headers", []))
                if fresh and not scope["path"].startswith(_NO_DEVICE):
                    response.set_cookie(
                        DEVICE_COOKIE,
                        device,
                        max_age=DEVICE_COOKIE_AGE,
                        httponly=True,
                        samesite="lax",
                        secure=https,
                    )
                if remember is not None:
                    response.set_cookie(
                        LANG_COOKIE,
                        remember,
                        max_age=DEVICE_COOKIE_AGE,
                        samesite="lax",
                        secure=https,
                    )
                secure_headers(response, static=static)
                if https:
                    response.headers.setdefault("Strict-Transport-Security", HSTS)
                message = {**message, "headers": response.raw_headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_web(policies: Policies) -> FastAPI:
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.policies = policies
    web.state.flood_cap = FloodCap(policies.settings.web_posts_per_minute)
    web.state.wrong_code_cap = WrongCodeCap(
        WRONG_CODES_PER_ADDRESS, policies.settings.web_code_lock_minutes * 60.0
    )
    for module in (routes_home, routes_survey, routes_report, routes_follow, routes_public):
        web.include_router(module.router)
    web.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="assets")

    web.add_middleware(DeviceAndLanguage)

    # Pages of a few kilobytes: compressed for slow connections (and counted so in tests).
    web.add_middleware(GZipMiddleware, minimum_size=500)

    @web.exception_handler(DatabaseBusy)
    async def busy(request: Request, _: DatabaseBusy) -> Response:
        page = error_page(request, 503, "error.busy")
        page.headers["Retry-After"] = "2"
        return page

    @web.exception_handler(FormRefused)
    async def form_refused(request: Request, exc: FormRefused) -> Response:
        return error_page(request, 400, exc.key)

    @web.exception_handler(BodyTooLarge)
    async def too_large(request: Request, _: BodyTooLarge) -> Response:
        return error_page(request, 413, "error.413")

    @web.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        # Routes answer the refusals a citizen can act on themselves; what reaches here is
        # said plainly, naming nothing.
        return error_page(request, 400, "error.400")

    @web.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, _: RequestValidationError) -> Response:
        return error_page(request, 400, "error.400")

    @web.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405, 413, 429):
            return error_page(request, exc.status_code, f"error.{exc.status_code}")
        return error_page(request, exc.status_code, "error.400")

    @web.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # The route's template, never the path: a private link's path holds its code.
        route = getattr(request.scope.get("route"), "path", "(no route)")
        log.exception("web error on %s %s", request.method, route, exc_info=exc)
        return error_page(request, 500, "error.500")

    return web
