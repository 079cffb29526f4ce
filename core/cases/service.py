"""Complaints as cases: the service API of the feature. Each name lives in one module beside
this one: `policy` (SLA, limits, drafts), `filing`, `lifecycle` (one function per transition of
DESIGN section 3, each with exactly one audit event, in the caller's transaction), `reading`
(opening cases, timelines, duplicate hints), `queries` (the staff list), `reminders`."""

from core.cases.filing import complaints_today, file_complaint, validate_draft
from core.cases.lifecycle import (
    add_note,
    assign,
    autoclose,
    can_reopen,
    citizen_rate,
    citizen_reply,
    close,
    reject,
    reopen,
    reporter_erased,
    request_info,
    resolve,
    verify,
)
from core.cases.policy import (
    MAX_ATTACHMENTS,
    MAX_TEXT,
    SYSTEM,
    CasePolicy,
    ComplaintDraft,
    EventActor,
    IllegalTransition,
    TooManyComplaints,
)
from core.cases.reading import (
    case_events,
    case_read_audit_actions,
    citizen_cases,
    duplicate_hints,
    get_case_for_citizen,
    get_case_for_staff,
    get_case_for_staff_by_reference,
    public_timeline,
    record_case_read,
)

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_TEXT",
    "SYSTEM",
    "CasePolicy",
    "ComplaintDraft",
    "EventActor",
    "IllegalTransition",
    "TooManyComplaints",
    "add_note",
    "assign",
    "autoclose",
    "can_reopen",
    "case_events",
    "case_read_audit_actions",
    "citizen_cases",
    "citizen_rate",
    "citizen_reply",
    "close",
    "complaints_today",
    "duplicate_hints",
    "file_complaint",
    "get_case_for_citizen",
    "get_case_for_staff",
    "get_case_for_staff_by_reference",
    "public_timeline",
    "record_case_read",
    "reject",
    "reopen",
    "reporter_erased",
    "request_info",
    "resolve",
    "validate_draft",
    "verify",
]
