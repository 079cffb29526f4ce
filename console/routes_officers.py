"""An officer's page: their scores over time and the cases that name them (viewer's rights).

The officer is found through `visible_officer` (an officer outside the viewer's units answers
404 as an unknown id). The monthly scores are core.surveys.officer_history (the fair score
with its anti-gaming caps), shown to those who may read the unit's scores (`view_unit`, as the
API's /scores/officers/{id}); below the policy's min_n a month reads "belum cukup data". The
cases come from `list_cases` with the viewer as actor, so `visible_cases_clause` applies: no
`rahasia` case without `view_confidential_cases`, and none to the account linked to this
officer. No NIP is shown here."""

from __future__ import annotations

from dataclasses import dataclass

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from console.i18n import t
from console.web import CurrentStaff, parse_id, policies_of, read, render
from core.access import Permission
from core.cases.queries import CaseFilter, CasePage, CaseSort, list_cases
from core.masterdata.models import Officer, Unit
from core.masterdata.service import visible_officer
from core.shared.errors import Forbidden, InvalidInput, NotFound
from core.surveys.officer_history import OfficerMonth, officer_history

router = APIRouter()
CASES_SHOWN = 50
MAX_CURSOR = 200


@dataclass(frozen=True)
class OfficerView:
    officer: Officer
    unit: Unit
    months: list[OfficerMonth]
    cases: CasePage


@router.get("/officers/{officer_ref}")
async def officer_page(request: Request, staff: CurrentStaff, officer_ref: str) -> Response:
    if not staff.may(Permission.VIEW_UNIT):
        raise Forbidden("only users with units may read an officer's page")
    parsed = parse_id(officer_ref)
    if parsed is None:  # not a row id (letters, too large): as an unknown officer
        raise NotFound(f"officer {officer_ref[:20]} does not exist")
    officer_id = parsed
    policies = policies_of(request)
    settings = policies.settings
    tz = settings.tz
    now = policies.now()
    today = now.astimezone(tz).date()
    score_policy = policies.evaluations.scores
    after = request.query_params.get("after", "")

    def load(session: Session, cursor: str | None) -> OfficerView:
        officer = visible_officer(session, officer_id, actor=staff.actor)
        unit = session.get(Unit, officer.unit_id)
        if unit is None:  # pragma: no cover - the foreign key holds
            raise NotFound(f"officer {officer_id} does not exist")
        months = officer_history(session, officer, today, tz, score_policy)
        cases = list_cases(
            session,
            CaseFilter(officer_id=officer_id),
            tz,
            actor=staff.actor,
            sort=CaseSort.newest,
            cursor=cursor,
            limit=CASES_SHOWN,
            now=now,
        )
        return OfficerView(officer, unit, months, cases)

    error = ""
    status = 200
    try:
        if len(after) > MAX_CURSOR:
            raise InvalidInput("bad cursor")
        view = await read(request, lambda s: load(s, after or None))
    except InvalidInput:
        error, status = t(staff.lang, "officer.bad_cursor"), 400
        after = ""
        view = await read(request, lambda s: load(s, None))

    def number(value: float) -> str:
        return format_decimal(round(value, 2), format="0.00", locale=staff.lang)

    return render(
        request,
        "officer.html",
        staff.lang,
        staff,
        active="officers",
        status_code=status,
        error=error,
        officer=view.officer,
        unit=view.unit,
        months=view.months,
        cases=view.cases,
        paged=bool(after),
        min_n=score_policy.min_n,
        number=number,
        month_label=lambda first: format_date(first, "MMMM y", locale=staff.lang),
    )
