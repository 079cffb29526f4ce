"""What every console page shares: the signed-in user, CSRF, rendering, database steps."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session

from console.i18n import (
    long_time,
    normalise_language,
    short_time,
    shown_count,
    shown_deadline,
    t,
)
from core.access import Actor, Permission
from core.cases.categories import category_label
from core.people.staff_sessions import resume_staff_session, touch_staff_session
from core.policies import Policies
from httpkit import steps

T = TypeVar("T")
TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "asnfb_staff"
LOGIN_CSRF_COOKIE = "asnfb_login_csrf"
PREFIX = "/staff"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",), default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Staff:
    """The signed-in user of this request."""

    actor: Actor
    session_id: int
    csrf: str
    name: str
    lang: str

    def may(self, permission: Permission) -> bool:
        return self.actor.may(permission)


# Nothing from another server, no inline script or style: HTMX's own indicator style is
# switched off (meta htmx-config) so that style-src 'self' holds.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


def secure_headers(response: Response, *, static: bool = False) -> Response:
    """The console's security headers (set on every page, error pages included: the 500 page
    is sent from outside the middleware stack)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if not static:
        headers.setdefault("Cache-Control", "no-store")
    return response


# Row ids are 32-bit in PostgreSQL (`integer`): anything larger names no row, and asking the
# database would fail rather than find nothing.
MAX_ID = 2_147_483_647
_ID_RE = re.compile(r"[0-9]{1,10}")


def parse_id(value: object) -> int | None:
    """A row id as typed in a form or URL: ASCII digits only, 1 to MAX_ID; else None."""
    text = str(value or "").strip()
    if not _ID_RE.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


class NotSignedIn(Exception):
    """No live session: go to the login page (then back to `next`)."""


class BadCsrf(Exception):
    """A form without this session's CSRF token (another site, or an old page)."""


def policies_of(request: Request) -> Policies:
    policies: Policies = request.app.state.policies
    return policies


async def read(request: Request, step: Callable[[Session], T]) -> T:
    return await steps.read(request, policies_of(request).engine, step)


async def write(request: Request, step: Callable[[Session], T]) -> T:
    return await steps.write(request, policies_of(request).engine, step)


async def _signed_in(request: Request, *, activity: bool) -> Staff:
    policies = policies_of(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    idle = policies.settings.console_idle
    now = policies.now()
    found = await read(request, partial(resume_staff_session, token=token, idle=idle, now=now))
    if found is None:
        raise NotSignedIn
    if activity and found.needs_touch:
        await write(request, partial(touch_staff_session, session_id=found.session_id, now=now))
    return Staff(
        actor=found.actor,
        session_id=found.session_id,
        csrf=found.csrf_token,
        name=found.display_name,
        lang=normalise_language(found.language),
    )


async def current_staff(request: Request) -> Staff:
    """The signed-in user (FastAPI dependency); NotSignedIn when there is none. The request
    counts as activity: it keeps the session from going idle."""
    return await _signed_in(request, activity=True)


async def polling_staff(request: Request) -> Staff:
    """The signed-in user, as `current_staff`, but without counting the request as activity:
    the inbox's own refresh must not keep an idle session alive on a shared computer."""
    return await _signed_in(request, activity=False)


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def check_csrf(request: Request, staff: Staff, form: dict[str, Any]) -> None:
    given = str(form.get("csrf") or request.headers.get("X-CSRF-Token") or "")
    if not given or not hmac.compare_digest(given.encode(), staff.csrf.encode()):
        raise BadCsrf


def login_redirect(request: Request) -> Response:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"{PREFIX}/login?next={quote(path, safe='')}"
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def render(
    request: Request,
    template: str,
    lang: str,
    staff: Staff | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    policies = policies_of(request)
    settings = policies.settings
    tz, zone = settings.tz, settings.zone_name

    def tr(key: str, **params: object) -> str:
        return t(lang, key, **params)

    html = env.get_template(template).render(
        request=request,
        staff=staff,
        lang=lang,
        t=tr,
        P=Permission,
        prefix=PREFIX,
        area=settings.area_name,
        when=lambda moment: long_time(moment, lang, tz, zone),
        when_short=lambda moment: short_time(moment, lang, tz, zone),
        category=lambda code: category_label(code, lang),
        deadline=lambda due_at: shown_deadline(due_at, tz),
        count=lambda number, searched=False: shown_count(number, lang, searched=searched),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    secure_headers(response)
    return response
