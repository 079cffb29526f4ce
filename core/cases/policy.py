"""What a case is made of before it is filed: the policy (SLA, limits), drafts, who acts, and the
running deadline."""

from __future__ import annotations

from dataclasses import dataclass

from core.cases.models import (
    ActorKind,
    Case,
    CaseStatus,
    Privacy,
)
from core.cases.sla import SlaPolicy
from core.shared.config import Settings
from core.shared.errors import Conflict

MAX_ATTACHMENTS = 3
MAX_TEXT = 2000


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
            sla=SlaPolicy(
                tz=settings.tz,
                verify_working_days=settings.sla_verify_working_days,
                followup_working_days=settings.sla_followup_working_days,
                resolve_days=settings.sla_resolve_days,
            ),
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
    photo_file_ids: tuple[str, ...] = ()


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
