"""People (admins): staff accounts, their roles and units; everyone: their own Telegram link.

/staff/users is for those who may MANAGE_USERS (core's permission table): the accounts with
their units, Telegram link and lock; create one, change its role and units, deactivate or
reactivate it, reset its password, unlock it, make a link code for it, remove its Telegram
link (a lost phone). A password an admin sets or the console generates is shown once, in the
answer to that form, never in a URL. /staff/telegram is for every signed-in user: whether
their chat is linked, a one-time link code with the QR code of the bot's deep link that
redeems it in one scan, removing the link, and (supervisors and unit heads) turning the
new-complaint alerts on or off."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from console.i18n import refusal, t
from console.web import (
    MAX_ID,
    PREFIX,
    CurrentStaff,
    Staff,
    check_csrf,
    policies_of,
    read,
    render,
    write,
)
from core.access import Permission
from core.cases.alerts import (
    AlertPolicy,
    case_alerts_on,
    may_receive_case_alerts,
    set_case_alerts,
)
from core.cases.categories import category_label
from core.masterdata.service import list_units
from core.outbox.addresses import notice_channel, set_staff_notices, staff_address
from core.people import users
from core.people.links import (
    create_link_code,
    create_own_link_code,
    link_deep_link,
    unlink_telegram,
)
from core.people.login_limits import locked_usernames
from core.people.models import AppUser, Channel, Role
from core.shared.errors import DomainError, Forbidden

router = APIRouter()
ROLES = tuple(Role)
_SPLIT = re.compile(r"[\s,;]+")
NOTICES = (
    *("saved", "activated", "deactivated", "unlocked", "unlinked"),
    *("officer_linked", "officer_unlinked"),
)


def _require(staff: Staff) -> None:
    if not staff.may(Permission.MANAGE_USERS):
        raise Forbidden("only an admin may manage accounts")


def _codes(text: str) -> list[str]:
    return [code for code in _SPLIT.split(text[:2000]) if code]


def _role(value: object) -> Role:
    return users.parse_role(str(value or ""))


@dataclass(frozen=True)
class Shown:
    """A password or link code shown once, in the answer to the form that made it."""

    kind: str  # "created", "reset", "code"
    username: str
    secret: str
    link: str = ""
    qr: Markup | None = None
    expires: datetime | None = None


def qr_svg(link: str, title: str) -> Markup:
    """The QR code of `link` as inline SVG (segno, no outside service); `title` names it."""
    buf = io.BytesIO()
    segno.make(link, error="m").save(
        buf, kind="svg", scale=5, border=4, xmldecl=False, svgns=True, title=title,
        svgclass="qr", lineclass=None, omitsize=False,
    )  # fmt: skip
    return Markup(buf.getvalue().decode())  # noqa: S704 - built by segno from our own link


# Accounts (admins) ------------------------------------------------------------------------


async def _users_page(
    request: Request,
    staff: Staff,
    *,
    q: str = "",
    manage: int | None = None,
    draft: dict[str, str] | None = None,
    edit_draft: dict[str, str] | None = None,
    error: str = "",
    notice: str = "",
    shown: Shown | None = None,
    status_code: int = 200,
) -> Response:
    policies = policies_of(request)
    now = policies.now()
    query = q.strip()[:100]

    def load(session: Session) -> tuple[list[users.UserView], set[str], list[str]]:
        views = users.list_users(session, actor=staff.actor, q=query or None)
        locked = locked_usernames(session, policies.logins, now=now)
        codes = [unit.code for unit in list_units(session, None, active=True)]
        return views, locked, codes

    views, locked, unit_codes = await read(request, load)
    managed = None
    if manage is not None:
        managed = next((v for v in views if v.id == manage), None)
        if managed is None:
            managed = await read(request, lambda s: users.get_user(s, manage, actor=staff.actor))
    return render(
        request,
        "users.html",
        staff.lang,
        staff,
        active="users",
        views=views,
        locked=locked,
        unit_codes=unit_codes,
        roles=ROLES,
        q=query,
        managed=managed,
        draft=draft or {},
        edit_draft=edit_draft or {},
        error=error,
        notice=notice,
        shown=shown,
        status_code=status_code,
    )


@router.get("/users")
async def users_page(
    request: Request,
    staff: CurrentStaff,
    q: Annotated[str, Query(max_length=100)] = "",
    manage: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    _require(staff)
    notice = done if done in NOTICES else ""
    return await _users_page(request, staff, q=q, manage=manage, notice=notice)


def _create_draft(form: dict[str, Any]) -> dict[str, str]:
    return {
        name: str(form.get(name) or "")[:200]
        for name in ("username", "display_name", "role", "units")
    }


@router.post("/users")
async def user_create(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    draft = _create_draft(form)
    typed = str(form.get("password") or "")[:1000]
    password = typed or users.generate_password()
    now = policies_of(request).now()

    def create(session: Session) -> str:
        user = users.create_user(
            session,
            draft["username"],
            _role(draft["role"]),
            password,
            _codes(draft["units"]),
            display_name=draft["display_name"],
            actor=staff.actor,
            now=now,
        )
        return user.username

    try:
        username = await write(request, create)
    except DomainError as exc:
        if isinstance(exc, Forbidden):
            raise
        return await _users_page(
            request, staff, draft=draft, error=refusal(staff.lang, exc), status_code=400
        )
    return await _users_page(request, staff, shown=Shown("created", username, password))


@router.post("/users/{user_id}")
async def user_update(
    request: Request, staff: CurrentStaff, user_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    draft = {name: str(form.get(name) or "")[:200] for name in ("display_name", "role", "units")}
    now = policies_of(request).now()

    def update(session: Session) -> None:
        users.update_user(
            session,
            user_id,
            actor=staff.actor,
            role=_role(draft["role"]),
            unit_codes=_codes(draft["units"]),
            display_name=draft["display_name"],
            now=now,
        )

    return await _change(request, staff, user_id, update, "saved", edit_draft=draft)


async def _change(
    request: Request,
    staff: CurrentStaff,
    user_id: int,
    step: Any,
    done: str,
    *,
    edit_draft: dict[str, str] | None = None,
) -> Response:
    """Run one change of an account; a refusal answers the account's page with why."""
    try:
        await write(request, step)
    except DomainError as exc:
        if isinstance(exc, Forbidden):
            raise
        return await _users_page(
            request,
            staff,
            manage=user_id,
            edit_draft=edit_draft,
            error=refusal(staff.lang, exc),
            status_code=409 if exc.code == "conflict" else 400,
        )
    return RedirectResponse(f"{PREFIX}/users?manage={user_id}&done={done}#manage", status_code=303)


@router.post("/users/{user_id}/active")
async def user_active(
    request: Request, staff: CurrentStaff, user_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    active = form.get("active") == "1"
    now = policies_of(request).now()

    def toggle(session: Session) -> None:
        users.set_active(session, user_id, active, actor=staff.actor, now=now)

    return await _change(request, staff, user_id, toggle, "activated" if active else "deactivated")


@router.post("/users/{user_id}/unlock")
async def user_unlock(
    request: Request, staff: CurrentStaff, user_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    now = policies_of(request).now()

    def unlock(session: Session) -> None:
        users.unlock_user(session, user_id, actor=staff.actor, now=now)

    return await _change(request, staff, user_id, unlock, "unlocked")


@router.post("/users/{user_id}/password")
async def user_reset_password(
    request: Request, staff: CurrentStaff, user_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    typed = str(form.get("password") or "")[:1000]
    password = typed or users.generate_password()
    now = policies_of(request).now()

    def reset(session: Session) -> str:
        user = users.reset_password(session, user_id, password, actor=staff.actor, now=now)
        return user.username

    try:
        username = await write(request, reset)
    except DomainError as exc:
        if isinstance(exc, Forbidden):
            raise
        return await _users_page(
            request,
            staff,
            manage=user_id,
            error=refusal(staff.lang, exc),
            status_code=409 if exc.code == "conflict" else 400,
        )
    return await _users_page(
        request, staff, manage=user_id, shown=Shown("reset", username, password)
    )


@router.post("/users/{user_id}/link-code")
async def user_link_code(
    request: Request, staff: CurrentStaff, user_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """A link code for another account (its owner scans or types it)."""
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    policies = policies_of(request)
    now = policies.now()

    def make(session: Session) -> tuple[str, datetime, str]:
        code, expires = create_link_code(session, user_id, actor=staff.actor, now=now)
        return code, expires, users.describe_user(session, user_id).username

    try:
        code, expires, username = await write(request, make)
    except DomainError as exc:
        if isinstance(exc, Forbidden):
            raise
        return await _users_page(
            request, staff, manage=user_id, error=refusal(staff.lang, exc), status_code=400
        )
    link = link_deep_link(policies.settings.public_bot_username, code)
    title = f"QR /link {code}"
    shown = Shown("code", username, code, link, qr_svg(link, title), expires)
    return await _users_page(request, staff, manage=user_id, shown=shown)


@router.post("/users/{user_id}/telegram-unlink")
async def user_telegram_unlink(
    request: Request, staff: CurrentStaff, user_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """Remove another account's Telegram link (a lost phone): no digest or reminder goes to
    that chat any more."""
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    now = policies_of(request).now()

    def unlink(session: Session) -> None:
        unlink_telegram(session, user_id, actor=staff.actor, now=now)

    return await _change(request, staff, user_id, unlink, "unlinked")


@router.post("/users/{user_id}/officer")
async def user_officer(
    request: Request, staff: CurrentStaff, user_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """Link the account to the officer it belongs to, by NIP (empty: remove the link): the
    reports naming that officer are then hidden from it, and it reads its own evaluation."""
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    nip = str(form.get("nip") or "")[:40].strip() or None
    now = policies_of(request).now()

    def link(session: Session) -> None:
        users.link_officer(session, user_id, nip, actor=staff.actor, now=now)

    done = "officer_linked" if nip else "officer_unlinked"
    return await _change(request, staff, user_id, link, done)


# One's own Telegram link (every signed-in user) ------------------------------------------

TELEGRAM_NOTICES = ("unlinked", "alerts_on", "alerts_off", "notices_saved")


@dataclass(frozen=True)
class NoticeChoice:
    """Where the account's alerts, reminders and digests go, as the page shows it."""

    channel: str  # a Channel's value: "telegram" or "email"
    email: str  # the account's e-mail address for them ("" if none)


async def _telegram_page(
    request: Request,
    staff: Staff,
    *,
    shown: Shown | None = None,
    notice: str = "",
    draft: NoticeChoice | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    policies = policies_of(request)
    user_id = staff.actor.user_id

    def load(session: Session) -> tuple[bool, bool, NoticeChoice]:
        user = session.get(AppUser, user_id)
        email = staff_address(session, user_id, Channel.email)
        choice = NoticeChoice(
            channel=notice_channel(user).value if user is not None else Channel.telegram.value,
            email=email.address if email is not None else "",
        )
        linked = staff_address(session, user_id) is not None
        return linked, case_alerts_on(session, user_id), choice

    linked, alerts_on, choice = await read(request, load)
    alert_policy = AlertPolicy.from_settings(policies.settings)
    serious = ", ".join(category_label(code, staff.lang) for code in sorted(alert_policy.serious))
    return render(
        request,
        "link.html",
        staff.lang,
        staff,
        active="telegram",
        linked=linked,
        alerts=may_receive_case_alerts(actor=staff.actor),
        alerts_on=alerts_on,
        alert_minutes=policies.settings.case_alert_minutes,
        alert_serious=serious,
        admin=staff.actor.is_admin,
        bot=policies.settings.public_bot_username.lstrip("@"),
        shown=shown,
        notice=notice,
        choice=draft or choice,
        saved_channel=choice.channel,
        mail_ready=bool(policies.settings.smtp_host),
        notice_error=error,
        status_code=status_code,
    )


@router.get("/telegram")
async def telegram_page(
    request: Request,
    staff: CurrentStaff,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    notice = done if done in TELEGRAM_NOTICES else ""
    return await _telegram_page(request, staff, notice=notice)


@router.post("/telegram/unlink")
async def telegram_unlink(request: Request, staff: CurrentStaff) -> Response:
    """Remove one's own Telegram link; the page then offers a link code again."""
    form = dict(await request.form())
    check_csrf(request, staff, form)
    now = policies_of(request).now()
    user_id = staff.actor.user_id

    def unlink(session: Session) -> None:
        unlink_telegram(session, user_id, actor=staff.actor, now=now)

    await write(request, unlink)
    return RedirectResponse(f"{PREFIX}/telegram?done=unlinked", status_code=303)


@router.post("/telegram/alerts")
async def telegram_alerts(request: Request, staff: CurrentStaff) -> Response:
    """Turn one's own new-complaint alerts on or off."""
    form = dict(await request.form())
    check_csrf(request, staff, form)
    on = form.get("alerts") == "on"
    now = policies_of(request).now()

    def save(session: Session) -> None:
        set_case_alerts(session, on, actor=staff.actor, now=now)

    await write(request, save)
    done = "alerts_on" if on else "alerts_off"
    return RedirectResponse(f"{PREFIX}/telegram?done={done}", status_code=303)


@router.post("/telegram/notices")
async def telegram_notices(request: Request, staff: CurrentStaff) -> Response:
    """One's own e-mail address for notices, and whether alerts, reminders and digests go
    to Telegram or to e-mail."""
    form = dict(await request.form())
    check_csrf(request, staff, form)
    policies = policies_of(request)
    email = str(form.get("email", ""))[:400]
    wanted = str(form.get("channel", ""))
    draft = NoticeChoice(channel=wanted, email=email.strip())
    if wanted not in (Channel.telegram.value, Channel.email.value):
        error = t(staff.lang, "mailpage.channel_needed")
        return await _telegram_page(request, staff, draft=draft, error=error, status_code=400)
    channel = Channel(wanted)
    if channel is Channel.email and not policies.settings.smtp_host:
        error = t(staff.lang, "mailpage.mail_off")
        return await _telegram_page(request, staff, draft=draft, error=error, status_code=409)
    now = policies.now()

    def save(session: Session) -> None:
        set_staff_notices(session, email=email, channel=channel, actor=staff.actor, now=now)
        user = session.get(AppUser, staff.actor.user_id)
        if user is not None:  # audited as the Telegram link is: not the address itself
            detail = f"own notices by {channel.value}"
            users.audit_account_change(session, user, detail, actor=staff.actor, now=now)

    try:
        await write(request, save)
    except DomainError as exc:
        if isinstance(exc, Forbidden):
            raise
        status = 409 if exc.code == "conflict" else 400
        error = refusal(staff.lang, exc)
        return await _telegram_page(request, staff, draft=draft, error=error, status_code=status)
    return RedirectResponse(f"{PREFIX}/telegram?done=notices_saved", status_code=303)


@router.post("/telegram/code")
async def telegram_code(request: Request, staff: CurrentStaff) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    policies = policies_of(request)
    now = policies.now()

    def make(session: Session) -> tuple[str, datetime]:
        return create_own_link_code(session, actor=staff.actor, now=now)

    code, expires = await write(request, make)
    link = link_deep_link(policies.settings.public_bot_username, code)
    qr = qr_svg(link, f"QR /link {code}")
    shown = Shown("code", staff.actor.username, code, link, qr, expires)
    return await _telegram_page(request, staff, shown=shown)
