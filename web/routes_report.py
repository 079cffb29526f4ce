"""Report a problem on the web: the bot's complaint (conversations/complaint.py) as one form.

`/lapor` lists the active units (a GET search by name); `/lapor/{code}` (a unit's code or a
QR payload, as `/nilai/{code}`) is the form for that unit: the officer (the unit's active
officers by name, or "don't know"), the category with the bot's explanation, the
description, up to three photos, an optional location (a typed address is added to the
description as the bot adds it), the privacy level, an optional phone number and e-mail
address, the bot's privacy notice with its consent, and a confirmation that the citizen
checked what they wrote: the form is its own summary, so photos are chosen once.

A refusal shows the form again with everything typed or chosen kept, except the photos a
browser cannot refill (the page says to choose them again). The filed report's post is
answered with the page that shows the reference, the follow-up code and the private link
(no redirect: the code never goes into an address, where a shared tablet's history would
keep it; the page is not stored, `no-store`). A form's `submission` id is filed once per
device: sent again (a reload re-posts, a second press), it answers that the report was
already sent, with its reference but not its code (this process keeps no codes).

Photos are cleaned (decoded, scaled down, re-encoded without metadata) in a worker thread
before the filing's transaction begins, so large pictures never hold the write turn.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from conversations.complaint import MAX_ADDRESS, MIN_ADDRESS
from conversations.i18n import t as bot_t
from core.cases.categories import CATEGORIES, category_label
from core.cases.intake import normalise_email, normalise_phone
from core.cases.models import Privacy
from core.cases.policy import (
    MAX_ATTACHMENTS,
    ComplaintDraft,
    Rule,
    RuleBroken,
    TooManyComplaints,
    check_description,
    check_location,
)
from core.cases.web_mail import queue_follow_up_link
from core.cases.web_reports import (
    AlreadyFiled,
    WebReporter,
    clean_photos,
    device_key,
    file_web_complaint,
    shown_code,
    web_complaints_today,
)
from core.masterdata.models import Officer, Unit
from core.masterdata.service import active_officers, offered_unit
from core.people.models import Intake, Language
from core.shared.errors import InvalidInput
from httpkit.guard import MAX_BODY_BYTES
from web.i18n import t as web_t
from web.pages import (
    StampCheck,
    bad_form,
    check_form,
    device_token,
    error_page,
    form_of,
    lang_of,
    may_post,
    policies_of,
    read,
    render,
    write,
)
from web.routes_survey import preselection, unit_list

router = APIRouter()

CATEGORY_CODES = tuple(CATEGORIES)
MAX_DESCRIPTION_KEPT = 4096  # a too long description kept to cut, as the bot keeps it
MAX_PHONE_TYPED = 40
MAX_FIELD_KEPT = 400  # of a malformed short field, shown again
MAX_FILES = 10  # file parts read at most (more than MAX_ATTACHMENTS: refused with a message)
SUBMISSION_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


# The form -----------------------------------------------------------------------------------


@dataclass
class Target:
    code: str
    unit: Unit
    officers: list[Officer]
    service_id: int | None = None
    officer_id: int | None = None  # named by the QR code


@dataclass
class Typed:
    """What the citizen typed and chose, kept to show the form again."""

    officer: str = ""
    category: str = ""
    description: str = ""
    address: str = ""
    latitude: str = ""
    longitude: str = ""
    privacy: str = ""
    phone: str = ""
    email: str = ""
    consent: bool = False
    confirm: bool = False
    submission: str = ""


@dataclass
class Checked:
    """The form's values once every field passed, or the fields' errors."""

    errors: dict[str, str] = field(default_factory=dict)
    officer_id: int | None = None
    description: str = ""
    latitude: float | None = None
    longitude: float | None = None
    privacy: Privacy = Privacy.biasa
    phone: str | None = None
    email: str | None = None


def load_target(session: Session, code: str) -> Target | None:
    pre = preselection(session, code)
    if pre is None:
        return None
    unit = offered_unit(session, pre.unit_id)
    if unit is None:
        return None
    return Target(
        code=code,
        unit=unit,
        officers=list(active_officers(session, pre.unit_id)),
        service_id=pre.service_id,
        officer_id=pre.officer_id,
    )


def _text(form: Mapping[str, Any], name: str, keep: int = MAX_FIELD_KEPT) -> str:
    value = form.get(name)
    return value[:keep] if isinstance(value, str) else ""


def _typed(form: Mapping[str, Any]) -> Typed:
    description = form.get("description")
    return Typed(
        officer=_text(form, "officer"),
        category=_text(form, "category"),
        description=description if isinstance(description, str) else "",
        address=_text(form, "address"),
        latitude=_text(form, "latitude", 40),
        longitude=_text(form, "longitude", 40),
        privacy=_text(form, "privacy"),
        phone=_text(form, "phone", 100),
        email=_text(form, "email", 320),
        consent=form.get("consent") == "yes",
        confirm=form.get("confirm") == "yes",
        submission=_text(form, "submission", 100),
    )


def _with_address(lang: str, description: str, address: str) -> str:
    """The description with the typed address added, as the bot adds it."""
    return f"{description}\n\n{bot_t(lang, 'cmp.location.address_label')}: {address}"


def _coordinate(text: str) -> float | None:
    """A typed coordinate (a comma as the decimal mark too); None when blank; ValueError when
    it is no number."""
    cleaned = text.strip().replace(",", ".")
    return float(cleaned) if cleaned else None


def check_fields(
    request: Request, target: Target, typed: Typed, photo_error: str | None
) -> Checked:
    """Every field of the form checked as the bot checks its steps: the errors by field."""
    lang = lang_of(request)
    policy = policies_of(request).cases
    out = Checked()
    errors = out.errors
    officer = typed.officer or "0"
    if not officer.isdigit() or len(officer) > 9:
        errors["officer"] = web_t(lang, "report.error.officer")
    elif int(officer):
        if int(officer) not in {o.id for o in target.officers}:
            errors["officer"] = web_t(lang, "report.error.officer")
        else:
            out.officer_id = int(officer)
    if typed.category not in CATEGORIES:
        errors["category"] = web_t(lang, "report.error.category")
    try:
        out.description = check_description(policy, typed.description)
    except RuleBroken as broken:
        length = broken.length if broken.length is not None else len(typed.description.strip())
        key = "report.desc.too_short" if broken.rule == Rule.too_short else "report.desc.too_long"
        errors["description"] = web_t(
            lang,
            key,
            length=length,
            min=policy.min_description,
            max=policy.max_description,
            cut=length - policy.max_description,
        )
    if photo_error:
        errors["photos"] = photo_error
    address = " ".join(typed.address.split())
    if address and "description" not in errors:
        room = policy.max_description - len(_with_address(lang, out.description, ""))
        longest = max(0, min(MAX_ADDRESS, room))
        if longest < MIN_ADDRESS:
            errors["address"] = web_t(lang, "report.address.no_room")
        elif not MIN_ADDRESS <= len(address) <= longest:
            errors["address"] = bot_t(
                lang, "cmp.location.address_length", min=MIN_ADDRESS, max=longest
            )
        else:
            out.description = _with_address(lang, out.description, address)
    elif address and not MIN_ADDRESS <= len(address) <= MAX_ADDRESS:
        errors["address"] = bot_t(
            lang, "cmp.location.address_length", min=MIN_ADDRESS, max=MAX_ADDRESS
        )
    try:
        latitude, longitude = _coordinate(typed.latitude), _coordinate(typed.longitude)
        check_location(latitude, longitude)
        out.latitude, out.longitude = latitude, longitude
    except (ValueError, InvalidInput):
        errors["location"] = web_t(lang, "report.error.location")
    try:
        out.privacy = Privacy(typed.privacy)
    except ValueError:
        errors["privacy"] = web_t(lang, "report.error.privacy")
    try:
        if len(typed.phone) > MAX_PHONE_TYPED:
            raise InvalidInput("too long")
        out.phone = normalise_phone(typed.phone)
    except InvalidInput:
        errors["phone"] = bot_t(lang, "cmp.phone.invalid")
    try:
        out.email = normalise_email(typed.email)
    except InvalidInput:
        errors["email"] = web_t(lang, "report.error.email")
    if not typed.consent:
        errors["consent"] = web_t(lang, "report.error.consent")
    if not typed.confirm:
        errors["confirm"] = web_t(lang, "report.error.confirm")
    return out


async def _photos(request: Request, form: Any) -> tuple[list[bytes], str | None, bool]:
    """The photos chosen (empty file inputs left out), an error about them if any, and
    whether any was chosen (then a refusal says to choose them again)."""
    lang = lang_of(request)
    limit = policies_of(request).settings.attachment_max_bytes
    files = [
        f
        for f in form.getlist("photos")
        if isinstance(f, UploadFile) and (f.filename or (f.size or 0) > 0)
    ]
    if not files:
        return [], None, False
    if len(files) > MAX_ATTACHMENTS:
        return [], web_t(lang, "report.photos.too_many", max=MAX_ATTACHMENTS), True
    photos: list[bytes] = []
    for n, upload in enumerate(files, start=1):
        data = await upload.read(limit + 1)
        if len(data) > limit:
            return [], web_t(lang, "report.photos.too_big", n=n, mb=_mb(limit)), True
        if not data:
            return [], web_t(lang, "report.photos.bad", n=n), True
        photos.append(data)
    return photos, None, True


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}" if size >= 1024 * 1024 else f"{size / (1024 * 1024):.1f}"


def _form_page(
    request: Request,
    target: Target,
    typed: Typed,
    *,
    status_code: int = 200,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    photos_again: bool = False,
) -> Response:
    lang = lang_of(request)
    settings = policies_of(request).settings
    policy = policies_of(request).cases

    def bt(key: str, **params: object) -> str:
        return bot_t(lang, key, **params)

    if not typed.submission:
        typed.submission = secrets.token_urlsafe(16)
    if not typed.officer and target.officer_id is not None:
        typed.officer = str(target.officer_id)
    notice_paragraphs = web_t(lang, "web.consent.notice", area=settings.area_name).split("\n\n")
    return render(
        request,
        "report_form.html",
        status_code=status_code,
        bt=bt,
        target=target,
        typed=typed,
        errors=errors or {},
        notice=notice,
        photos_again=photos_again,
        # E-mail is offered only where the office's SMTP server is configured: an address
        # left otherwise would wait for a mail that never goes.
        mail_on=bool(settings.smtp_host),
        categories=[(c, category_label(c, lang)) for c in CATEGORY_CODES],
        privacy_levels=[p.value for p in Privacy],
        min_description=policy.min_description,
        max_description=policy.max_description,
        max_address=MAX_ADDRESS,
        max_photos=MAX_ATTACHMENTS,
        photo_mb=_mb(settings.attachment_max_bytes),
        post_mb=MAX_BODY_BYTES // (1024 * 1024),
        consent_notice=notice_paragraphs,
    )


def _device(request: Request) -> str:
    return device_key(policies_of(request).settings.pseudonym_key, device_token(request))


def _limit_page(request: Request) -> Response:
    per_day = policies_of(request).cases.complaints_per_day
    return render(request, "report_limit.html", status_code=429, per_day=per_day)


def _done_page(request: Request, reference: str, code: str) -> Response:
    """The filed report's reference, follow-up code and private link, as the post's answer."""
    link = f"{policies_of(request).settings.public_base_url}/lacak/{reference}/{code}"
    return render(
        request, "report_done.html", reference=reference, code=shown_code(code), link=link
    )


# Routes ---------------------------------------------------------------------------------------


@router.get("/lapor")
async def units(request: Request, q: Annotated[str, Query(max_length=500)] = "") -> Response:
    lang = lang_of(request)
    title, lead = web_t(lang, "report.title"), web_t(lang, "report.units_lead")
    return await unit_list(request, q, base="/lapor", title=title, lead=lead)


@router.get("/lapor/selesai/{token}")
async def done(request: Request, token: str) -> Response:
    """The address the done page once had (a bookmark, the history): it shows no code now,
    only how to follow a report."""
    return render(request, "report_done.html", status_code=410, reference=None)


@router.get("/lapor/{code}")
async def form(request: Request, code: str) -> Response:
    policies = policies_of(request)

    def look(session: Session) -> tuple[Target | None, int]:
        count = web_complaints_today(session, _device(request), policies.cases, now=policies.now())
        return load_target(session, code), count

    target, today = await read(request, look)
    if target is None:
        return error_page(request, 404, "report.unknown")
    if today >= policies.cases.complaints_per_day:
        return _limit_page(request)
    return _form_page(request, target, Typed())


@router.post("/lapor/{code}")
async def send(request: Request, code: str) -> Response:
    """The form sent: filed (then the done page), or the form again saying what to correct."""
    if not may_post(request):
        return error_page(request, 429, "error.429")
    posted = await form_of(request, max_files=MAX_FILES, max_fields=100)
    check = check_form(request, posted)
    if check is StampCheck.bad:
        return bad_form(request)
    target = await read(request, lambda s: load_target(s, code))
    if target is None:
        return error_page(request, 404, "report.unknown")
    typed = _typed(posted)
    lang = lang_of(request)
    photos, photo_error, chose_photos = await _photos(request, posted)
    shown = Typed(**{**typed.__dict__, "description": typed.description[:MAX_DESCRIPTION_KEPT]})
    if not SUBMISSION_RE.fullmatch(typed.submission):
        return error_page(request, 400, "error.400")
    if check is StampCheck.too_fast:
        notice = web_t(lang, "form.too_fast")
        return _form_page(request, target, shown, notice=notice, photos_again=chose_photos)
    checked = check_fields(request, target, typed, photo_error)
    if checked.errors:
        return _form_page(
            request, target, shown, status_code=400, errors=checked.errors,
            photos_again=chose_photos,
        )  # fmt: skip
    result = await _file(request, target, typed, checked, photos, shown, chose_photos)
    if isinstance(result, Response):
        return result
    return _done_page(request, *result)


async def _file(
    request: Request,
    target: Target,
    typed: Typed,
    checked: Checked,
    photos: list[bytes],
    shown: Typed,
    chose_photos: bool,
) -> tuple[str, str] | Response:
    """The report filed: its reference and code, or the page that says why not."""
    lang = lang_of(request)
    policies = policies_of(request)
    settings = policies.settings
    assert target.unit.id is not None
    draft = ComplaintDraft(
        unit_id=target.unit.id,
        officer_id=checked.officer_id,
        service_id=target.service_id,
        category=typed.category,
        description=checked.description,
        privacy=checked.privacy,
        latitude=checked.latitude,
        longitude=checked.longitude,
        channel=Intake.web,
    )
    try:  # CPU-heavy: in a worker thread, before the write transaction
        cleaned = await anyio.to_thread.run_sync(
            clean_photos, photos, settings.attachment_max_bytes
        )
    except InvalidInput as refused:
        n = refused.params.get("n", 1)
        errors = {"photos": web_t(lang, "report.photos.bad", n=n)}
        return _form_page(
            request, target, shown, status_code=400, errors=errors, photos_again=chose_photos
        )
    email = checked.email if settings.smtp_host else None  # (the form offers none then)
    reporter = WebReporter(language=Language(lang), email=email, phone=checked.phone)

    def file(session: Session) -> tuple[str, str]:
        now = policies.now()
        filed = file_web_complaint(
            session,
            draft,
            policies.cases,
            reporter,
            device_token=device_token(request),
            secret=settings.pseudonym_key,
            photos=cleaned,
            photos_cleaned=True,
            attachments_root=Path(settings.attachments_dir),
            max_photo_bytes=settings.attachment_max_bytes,
            submission=typed.submission,
            now=now,
        )
        if reporter.email is not None:  # the private link by e-mail, in the same transaction
            queue_follow_up_link(
                session,
                case=filed.case,
                code=shown_code(filed.code),
                to_email=reporter.email,
                language=reporter.language.value,
                now=now,
            )
        return filed.case.reference, filed.code

    try:
        return await write(request, file)
    except AlreadyFiled as again:  # the same form sent twice: the first report, never its code
        if again.reference is None:
            return render(request, "report_limit.html", status_code=409, busy=True)
        return render(
            request, "report_done.html", status_code=409, reference=again.reference, again=True
        )
    except TooManyComplaints:
        return _limit_page(request)
    except InvalidInput as refused:
        errors = {"form": web_t(lang, "report.error.changed")}
        if refused.why == "web.photo_bad":
            errors = {"photos": web_t(lang, "report.photos.bad", n=refused.params.get("n", 1))}
        elif refused.why == "case.category_unknown":
            errors = {"category": web_t(lang, "report.error.category")}
        elif refused.why == "case.officer_not_in_unit":
            errors = {"officer": web_t(lang, "report.error.officer")}
        return _form_page(
            request, target, shown, status_code=400, errors=errors, photos_again=chose_photos
        )
