"""What every page of the public site shares: its texts and language, the device cookie,
the form stamp that tells people from robots, the loose flood cap per address, database
steps, and rendering with the site's security headers.

No page needs JavaScript, and no page loads anything from another site."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session
from starlette.datastructures import FormData

from core.people.login_limits import client_address
from core.policies import Policies
from httpkit import steps
from web.i18n import LANGUAGES, normalise_language, t

T = TypeVar("T")
TEMPLATES = Path(__file__).resolve().parent / "templates"
LANG_COOKIE = "asnfb_web_lang"
DEVICE_COOKIE = "asnfb_device"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600  # a long-lived cookie: the device's daily limits

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def policies_of(request: Request) -> Policies:
    policies: Policies = request.app.state.policies
    return policies


async def read(request: Request, step: Callable[[Session], T]) -> T:
    return await steps.read(request, policies_of(request).engine, step)


async def write(request: Request, step: Callable[[Session], T]) -> T:
    return await steps.write(request, policies_of(request).engine, step)


# Language -------------------------------------------------------------------------------


def lang_of(request: Request) -> str:
    """`?lang=` (the switch in every page's header) or the cookie it left, else Indonesian."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    return normalise_language(request.cookies.get(LANG_COOKIE))


# The device --------------------------------------------------------------------------------


def new_device_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters of A-Z a-z 0-9 _ -


def device_token(request: Request) -> str:
    """The browser's long-lived device token (given by the site's middleware on the first
    visit): the key of the one-rating-a-day and complaints-a-day rules."""
    token: str = request.state.device_token
    return token


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or policies_of(
        request
    ).settings.public_base_url.startswith("https://")


# Robots: a form stamp and a honeypot ---------------------------------------------------------

HONEYPOT_FIELD = "website"  # hidden from people by CSS; robots fill every field


class StampCheck(StrEnum):
    ok = "ok"
    too_fast = "too_fast"  # sent sooner than WEB_MIN_FILL_SECONDS after the page was shown
    bad = "bad"  # missing, forged or older than a day


STAMP_MAX_AGE = 24 * 3600


def _stamp_secret(request: Request) -> str:
    """PSEUDONYM_KEY: the same in every worker process and across restarts (JWT_SECRET is
    per process in development, where a form shown by one worker and sent to another would
    be refused); the MAC's "form:" prefix keeps its uses apart."""
    return policies_of(request).settings.pseudonym_key


def _stamp_mac(secret: str, issued: str, device: str) -> str:
    signed = f"form:{issued}:{device}".encode()
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()[:32]


def fresh_device(request: Request) -> bool:
    """True when the request brought no (valid) device cookie: the middleware gave it one."""
    return bool(getattr(request.state, "fresh_device", True))


def form_stamp(request: Request, *, now: float | None = None) -> str:
    """A signed time for a form's hidden `stamp` field: when its page was shown, and to which
    device (the cookie's token): a stamp serves only the browser that was shown the page."""
    issued = str(int(now if now is not None else time.time()))
    secret = _stamp_secret(request)
    return f"{issued}.{_stamp_mac(secret, issued, device_token(request))}"


def check_form(request: Request, form: Any, *, now: float | None = None) -> StampCheck:
    """Whether a form was sent by a person: its honeypot empty, its stamp ours and given to
    this device (a post without the device cookie is refused: robots must fetch a page per
    device, which the flood cap per address bounds), and at least WEB_MIN_FILL_SECONDS after
    its page was shown."""
    if str(form.get(HONEYPOT_FIELD) or "") or fresh_device(request):
        return StampCheck.bad
    issued, _, mac = str(form.get("stamp") or "").partition(".")
    secret = _stamp_secret(request)
    if not issued.isdigit() or len(issued) > 12:
        return StampCheck.bad
    if not hmac.compare_digest(mac, _stamp_mac(secret, issued, device_token(request))):
        return StampCheck.bad
    elapsed = (now if now is not None else time.time()) - int(issued)
    if elapsed > STAMP_MAX_AGE:
        return StampCheck.bad
    if elapsed < policies_of(request).settings.web_min_fill_seconds:
        return StampCheck.too_fast
    return StampCheck.ok


def bad_form(request: Request) -> HTMLResponse:
    """The answer to a form check's `bad`: plainly 400; saying cookies are needed when the
    browser sent none (a person whose browser refuses cookies can act on that)."""
    return error_page(request, 400, "form.no_cookie" if fresh_device(request) else "error.400")


class FormRefused(Exception):
    """A posted form no route takes (a NUL character in a text field): answered 400 with
    `key`'s text by the site's handler."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def form_of(request: Request, *, max_files: int = 0, max_fields: int = 100) -> FormData:
    """The posted form (url-encoded or multipart); FormRefused when a text field holds a NUL
    character (PostgreSQL text cannot hold one; the guard checks url-encoded bodies only)."""
    form = await request.form(max_files=max_files, max_fields=max_fields)
    for _, value in form.multi_items():
        if isinstance(value, str) and "\x00" in value:
            raise FormRefused("form.nul")
    return form


# The loose flood cap per client address ------------------------------------------------------


class FloodCap:
    """At most `per_minute` form posts a minute from one client address, in this process.
    Loose on purpose: a carrier's or an office's address is shared by many citizens."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._posts: dict[str, deque[float]] = {}

    def allow(self, address: str, *, now: float | None = None) -> bool:
        moment = now if now is not None else time.monotonic()
        posts = self._posts.setdefault(address, deque())
        while posts and posts[0] <= moment - 60:
            posts.popleft()
        if len(posts) >= self.per_minute:
            return False
        posts.append(moment)
        if len(self._posts) > 10_000:  # forget quiet addresses
            for key in [k for k, v in self._posts.items() if not v or v[-1] <= moment - 60]:
                del self._posts[key]
        return True


def address_of(request: Request) -> str:
    """The client's address, read through TRUSTED_PROXIES like the logins'."""
    settings = policies_of(request).settings
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    return client_address(peer, forwarded, settings.trusted_proxy_networks) or "unknown"


def may_post(request: Request) -> bool:
    """False when the client's address went over the flood cap (answer 429 then)."""
    cap: FloodCap = request.app.state.flood_cap
    return cap.allow(address_of(request))


class WrongCodeCap:
    """Wrong follow-up codes counted per client address across every reference, in this
    process: past `limit` in `window` seconds, the address is refused every attempt (right
    codes too: the cap stops guessing) until its oldest wrong code ages out. Loose, as the
    flood cap: one address may be a carrier's many citizens."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._wrong: dict[str, deque[float]] = {}

    def _recent(self, address: str, moment: float) -> deque[float]:
        wrong = self._wrong.setdefault(address, deque())
        while wrong and wrong[0] <= moment - self.window:
            wrong.popleft()
        return wrong

    def allows(self, address: str, *, now: float | None = None) -> bool:
        moment = now if now is not None else time.monotonic()
        return len(self._recent(address, moment)) < self.limit

    def count(self, address: str, *, now: float | None = None) -> None:
        moment = now if now is not None else time.monotonic()
        self._recent(address, moment).append(moment)
        if len(self._wrong) > 10_000:  # forget quiet addresses
            for key in [k for k, v in self._wrong.items() if not v or v[-1] <= moment - 3600]:
                del self._wrong[key]


def wrong_code_cap(request: Request) -> WrongCodeCap:
    cap: WrongCodeCap = request.app.state.wrong_code_cap
    return cap


# Rendering --------------------------------------------------------------------------------


def secure_headers(response: Response, *, static: bool = False) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Follow-up links carry their code: never sent on to another site.
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if not static:
        headers.setdefault("Cache-Control", "no-store")
    return response


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page in the visitor's language, with the site's security headers."""
    lang = lang_of(request)
    settings = policies_of(request).settings

    def tr(key: str, **params: object) -> str:
        return t(lang, key, **params)

    html = env.get_template(template).render(
        request=request,
        lang=lang,
        other_lang="en" if lang == "id" else "id",
        t=tr,
        area=settings.area_name,
        zone=settings.zone_name,
        honeypot=HONEYPOT_FIELD,
        stamp=lambda: form_stamp(request),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    secure_headers(response)
    return response


def error_page(request: Request, status: int, key: str, **params: object) -> HTMLResponse:
    """An error in plain words (`key` in the web catalog), with the way home."""
    lang = lang_of(request)
    return render(
        request, "error.html", status_code=status, message=t(lang, key, **params), status=status
    )
