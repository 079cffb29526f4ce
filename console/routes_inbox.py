"""The inbox: the user's cases, most urgent first, by view, with filters, counts that
refresh themselves, and bulk actions on the selected cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console.i18n import refusal
from console.web import (
    PREFIX,
    CurrentStaff,
    Staff,
    check_csrf,
    parse_id,
    policies_of,
    polling_staff,
    read,
    render,
    write,
)
from core.access import Permission
from core.cases.categories import CATEGORIES
from core.cases.models import CaseStatus, Privacy
from core.cases.policy import parse_reference
from core.cases.queries import (
    VIEW_SORT,
    CaseFilter,
    CasePage,
    Handler,
    InboxView,
    assignable_users,
    cases_with_failed_notice,
    count_views,
    list_cases,
    views_for,
)
from core.cases.service import assign, get_case_for_staff, verify
from core.cases.sla import TimeLeft, time_left
from core.masterdata.models import Officer, Unit
from core.masterdata.service import list_officers, list_units
from core.people.preferences import mark_inbox_seen
from core.shared.errors import DomainError, InvalidInput

router = APIRouter()
PAGE = 50
MAX_BULK = 200
DEFAULT_VIEW = InboxView.verify
BULK_ACTIONS = ("verify", "assign", "forward")


def _int(value: str, what: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    number = parse_id(value)
    if number is None:
        raise InvalidInput(f"{what} must be a number")
    return number


def _day(value: str, what: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what} must be a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class Params:
    """What the inbox shows: the view and the filters, as kept in the URL."""

    view: InboxView = DEFAULT_VIEW
    q: str = ""
    unit: int | None = None
    status: str = ""
    category: str = ""
    officer: int | None = None
    assignee: int | None = None
    privacy: str = ""
    received_from: date | None = None
    received_to: date | None = None

    @classmethod
    def parse(cls, given: Mapping[str, Any], staff: Staff) -> Params:
        def text(name: str, limit: int = 60) -> str:
            return str(given.get(name) or "").strip()[:limit]

        try:
            view = InboxView(text("view"))
        except ValueError:
            view = DEFAULT_VIEW
        if view not in views_for(actor=staff.actor):
            view = DEFAULT_VIEW
        status = text("status")
        if status and status not in {s.value for s in CaseStatus}:
            raise InvalidInput("unknown status")
        privacy = text("privacy")
        if privacy and privacy not in {p.value for p in Privacy}:
            raise InvalidInput("unknown privacy level")
        return cls(
            view=view,
            q=text("q", 200),
            unit=_int(text("unit"), "unit"),
            status=status,
            category=text("category"),
            officer=_int(text("officer"), "officer"),
            assignee=_int(text("assignee"), "assignee"),
            privacy=privacy,
            received_from=_day(text("from"), "from"),
            received_to=_day(text("to"), "to"),
        )

    def filters(self) -> CaseFilter:
        return CaseFilter(
            statuses=(CaseStatus(self.status),) if self.status else (),
            unit_id=self.unit,
            officer_id=self.officer,
            assignee_id=self.assignee,
            category=self.category or None,
            privacy=self.privacy or None,
            text=self.q or None,
            received_from=self.received_from,
            received_to=self.received_to,
        )

    def fields(self) -> dict[str, str]:
        """The filters as URL parameters (the view apart), empty ones left out."""
        values = {
            "q": self.q,
            "unit": "" if self.unit is None else str(self.unit),
            "status": self.status,
            "category": self.category,
            "officer": "" if self.officer is None else str(self.officer),
            "assignee": "" if self.assignee is None else str(self.assignee),
            "privacy": self.privacy,
            "from": self.received_from.isoformat() if self.received_from else "",
            "to": self.received_to.isoformat() if self.received_to else "",
        }
        return {name: value for name, value in values.items() if value}

    @property
    def filtered(self) -> bool:
        return any(name != "q" for name in self.fields())

    def url(self, view: InboxView | None = None, **extra: str) -> str:
        """This inbox's URL (for another view, or with a cursor)."""
        query = {"view": (view or self.view).value, **self.fields(), **extra}
        return f"{PREFIX}/?{urlencode(query)}"

    def query(self) -> str:
        return urlencode({"view": self.view.value, **self.fields()})


@dataclass
class Choices:
    """The filter form's and the bulk form's options."""

    units: Sequence[Unit] = ()
    officers: Sequence[Officer] = ()
    handlers: Sequence[Handler] = ()


@dataclass
class Listing:
    counts: dict[InboxView, int]
    page: CasePage
    failed: set[int]
    choices: Choices = field(default_factory=Choices)


@dataclass(frozen=True)
class BulkResult:
    label: str  # the case's reference (or its id when it cannot be opened)
    refused: str | None = None  # core's reason, when refused


def _since(value: str) -> datetime | None:
    """The moment of the previous visit, carried by the "more" link as epoch seconds."""
    value = value.strip()[:12]
    number = int(value) if value.isascii() and value.isdigit() else None
    try:
        return None if number is None else datetime.fromtimestamp(number, UTC)
    except (ValueError, OverflowError, OSError):  # past the calendar's end: mark nothing
        return None


async def _listing(
    request: Request, staff: Staff, params: Params, cursor: str | None, *, full: bool
) -> Listing:
    policies = policies_of(request)
    tz, now, actor = policies.settings.tz, policies.now(), staff.actor
    filters = params.filters()

    def load(session: Session) -> Listing:
        counts = count_views(session, filters, tz, actor=actor, now=now) if full else {}
        page = list_cases(
            session,
            filters,
            tz,
            actor=actor,
            view=params.view,
            sort=VIEW_SORT[params.view],
            cursor=cursor,
            limit=PAGE,
            now=now,
        )
        failed = cases_with_failed_notice(session, [c.id for c in page.items])
        listing = Listing(counts, page, failed)
        if full:
            scope = actor.unit_scope()
            listing.choices = Choices(
                units=list_units(session, scope),
                officers=list_officers(session, scope, limit=500),
                handlers=assignable_users(session, actor=actor),
            )
        return listing

    return await read(request, load)


def _context(
    request: Request, staff: Staff, params: Params, since: datetime | None
) -> dict[str, Any]:
    policies = policies_of(request)
    now, sla = policies.now(), policies.cases.sla

    def left(due_at: datetime) -> TimeLeft:
        return time_left(due_at, sla, now=now)

    return {
        "params": params,
        "views": views_for(actor=staff.actor),
        "since": since,
        "seen": "" if since is None else str(int(since.timestamp())),
        "left": left,
        "refresh": policies.settings.console_refresh_seconds,
        "categories": CATEGORIES,
        "statuses": list(CaseStatus),
        "privacies": list(Privacy),
        "may_handle": staff.actor.may(Permission.HANDLE_CASES),
    }


async def _page(
    request: Request,
    staff: Staff,
    params: Params,
    since: datetime | None,
    results: Sequence[BulkResult] = (),
    bulk_action: str = "",
    *,
    cursor: str | None = None,
    problem: str = "",
) -> Response:
    listing = await _listing(request, staff, params, cursor, full=True)
    return render(
        request,
        "inbox.html",
        staff.lang,
        staff,
        status_code=400 if problem else 200,
        listing=listing,
        page=listing.page,
        results=results,
        bulk_action=bulk_action,
        problem=problem,
        **_context(request, staff, params, since),
    )


@router.get("/")
async def inbox(request: Request, staff: CurrentStaff) -> Response:
    if not staff.may(Permission.VIEW_UNIT) and staff.may(Permission.RESPOND_OWN_EVALUATION):
        # An officer's account has no cases to read: its home is its own evaluations.
        return RedirectResponse(f"{PREFIX}/me/evaluations", status_code=303)
    given = request.query_params
    params = Params.parse(given, staff)
    reference = parse_reference(params.q) if params.q else None
    if reference is not None:
        return RedirectResponse(f"{PREFIX}/cases/{reference}", status_code=303)
    cursor = (given.get("cursor") or "")[:200] or None
    if cursor is not None:  # a further page: "new" as of the visit that showed the first
        since = _since(given.get("seen") or "")
        if request.headers.get("HX-Request"):
            listing = await _listing(request, staff, params, cursor, full=False)
            return render(
                request,
                "inbox_rows.html",
                staff.lang,
                staff,
                page=listing.page,
                listing=listing,
                **_context(request, staff, params, since),
            )
        return await _page(request, staff, params, since, cursor=cursor)
    policies = policies_of(request)
    actor, now = staff.actor, policies.now()

    def seen(session: Session) -> datetime | None:
        return mark_inbox_seen(session, actor=actor, now=now)

    since = await write(request, seen)
    return await _page(request, staff, params, since)


@router.get("/inbox/views")
async def inbox_views(
    request: Request, staff: Annotated[Staff, Depends(polling_staff)]
) -> Response:
    """The view tabs with their counts: polled by the inbox every CONSOLE_REFRESH_SECONDS."""
    params = Params.parse(request.query_params, staff)
    policies = policies_of(request)
    tz, now, actor = policies.settings.tz, policies.now(), staff.actor
    filters = params.filters()

    def load(session: Session) -> dict[InboxView, int]:
        return count_views(session, filters, tz, actor=actor, now=now)

    counts = await read(request, load)
    return render(
        request,
        "inbox_views.html",
        staff.lang,
        staff,
        counts=counts,
        **_context(request, staff, params, None),
    )


@router.post("/inbox/bulk")
async def inbox_bulk(request: Request, staff: CurrentStaff) -> Response:
    """Verify, assign or forward each selected case, one transaction each; a refusal of one
    does not stop the others, and every case is reported back: done, or refused and why."""
    form = await request.form()
    check_csrf(request, staff, dict(form))
    params = Params.parse(form, staff)
    since = _since(str(form.get("seen") or ""))
    action = str(form.get("action") or "")
    if action not in BULK_ACTIONS:
        raise InvalidInput("choose verify, assign or forward")
    picked = (parse_id(v) for v in form.getlist("case") if isinstance(v, str))
    ids = list(dict.fromkeys(i for i in picked if i is not None))[:MAX_BULK]
    assignee = _int(str(form.get("assignee_id") or ""), "assignee")
    unit_code = str(form.get("unit_code") or "").strip()[:40]
    problem = (
        "bulk.none"
        if not ids
        else "bulk.no_assignee"
        if action == "assign" and assignee is None
        else "bulk.no_unit"
        if action == "forward" and not unit_code
        else ""
    )
    if problem:  # the same page again, saying what is missing
        return await _page(request, staff, params, since, problem=problem)
    policies = policies_of(request)
    actor, case_policy = staff.actor, policies.cases

    def labels(session: Session) -> dict[int, str]:
        found: dict[int, str] = {}
        for case_id in ids:
            try:
                found[case_id] = get_case_for_staff(session, case_id, actor=actor).reference
            except DomainError:
                found[case_id] = f"#{case_id}"
        return found

    names = await read(request, labels)
    results: list[BulkResult] = []
    for case_id in ids:

        def act(session: Session, case_id: int = case_id) -> None:
            case = get_case_for_staff(session, case_id, actor=actor)
            now = policies.now()
            if action == "verify":
                verify(session, case, case_policy, actor=actor, now=now)
            elif action == "assign":
                assign(session, case, actor=actor, assignee_id=assignee, now=now)
            else:
                assign(session, case, actor=actor, unit_code=unit_code, now=now)

        try:
            await write(request, act)
        except DomainError as exc:
            results.append(BulkResult(names[case_id], refused=refusal(staff.lang, exc)))
        else:
            results.append(BulkResult(names[case_id]))
    return await _page(request, staff, params, since, results, action)
