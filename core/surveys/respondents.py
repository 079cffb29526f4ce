"""Who gave a survey response, as far as its channel knows: the respondent key.

The anti-gaming caps of the officer scores (core.surveys.officer_scores) count one person's
answers once a day and at most `citizen_cap` times per officer (and per unit, for the unit's
mean). They key on `survey_response.respondent_key`, stored with each response when it is
submitted: a keyed hash (HMAC-SHA256 with the secret PSEUDONYM_KEY) of the identity that the
response's channel has for the person who answered. One rule per channel, here and only here:

- telegram, whatsapp (a citizen's own chat): the citizen's contact on that channel,
  "telegram:<Telegram user id>" or "whatsapp:<phone number>".
- web (the coming web form): "web:device:<token>", a random token the form keeps on the device.
- paper, counter, phone, letter (typed in by staff from a questionnaire or a conversation
  with no stable person): "<channel>:staff:<account id>:<local day>", the staff account that
  entered it and the day it was entered: whatever one staff member enters in a day weighs
  as one respondent.

The key is one-way: the stored number is part of an HMAC, so the identity cannot be read back
from it, and without PSEUDONYM_KEY it cannot even be confirmed by trying every Telegram id.
When a citizen erases their data (core.people.citizens.erase_citizen), their answers get one
new random key instead: the caps still count them as one person's, and nothing (not even
PSEUDONYM_KEY) leads from them to the Telegram id, nor to the answers the same person gives
if they come back. Changing PSEUDONYM_KEY starts new keys: answers before and after the
change then count as two people's (change it between periods).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from core.people.models import AppUser, Contact, Intake
from core.shared.errors import InvalidInput
from core.surveys.models import RESPONDENT_KEY_FLOOR

# Keys are 62 bits of the HMAC with bit 62 set (see RESPONDENT_KEY_FLOOR).
KEY_FLOOR = RESPONDENT_KEY_FLOOR
DEVICE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")

CITIZEN_CHANNELS = frozenset({Intake.telegram, Intake.whatsapp})
DEVICE_CHANNELS = frozenset({Intake.web})
STAFF_CHANNELS = frozenset({Intake.paper, Intake.counter, Intake.phone, Intake.letter})


def respondent_key(secret: str, identity: str) -> int:
    """The pseudonymous key of `identity` (e.g. "telegram:5001") under `secret`."""
    digest = hmac.new(secret.encode(), identity.encode(), hashlib.sha256).digest()
    return KEY_FLOOR | (int.from_bytes(digest[:8], "big") >> 2)


def citizen_identity(channel: str, address: str) -> str:
    """A citizen's identity on a channel with a stable person: the contact's address."""
    return f"{channel}:{address}"


def citizen_fallback_identity(citizen_id: int) -> str:
    """A citizen with no contact on the response's channel (never the case for responses the
    conversations store): the citizen row itself."""
    return f"citizen:{citizen_id}"


def respondent_identity(
    session: Session,
    channel: Intake,
    day: date,
    *,
    citizen_id: int | None = None,
    device_token: str | None = None,
    entered_by: int | None = None,
) -> str:
    """The identity of whoever answered on `channel` (see the module's rules); InvalidInput
    when the channel's identity is missing or malformed."""
    if channel in CITIZEN_CHANNELS:
        if citizen_id is None:
            raise InvalidInput(f"a survey response on {channel.value} needs the citizen")
        address = session.execute(
            select(col(Contact.address))
            .where(col(Contact.citizen_id) == citizen_id, col(Contact.channel) == channel.value)
            .order_by(col(Contact.id))
            .limit(1)
        ).scalar_one_or_none()
        if address is None:
            return citizen_fallback_identity(citizen_id)
        return citizen_identity(channel.value, address)
    if channel in DEVICE_CHANNELS:
        if device_token is None or not DEVICE_TOKEN.fullmatch(device_token):
            raise InvalidInput(
                "a web survey response needs the device token: 16-128 characters of A-Z a-z 0-9 _ -"
            )
        return f"{channel.value}:device:{device_token}"
    if entered_by is None or session.get(AppUser, entered_by) is None:
        raise InvalidInput(
            f"a survey response from {channel.value} needs the staff account that enters it"
        )
    return f"{channel.value}:staff:{entered_by}:{day.isoformat()}"
