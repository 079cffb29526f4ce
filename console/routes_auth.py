"""Signing in and out, one's own password, and the language of the console."""

from __future__ import annotations

import hmac
import secrets
from functools import partial
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console.i18n import LANGUAGES, normalise_language, refusal
from console.web import (
    LOGIN_CSRF_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    CurrentStaff,
    check_csrf,
    policies_of,
    render,
    write,
)
from core.people import users
from core.people.preferences import set_own_language
from core.people.staff_sessions import (
    end_staff_session,
    open_staff_session,
    prune_staff_sessions,
)
from core.shared.errors import DomainError
from httpkit.logins import TooManyTries, WrongPassword, change_own_password, check_login

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never another site (an open redirect)."""
    if not target:
        return f"{PREFIX}/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(f"{PREFIX}/") or "\\" in target:
        return f"{PREFIX}/"
    return target


def _browser_lang(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get("asnfb_lang")
    return normalise_language(wanted)


def _secure(request: Request) -> bool:
    """Cookies only over HTTPS in production, and whenever the request came over HTTPS."""
    settings = policies_of(request).settings
    return settings.environment == "production" or request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path=PREFIX,
    )


def _login_page(
    request: Request,
    lang: str,
    error: str | None = None,
    status_code: int = 200,
    **error_params: object,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        lang,
        status_code=status_code,
        error=error,
        error_params=error_params,
        login_csrf=token,
        next=_safe_next(request.query_params.get("next")),
        languages=LANGUAGES,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=f"{PREFIX}/login",
    )
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request, _browser_lang(request))


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    lang = _browser_lang(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf or not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        return _login_page(request, lang, "login.expired", status_code=400)
    if not username.strip() or not password:
        return _login_page(request, lang, "login.missing", status_code=400)
    policies = policies_of(request)
    try:
        account = await check_login(request, policies, username, password)
    except TooManyTries as exc:
        minutes = max(1, -(-exc.wait // 60))
        page = _login_page(request, lang, "login.throttled", 429, minutes=minutes)
        page.headers["Retry-After"] = str(exc.wait)
        return page
    except WrongPassword:
        return _login_page(request, lang, "login.wrong", status_code=401)
    now = policies.now()
    idle = policies.settings.console_idle

    previous = request.cookies.get(SESSION_COOKIE, "")

    def begin(session: Session) -> str:
        prune_staff_sessions(session, idle, now=now)
        if previous:  # whoever was signed in on this browser is signed out
            end_staff_session(session, previous)
        token, _csrf = open_staff_session(session, account.user_id, now=now)
        return token

    token = await write(request, begin)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=f"{PREFIX}/login")
    return response


@router.post("/logout")
async def logout(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    token = request.cookies.get(SESSION_COOKIE, "")
    await write(request, partial(end_staff_session, token=token))
    response = RedirectResponse(f"{PREFIX}/login?lang={staff.lang}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/password")
async def password_form(request: Request, staff: CurrentStaff) -> Response:
    return render(request, "password.html", staff.lang, staff)


@router.post("/password")
async def password_change(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    current = str(form.get("current") or "")[:1024]
    new = str(form.get("new") or "")[:1024]
    again = str(form.get("again") or "")[:1024]
    if new != again:
        return render(
            request, "password.html", staff.lang, staff, status_code=400, error="password.differ"
        )
    policies = policies_of(request)
    try:
        await change_own_password(request, policies, staff.actor, current, new)
    except users.WrongCurrentPassword:
        return render(
            request, "password.html", staff.lang, staff, status_code=400, error="password.wrong"
        )
    except TooManyTries as exc:
        return render(
            request,
            "password.html",
            staff.lang,
            staff,
            status_code=429,
            error="login.throttled",
            error_params={"minutes": max(1, -(-exc.wait // 60))},
        )
    except DomainError as exc:  # too weak, unchanged: core says why
        return render(
            request,
            "password.html",
            staff.lang,
            staff,
            status_code=400,
            error="password.rejected",
            detail=refusal(staff.lang, exc),
        )
    now = policies.now()

    begin = partial(open_staff_session, user_id=staff.actor.user_id, now=now)
    token, _csrf = await write(request, begin)  # every other session of the account ended
    response = RedirectResponse(f"{PREFIX}/?changed=password", status_code=303)
    set_session_cookie(request, response, token)
    return response


@router.post("/language")
async def language(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    lang = normalise_language(str(form.get("lang") or ""))

    def store(session: Session) -> None:
        set_own_language(session, lang, actor=staff.actor)

    await write(request, store)
    back = _safe_next(str(form.get("next") or ""))
    response = RedirectResponse(back, status_code=303)
    response.set_cookie("asnfb_lang", lang, samesite="lax", path=PREFIX, max_age=365 * 86400)
    return response
