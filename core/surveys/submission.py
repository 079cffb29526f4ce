"""SKM survey responses: validation, the one-per-day rule, the respondent key, storage."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.masterdata.models import Officer, Service
from core.masterdata.service import require_active_unit
from core.people.models import Intake
from core.shared.clock import local_date, utcnow
from core.shared.errors import Conflict, InvalidInput
from core.surveys.models import SurveyResponse, answer_columns
from core.surveys.respondents import respondent_identity, respondent_key
from core.surveys.skm import ELEMENT_COUNT

MAX_COMMENT_LENGTH = 1000
# The respondent profile's answers, as offered and accepted now: lists that cover the people
# a unit serves (education from no schooling up; farmers, fishers, homemakers, the jobless).
PROFILE_CHOICES: dict[str, tuple[str, ...]] = {
    "sex": ("laki-laki", "perempuan"),
    "age_band": ("<20", "20-29", "30-39", "40-49", "50-59", "60+"),
    "education": ("tidak-sekolah", "sd", "smp", "sma", "d1-d3", "d4-s1", "s2+"),
    "occupation": (
        "petani",
        "nelayan",
        "ibu-rumah-tangga",
        "pelajar",
        "pns-tni-polri",
        "swasta",
        "wirausaha",
        "tidak-bekerja",
        "lainnya",
    ),
}
# Values stored by earlier lists, no longer offered: each is counted in the answer of today's
# list that contains it (`profile_group`), so old responses stay readable in the figures.
PROFILE_EARLIER: dict[str, dict[str, str]] = {
    "occupation": {"pns": "pns-tni-polri", "tni-polri": "pns-tni-polri"},
}


def profile_group(field: str, value: str | None) -> str | None:
    """A stored profile value as today's list counts it (an earlier value: the answer that
    contains it; anything else unchanged)."""
    if value is None:
        return None
    return PROFILE_EARLIER.get(field, {}).get(value, value)


class AlreadyAnsweredToday(Conflict):
    code = "already_answered_today"


@dataclass(frozen=True)
class SurveyDraft:
    unit_id: int
    answers: tuple[int, ...]
    service_id: int | None = None
    officer_id: int | None = None
    comment: str | None = None
    sex: str | None = None
    age_band: str | None = None
    education: str | None = None
    occupation: str | None = None
    channel: Intake = Intake.telegram


def daily_key(citizen_id: int, unit_id: int, service_id: int | None, day: date) -> str:
    return f"{citizen_id}:{unit_id}:{service_id or 0}:{day.isoformat()}"


def device_daily_key(
    identity: str, secret: str, unit_id: int, service_id: int | None, day: date
) -> str:
    """The one-a-day key of a web form's device (its identity's keyed hash, not the token)."""
    device = hmac.new(secret.encode(), identity.encode(), hashlib.sha256).hexdigest()[:32]
    return f"web:{device}:{unit_id}:{service_id or 0}:{day.isoformat()}"


def has_answered_today(
    session: Session,
    citizen_id: int,
    unit_id: int,
    service_id: int | None,
    tz: ZoneInfo,
    *,
    now: datetime | None = None,
) -> bool:
    day = local_date(now or utcnow(), tz)
    key = daily_key(citizen_id, unit_id, service_id, day)
    return (
        session.exec(select(SurveyResponse.id).where(SurveyResponse.daily_key == key)).first()
        is not None
    )


def device_answered_today(
    session: Session,
    device_token: str,
    secret: str,
    unit_id: int,
    service_id: int | None,
    tz: ZoneInfo,
    *,
    now: datetime | None = None,
) -> bool:
    """Whether the web form's device already rated this unit and service this local day."""
    identity = respondent_identity(session, Intake.web, date.min, device_token=device_token)
    key = device_daily_key(identity, secret, unit_id, service_id, local_date(now or utcnow(), tz))
    found = session.exec(select(SurveyResponse.id).where(SurveyResponse.daily_key == key))
    return found.first() is not None


def _validate(session: Session, draft: SurveyDraft) -> None:
    if len(draft.answers) != ELEMENT_COUNT or any(a not in (1, 2, 3, 4) for a in draft.answers):
        raise InvalidInput("all nine elements need an answer from 1 to 4")
    require_active_unit(session, draft.unit_id)
    if draft.service_id is not None:
        service = session.get(Service, draft.service_id)
        if service is None or service.unit_id != draft.unit_id or not service.active:
            raise InvalidInput("this service does not belong to the chosen unit")
    if draft.officer_id is not None:
        officer = session.get(Officer, draft.officer_id)
        if officer is None or officer.unit_id != draft.unit_id or not officer.active:
            raise InvalidInput("this officer does not serve in the chosen unit")
    if draft.comment is not None and len(draft.comment) > MAX_COMMENT_LENGTH:
        raise InvalidInput(f"the comment is longer than {MAX_COMMENT_LENGTH} characters")
    for name, choices in PROFILE_CHOICES.items():
        value = getattr(draft, name)
        if value is not None and value not in choices:
            raise InvalidInput(f"{name} must be one of {', '.join(choices)}")


def submit_survey(
    session: Session,
    draft: SurveyDraft,
    *,
    citizen_id: int | None,
    tz: ZoneInfo,
    pseudonym_key: str,
    device_token: str | None = None,
    entered_by: int | None = None,
    now: datetime | None = None,
) -> SurveyResponse:
    """Store one response. A citizen answers a unit and service at most once a local day.

    The response keeps its respondent key (core.surveys.respondents), the keyed hash under
    `pseudonym_key` (PSEUDONYM_KEY) of its channel's identity of the person: the citizen's
    contact (Telegram, WhatsApp), `device_token` (web form) or the staff account `entered_by`
    and the day (paper, counter, phone, letter)."""
    _validate(session, draft)
    moment = now or utcnow()
    day = local_date(moment, tz)
    identity = respondent_identity(
        session,
        draft.channel,
        day,
        citizen_id=citizen_id,
        device_token=device_token,
        entered_by=entered_by,
    )
    key: str | None = None
    if citizen_id:
        key = daily_key(citizen_id, draft.unit_id, draft.service_id, day)
    elif draft.channel is Intake.web:  # the web form: once a day per device
        key = device_daily_key(identity, pseudonym_key, draft.unit_id, draft.service_id, day)
    response = SurveyResponse(
        unit_id=draft.unit_id,
        service_id=draft.service_id,
        officer_id=draft.officer_id,
        citizen_id=citizen_id,
        **answer_columns(draft.answers),
        comment=(draft.comment or None),
        sex=draft.sex,
        age_band=draft.age_band,
        education=draft.education,
        occupation=draft.occupation,
        channel=draft.channel.value,
        local_date=day,
        daily_key=key,
        respondent_key=respondent_key(pseudonym_key, identity),
        created_at=moment,
    )
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        raise AlreadyAnsweredToday("already answered for this unit and service today") from None
    return response
