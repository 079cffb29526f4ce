"""Recording a complaint that arrived at the counter, by phone or by letter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console.web import (
    PREFIX,
    CurrentStaff,
    Staff,
    check_csrf,
    parse_id,
    policies_of,
    read,
    render,
    write,
)
from core.access import Permission
from core.cases.categories import CATEGORIES
from core.cases.intake import (
    STAFF_INTAKES,
    CitizenContact,
    IntakeInputError,
    IntakeUnit,
    intake_choices,
    normalise_email,
    normalise_lapor_id,
    normalise_phone,
    record_complaint,
)
from core.cases.models import Privacy
from core.cases.policy import (
    CasePolicy,
    ComplaintDraft,
    Rule,
    RuleBroken,
    check_description,
    parse_reference,
)
from core.people.models import Intake
from core.shared.errors import DomainError, Forbidden

router = APIRouter()
FIELDS = ("channel", "unit", "officer", "service", "category", "description", "privacy",
          "phone", "email", "lapor_id")  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """Why a complaint was not saved: a catalog key, its parameters, the field to mark."""

    key: str
    field: str | None = None
    params: dict[str, object] = dataclass_field(default_factory=dict)


def _page(
    request: Request,
    staff: Staff,
    choices: list[IntakeUnit],
    *,
    values: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    recorded: str | None = None,
    status_code: int = 200,
) -> Response:
    policy = policies_of(request).cases
    return render(
        request,
        "intake.html",
        staff.lang,
        staff,
        status_code=status_code,
        active="intake",
        choices=choices,
        intakes=STAFF_INTAKES,
        categories=list(CATEGORIES),
        privacies=list(Privacy),
        values=values or {"channel": Intake.counter.value, "privacy": Privacy.biasa.value},
        problems=problems or [],
        invalid_fields={p.field for p in problems or [] if p.field},
        recorded=recorded,
        min_description=policy.min_description,
        max_description=policy.max_description,
    )


async def _choices(request: Request, staff: Staff) -> list[IntakeUnit]:
    if not staff.actor.has(Permission.HANDLE_CASES):
        raise Forbidden("this account may not record complaints")

    def load(session: Session) -> list[IntakeUnit]:
        return intake_choices(session, actor=staff.actor)

    return await read(request, load)


@router.get("/intake")
async def intake_form(
    request: Request,
    staff: CurrentStaff,
    recorded: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    choices = await _choices(request, staff)
    return _page(request, staff, choices, recorded=parse_reference(recorded) if recorded else None)


def _problem(exc: DomainError, policy: CasePolicy) -> Problem:
    """The words for a complaint core refused."""
    if isinstance(exc, IntakeInputError):
        return Problem(f"intake.error.{exc.field.value}", exc.field.value)
    if isinstance(exc, RuleBroken) and exc.rule in (Rule.too_short, Rule.too_long):
        params: dict[str, object] = {
            "min": policy.min_description,
            "max": policy.max_description,
            "length": exc.length or 0,
        }
        return Problem(f"intake.error.{exc.rule.value}", "description", params)
    if isinstance(exc, Forbidden):
        return Problem("intake.error.unit", "unit")
    return Problem("intake.error.invalid")


def _form_problems(values: dict[str, str], policy: CasePolicy) -> list[Problem]:
    """Every problem of the form that core's input rules find without the database, so that
    the user corrects them all at once (core checks them again when it records)."""
    problems = []
    if parse_id(values["unit"]) is None:
        problems.append(Problem("intake.error.unit", "unit"))
    if values["channel"] not in {i.value for i in STAFF_INTAKES}:
        problems.append(Problem("intake.error.channel", "channel"))
    if values["privacy"] not in {p.value for p in Privacy}:
        problems.append(Problem("intake.error.invalid", "privacy"))
    checks: tuple[Callable[[], object], ...] = (
        lambda: check_description(policy, values["description"]),
        lambda: normalise_phone(values["phone"]),
        lambda: normalise_email(values["email"]),
        lambda: normalise_lapor_id(values["lapor_id"]),
    )
    for check in checks:
        try:
            check()
        except DomainError as exc:
            problems.append(_problem(exc, policy))
    return problems


@router.post("/intake")
async def intake_record(request: Request, staff: CurrentStaff) -> Response:
    form: dict[str, Any] = dict(await request.form())
    check_csrf(request, staff, form)
    if not staff.actor.has(Permission.HANDLE_CASES):
        raise Forbidden("this account may not record complaints")
    policies = policies_of(request)
    values = {name: str(form.get(name) or "")[:4000] for name in FIELDS}
    problems = _form_problems(values, policies.cases)
    unit_id = parse_id(values["unit"])
    channel = next((i for i in STAFF_INTAKES if i.value == values["channel"]), None)
    privacy = next((p for p in Privacy if p.value == values["privacy"]), None)
    if problems or unit_id is None or channel is None or privacy is None:
        choices = await _choices(request, staff)
        return _page(request, staff, choices, values=values, problems=problems, status_code=400)
    draft = ComplaintDraft(
        unit_id=unit_id,
        category=values["category"],
        description=values["description"],
        privacy=privacy,
        officer_id=parse_id(values["officer"]),
        service_id=parse_id(values["service"]),
        channel=channel,
    )
    contact = CitizenContact(phone=values["phone"], email=values["email"])
    now = policies.now()

    def record(session: Session) -> str:
        case = record_complaint(
            session,
            draft,
            policies.cases,
            actor=staff.actor,
            now=now,
            contact=contact,
            lapor_id=values["lapor_id"],
        )
        return case.reference

    try:
        saved = await write(request, record)
    except DomainError as exc:
        if isinstance(exc, Forbidden) and not staff.actor.may(Permission.HANDLE_CASES):
            raise
        choices = await _choices(request, staff)
        return _page(
            request,
            staff,
            choices,
            values=values,
            problems=[_problem(exc, policies.cases)],
            status_code=400,
        )
    return RedirectResponse(f"{PREFIX}/intake?recorded={saved}", status_code=303)
