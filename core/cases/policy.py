"""What a case is made of before it is filed: the policy (SLA, limits), drafts, who acts, the
running deadline, and the rules on what a citizen types (one function each, for every channel)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.cases.models import (
    ActorKind,
    Case,
    CaseStatus,
    Privacy,
)
from core.cases.sla import SlaPolicy
from core.people.models import Intake
from core.shared.config import Settings
from core.shared.errors import Conflict, InvalidInput

MAX_ATTACHMENTS = 3
MAX_TEXT = 2000
MIN_ANSWER = 5  # a citizen's answer about their case: a reason, a reply to a question
MAX_ANSWER = MAX_TEXT
REFERENCE_RE = re.compile(r"[A-Z]{2,6}-[0-9]{4}-[0-9]{4,7}")
# As people type it: the dashes may be left out (KPG26110042).
_TYPED_REFERENCE_RE = re.compile(r"([A-Z]{2,6})[- ]?([0-9]{4})[- ]?([0-9]{4,7})")


class IllegalTransition(Conflict):
    code = "illegal_transition"


class TooManyComplaints(Conflict):
    code = "too_many_complaints"


@dataclass(frozen=True)
class CasePolicy:
    sla: SlaPolicy
    reference_prefix: str = "KPG"
    reopen_window_days: int = 14
    autoclose_days: int = 14
    complaints_per_day: int = 5
    duplicate_window_days: int = 14
    min_description: int = 20
    max_description: int = MAX_TEXT

    @classmethod
    def from_settings(cls, settings: Settings) -> CasePolicy:
        return cls(
            sla=SlaPolicy.from_settings(settings),
            reference_prefix=settings.case_reference_prefix,
            reopen_window_days=settings.reopen_window_days,
            autoclose_days=settings.autoclose_days,
            complaints_per_day=settings.complaints_per_day,
        )


@dataclass(frozen=True)
class EventActor:
    kind: ActorKind
    user_id: int | None = None


SYSTEM = EventActor(ActorKind.system)


@dataclass(frozen=True)
class ComplaintDraft:
    unit_id: int
    category: str
    description: str
    privacy: Privacy = Privacy.biasa
    officer_id: int | None = None
    service_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    # The channel's references to photos sent with it (Telegram file ids), fetched later.
    photos: tuple[str, ...] = ()
    channel: Intake = Intake.telegram


def refresh_due(case: Case) -> None:
    status = case.status
    if status == CaseStatus.received:
        case.due_at = min(case.verify_due_at, case.resolve_due_at)
    elif status == CaseStatus.verified:
        # (imported or legacy cases may lack a follow-up deadline)
        case.due_at = min(case.followup_due_at or case.resolve_due_at, case.resolve_due_at)
    elif status == CaseStatus.in_progress:
        case.due_at = case.resolve_due_at
    else:
        case.due_at = None


# What a citizen types, checked the same way in every channel ------------------------------


class Rule(StrEnum):
    """Which rule an input broke: a channel maps it to its own wording."""

    too_short = "too_short"
    too_long = "too_long"
    too_many_attachments = "too_many_attachments"
    location_incomplete = "location_incomplete"
    location_off_earth = "location_off_earth"


class RuleBroken(InvalidInput):
    """Input a citizen can correct; `rule` says which rule, `length` the length counted."""

    def __init__(self, rule: Rule, message: str, *, length: int | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.length = length


def _check_length(text: str, low: int, high: int, what: str) -> str:
    cleaned = text.strip()
    length = len(cleaned)
    if length < low:
        raise RuleBroken(Rule.too_short, f"{what} must be {low}-{high} characters", length=length)
    if length > high:
        raise RuleBroken(Rule.too_long, f"{what} must be {low}-{high} characters", length=length)
    return cleaned


def check_description(policy: CasePolicy, text: str) -> str:
    """The complaint's description without surrounding whitespace, if its length is within the
    policy's bounds (inclusive); else RuleBroken (too_short or too_long, with the length)."""
    return _check_length(text, policy.min_description, policy.max_description, "the description")


def check_answer(text: str, what: str = "the answer") -> str:
    """A citizen's answer about their case (why not satisfied, a reply to a question), stripped,
    if it is MIN_ANSWER-MAX_ANSWER characters long; else RuleBroken naming `what`."""
    return _check_length(text, MIN_ANSWER, MAX_ANSWER, what)


def check_attachments(count: int) -> None:
    """A complaint carries at most MAX_ATTACHMENTS photos."""
    if count > MAX_ATTACHMENTS:
        raise RuleBroken(Rule.too_many_attachments, f"at most {MAX_ATTACHMENTS} photos")


def check_location(latitude: float | None, longitude: float | None) -> None:
    """No location, or a point on Earth (both coordinates, in range, finite)."""
    if latitude is None and longitude is None:
        return
    if latitude is None or longitude is None:
        raise RuleBroken(Rule.location_incomplete, "a location needs both latitude and longitude")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):  # (NaN is in no range)
        raise RuleBroken(Rule.location_off_earth, "the location is not on Earth")


def parse_reference(text: str) -> str | None:
    """A case reference as a person types it (`kpg-2611-0042`, `KPG26110042`, `KPG 2611 0042`,
    surrounding spaces) in its stored form (`KPG-2611-0042`); None if it cannot be one."""
    typed = _TYPED_REFERENCE_RE.fullmatch(text.strip().upper())
    return None if typed is None else "-".join(typed.groups())


def parse_privacy(value: str) -> Privacy | None:
    """The privacy level a citizen chose, by its code; None for anything else."""
    try:
        return Privacy(value)
    except ValueError:
        return None
