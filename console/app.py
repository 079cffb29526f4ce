"""The console's FastAPI application, mounted by `app/` under /staff."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from console import (
    routes_auth,
    routes_case,
    routes_evaluations,
    routes_inbox,
    routes_intake,
    routes_masterdata,
    routes_officers,
    routes_own,
    routes_paper,
    routes_people,
    routes_scores,
)
from console.i18n import normalise_language, refusal
from console.routes_audit import router as audit_router
from console.routes_backup import router as backup_router
from console.routes_calendar import router as calendar_router
from console.routes_canned import router as canned_router
from console.routes_recap import router as recap_router
from console.web import PREFIX, BadCsrf, NotSignedIn, login_redirect, render, secure_headers
from core.policies import Policies
from core.shared.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from httpkit.turns import DatabaseBusy

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"

_STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, InvalidInput: 400}


def _lang(request: Request) -> str:
    return normalise_language(request.cookies.get("asnfb_lang"))


def _error_page(request: Request, status: int, key: str, detail: str = "") -> Response:
    return render(
        request, "error.html", _lang(request), status_code=status, error=key, detail=detail
    )


def create_console(policies: Policies) -> FastAPI:
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    console.state.policies = policies
    console.include_router(routes_auth.router)
    console.include_router(routes_inbox.router)
    console.include_router(routes_case.router)
    console.include_router(canned_router)
    console.include_router(calendar_router)
    console.include_router(routes_intake.router)
    console.include_router(routes_scores.router)
    console.include_router(recap_router)
    console.include_router(routes_evaluations.router)
    console.include_router(routes_people.router)
    console.include_router(routes_masterdata.router)
    console.include_router(routes_paper.router)
    console.include_router(routes_officers.router)
    console.include_router(routes_own.router)
    console.include_router(backup_router)
    console.include_router(audit_router)
    console.mount("/static", StaticFiles(directory=STATIC), name="static")

    @console.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        secure_headers(response, static=request.url.path.startswith(f"{PREFIX}/static/"))
        return response

    @console.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _: NotSignedIn) -> Response:
        return login_redirect(request)

    @console.exception_handler(BadCsrf)
    async def bad_csrf(request: Request, _: BadCsrf) -> Response:
        return _error_page(request, 403, "error.csrf")

    @console.exception_handler(DatabaseBusy)
    async def busy(request: Request, _: DatabaseBusy) -> Response:
        page = _error_page(request, 503, "error.busy")
        page.headers["Retry-After"] = "2"
        return page

    @console.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        # Why a step is refused helps (400, 409); what does not exist or is not yours is
        # said the same way for every page, naming nothing.
        detail = refusal(_lang(request), exc) if status in (400, 409) else ""
        return _error_page(request, status, f"error.{status}", detail)

    @console.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return _error_page(request, 400, "error.400")

    @console.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _error_page(request, 404, "error.404")
        if exc.status_code == 405:
            return _error_page(request, 405, "error.405")
        return _error_page(request, exc.status_code, "error.400")

    @console.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("console error on %s", request.url.path, exc_info=exc)
        return _error_page(request, 500, "error.500")

    @console.get("", include_in_schema=False)
    async def bare() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    return console
