"""Complaints filed on the public web site, and how their reporters follow them without an
account.

A web reporter is a citizen of their own (one per report: a shared phone or the counter's
tablet must not tie two people's reports together), with their consent, language and, if they
leave them, a call-back phone number and an e-mail address (a contact on `Channel.email`, so
the case's notices reach them by e-mail through the outbox).

What identifies the reporter is the reference and an 8-character follow-up code, shown once
and kept only as a keyed hash (HMAC-SHA256 under PSEUDONYM_KEY, which must stay the same
across restarts). Wrong codes for a reference are counted; after `max_failures` the reference
is locked for wrong codes for a while (the right code still opens it: nobody can lock a
reporter out); the web also caps wrong codes per client address across references.

The daily limit on complaints counts per device: the browser's long-lived cookie token, kept
here only as a keyed hash. Many citizens share one network address (mobile carriers, an
office's Wi-Fi), so the address is never the limit's key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.cases.attachments import BadImage, store_photo, strip_metadata
from core.cases.filing import open_case, validate_draft
from core.cases.models import ActorKind, Attachment, Case, WebReport
from core.cases.policy import (
    CasePolicy,
    ComplaintDraft,
    EventActor,
    TooManyComplaints,
    check_attachments,
)
from core.people.models import Channel, Citizen, Contact, Intake, Language
from core.shared.clock import local_day_bounds_utc, utcnow
from core.shared.errors import Conflict, InvalidInput

# No 0/O, 1/I/L: a code is copied by hand from a phone's screen onto paper and back.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_CODE_CHARS = frozenset(CODE_ALPHABET)
_TYPED_SEPARATORS = str.maketrans("", "", " -.\t")
# The device cookie's token, as core.surveys.respondents accepts it.
_DEVICE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class FollowUpAttempt:
    """What a reference and code opened: the case, or nothing; `locked_minutes` > 0 when the
    reference is locked (too many wrong codes) for that many more minutes."""

    case: Case | None
    locked_minutes: int = 0


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def shown_code(code: str) -> str:
    """The code as it is shown and written down: two groups of four (`ABCD-EFGH`)."""
    return f"{code[:4]}-{code[4:]}"


def parse_code(text: str) -> str | None:
    """A follow-up code as typed (`abcd efgh`, `ABCD-EFGH`) in its stored form; None if it
    cannot be one."""
    typed = text.translate(_TYPED_SEPARATORS).upper()
    if len(typed) != CODE_LENGTH or not set(typed) <= _CODE_CHARS:
        return None
    return typed


def _keyed(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def code_hash(secret: str, reference: str, code: str) -> str:
    return _keyed(secret, f"follow-up:{reference}", code)


def device_key(secret: str, device_token: str) -> str:
    """The keyed hash a device's complaints are counted under; InvalidInput for a token that
    is not one (16-128 characters of A-Z a-z 0-9 _ -)."""
    if not 16 <= len(device_token) <= 128 or not set(device_token) <= _DEVICE_CHARS:
        raise InvalidInput("the device token is malformed", why="web.device_token")
    return _keyed(secret, "device", device_token)


def web_complaints_today(
    session: Session, device: str, policy: CasePolicy, *, now: datetime
) -> int:
    """Complaints filed from the device (its `device_key`) this local day."""
    today = now.astimezone(policy.sla.tz).date()
    lo, hi = local_day_bounds_utc(today, today, policy.sla.tz)
    count = session.exec(
        select(func.count())
        .select_from(WebReport)
        .where(
            WebReport.device_key == device,
            col(WebReport.created_at) >= lo,
            col(WebReport.created_at) < hi,
        )
    ).one()
    return int(count)


class AlreadyFiled(Conflict):
    """The same form was filed before: `reference` is that report's (None while the other
    request's transaction has not yet committed)."""

    code = "already_filed"

    def __init__(self, reference: str | None) -> None:
        super().__init__("this form was already sent", why="web.already_filed")
        self.reference = reference


@dataclass(frozen=True)
class WebReporter:
    """Who files a web complaint, as far as they chose to say."""

    language: Language = Language.id
    email: str | None = None  # already normalised (core.cases.intake.normalise_email)
    phone: str | None = None  # already normalised (core.cases.intake.normalise_phone)


@dataclass(frozen=True)
class FiledWebReport:
    case: Case
    code: str  # the follow-up code in clear: shown once, never stored


# A web photo: a phone's JPEG of any usual size is scaled down as it is decoded (cheap);
# other formats are decoded in full, so at most this many pixels (a 24 Mpx PNG is ~70 MB).
WEB_MAX_PIXELS = 24_000_000
WEB_MAX_SIDE = 2560  # the long side kept: enough to read a receipt or a sign


def clean_photos(photos: Sequence[bytes], max_bytes: int) -> list[bytes]:
    """Each photo re-encoded without its metadata (location included), at most WEB_MAX_SIDE
    pixels on its long side; InvalidInput naming the photo (1-based `n`) that is not a
    readable image within `max_bytes` and WEB_MAX_PIXELS. CPU-heavy: run it outside any
    transaction (in a thread) and pass its result with `photos_cleaned=True`."""
    cleaned = []
    for n, data in enumerate(photos, start=1):
        try:
            cleaned.append(
                strip_metadata(data, max_bytes, max_pixels=WEB_MAX_PIXELS, max_side=WEB_MAX_SIDE)
            )
        except BadImage:
            raise InvalidInput(
                f"photo {n} is not a readable image", why="web.photo_bad", n=n
            ) from None
    return cleaned


def file_web_complaint(
    session: Session,
    draft: ComplaintDraft,
    policy: CasePolicy,
    reporter: WebReporter,
    *,
    device_token: str,
    secret: str,
    photos: Sequence[bytes] = (),
    attachments_root: Path,
    max_photo_bytes: int,
    photos_cleaned: bool = False,
    submission: str | None = None,
    now: datetime | None = None,
) -> FiledWebReport:
    """File a complaint from the web form as a new case, with its reporter (a new citizen who
    consented), its photos stored without metadata, and its follow-up code.

    TooManyComplaints when the device filed `policy.complaints_per_day` today; InvalidInput
    (or RuleBroken) for a draft or photo the citizen must correct. `photos_cleaned`: the
    photos are `clean_photos`' output already (cleaned before the transaction began).
    `submission`: the form's random id; AlreadyFiled when this device filed it before (with
    that report's reference) or files it at this moment in another transaction."""
    now = now or utcnow()
    if draft.channel is not Intake.web or draft.photos:
        raise ValueError("a web complaint's photos come as bytes, and its channel is web")
    device = device_key(secret, device_token)
    submitted = (
        None if submission is None else _keyed(secret, "submission", f"{device}:{submission}")
    )
    if submitted is not None:
        earlier = session.exec(
            select(Case.reference)
            .join(WebReport, col(WebReport.case_id) == col(Case.id))
            .where(WebReport.submission_key == submitted)
        ).first()
        if earlier is not None:
            raise AlreadyFiled(earlier)
    validate_draft(session, draft, policy)
    check_attachments(len(photos))
    cleaned = list(photos) if photos_cleaned else clean_photos(photos, max_photo_bytes)
    if web_complaints_today(session, device, policy, now=now) >= policy.complaints_per_day:
        raise TooManyComplaints(f"at most {policy.complaints_per_day} complaints a day")
    citizen = Citizen(language=reporter.language.value, consent_at=now, phone=reporter.phone)
    session.add(citizen)
    session.flush()
    assert citizen.id is not None
    if reporter.email is not None:
        session.add(
            Contact(channel=Channel.email.value, address=reporter.email, citizen_id=citizen.id)
        )
    case = open_case(
        session, draft, policy, citizen_id=citizen.id, who=EventActor(ActorKind.citizen), now=now
    )
    assert case.id is not None
    code = new_code()
    try:
        with session.begin_nested():
            session.add(
                WebReport(
                    case_id=case.id,
                    code_hash=code_hash(secret, case.reference, code),
                    device_key=device,
                    submission_key=submitted,
                    created_at=now,
                )
            )
    except IntegrityError:  # the same form, filed meanwhile by a concurrent request
        raise AlreadyFiled(None) from None
    for n, data in enumerate(cleaned, start=1):
        attachment = Attachment(
            case_id=case.id, source=Intake.web.value, reference=f"web-{n}", created_at=now
        )
        session.add(attachment)
        session.flush()
        store_photo(session, attachment, data, attachments_root, max_photo_bytes, cleaned=True)
    session.flush()
    return FiledWebReport(case=case, code=code)


def open_web_report(
    session: Session,
    reference: str,
    code: str,
    *,
    secret: str,
    max_failures: int,
    lock_minutes: int,
    now: datetime | None = None,
) -> FollowUpAttempt:
    """The web report with this reference, if `code` is its follow-up code; else no case (the
    same for an unknown reference, a wrong code and a reporter who erased their data).

    The code is checked first: the right code always opens the report (and clears its wrong
    codes and lock), so nobody can lock a reporter out by sending wrong codes for their
    reference. Call it in a write transaction and commit whatever it answers: a wrong code is
    counted, and every `max_failures`-th locks the reference for `lock_minutes`; while locked,
    wrong codes answer `locked_minutes` (still counted). Callers should answer a locked
    reference as any wrong code: the lock is no oracle for whether a reference exists."""
    now = now or utcnow()
    row = session.exec(
        select(WebReport, Case)
        .join(Case, col(Case.id) == col(WebReport.case_id))
        .where(Case.reference == reference)
        .with_for_update(of=WebReport)
    ).first()
    if row is None:
        return FollowUpAttempt(case=None)
    access, case = row
    if hmac.compare_digest(access.code_hash, code_hash(secret, reference, code)):
        if access.failures or access.locked_until is not None:
            access.failures, access.locked_until = 0, None
            session.add(access)
        return FollowUpAttempt(case=case if case.citizen_id is not None else None)
    access.failures += 1
    if access.failures >= max_failures:
        access.failures = 0
        access.locked_until = now + timedelta(minutes=lock_minutes)
    session.add(access)
    if access.locked_until is not None and access.locked_until > now:
        return FollowUpAttempt(case=None, locked_minutes=_minutes_left(access.locked_until, now))
    return FollowUpAttempt(case=None)


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, -(-int((until - now).total_seconds()) // 60))


def reporter_of(session: Session, case: Case) -> Citizen | None:
    """The web report's citizen (None once they erased their data)."""
    return None if case.citizen_id is None else session.get(Citizen, case.citizen_id)


def forget_web_reports(session: Session, citizen_id: int) -> None:
    """Erasure: the follow-up codes of the citizen's web reports stop working."""
    session.execute(
        delete(WebReport).where(
            col(WebReport.case_id).in_(select(Case.id).where(Case.citizen_id == citizen_id))
        )
    )
