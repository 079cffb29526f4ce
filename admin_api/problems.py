"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.shared.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound

PROBLEM_JSON = "application/problem+json"
MAX_DB_INTEGER = 2**63 - 1
log = logging.getLogger(__name__)
STATUS_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    Forbidden: 403,
}


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or STATUS_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _domain_status(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 400


def _path_number_out_of_range(request: Request) -> bool:
    for value in request.path_params.values():
        digits = str(value).strip().removeprefix("-").removeprefix("+")
        if digits.isdecimal() and (len(digits) > 19 or int(digits) > MAX_DB_INTEGER):
            return True
    return False


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "location": ".".join(str(p) for p in err.get("loc", ())),
                "message": str(err.get("msg", "")).removeprefix("Value error, "),
            }
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"location": "", "message": "invalid request"}
        detail = (
            f"{first['location']}: {first['message']}" if first["location"] else first["message"]
        )
        return problem(422, detail, errors=errors)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        # `reason`: the exact rule that refused, a stable key integrations may rely on.
        reason: dict[str, Any] = {"reason": exc.why} if exc.why else {}
        return problem(_domain_status(exc), exc.message, code=exc.code, **reason)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # A number past 64 bits (SQLite refuses to bind it). In the path it names an item
        # nothing can be; anywhere else (a filter, a page offset) it is bad input.
        if _path_number_out_of_range(request):
            return problem(404, "no such item: the number is out of range")
        return problem(422, "a number in the request is out of range")

    @app.exception_handler(UnicodeError)
    async def _unicode(_: Request, exc: UnicodeError) -> JSONResponse:
        # Text with a lone surrogate ("\\ud800" in JSON) parses but cannot be stored.
        return problem(422, "the text contains characters that are not valid Unicode")

    @app.exception_handler(StatementError)
    async def _statement(request: Request, exc: StatementError) -> JSONResponse:
        if isinstance(exc.orig, UnicodeError):
            return await _unicode(request, exc.orig)
        if isinstance(exc.orig, OverflowError):
            return await _overflow(request, exc.orig)
        log.error("database error", exc_info=exc)
        return problem(500, "an unexpected error occurred; it has been logged")

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        return problem(409, "this conflicts with existing data (a duplicate?)")

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        if _path_number_out_of_range(request):  # PostgreSQL's twin of the OverflowError
            return problem(404, "no such item: the number is out of range")
        return problem(422, "a value is out of range for the database")

    @app.exception_handler(OperationalError)
    async def _operational(_: Request, exc: OperationalError) -> JSONResponse:
        if "database is locked" in str(exc.orig):  # SQLite's busy timeout ran out
            return problem(503, "the database is busy; try again", headers={"Retry-After": "2"})
        log.error("database error", exc_info=exc)
        return problem(500, "an unexpected error occurred; it has been logged")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return problem(500, "an unexpected error occurred; it has been logged")


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status", "detail"],
}
DOCUMENTED_ERRORS = (
    "400",
    "401",
    "403",
    "404",
    "409",
    "413",
    "415",
    "422",
    "429",
    "500",
    "503",
)


def document_problems(app: FastAPI) -> None:
    """State in the OpenAPI schema that errors are RFC 9457 problem details."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status in DOCUMENTED_ERRORS:
                    if status not in responses or status == "422":
                        title = STATUS_TITLES.get(int(status), "Error")
                        responses[status] = {"description": title, "content": content}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
