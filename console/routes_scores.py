"""Satisfaction (SKM/IKM): the user's units over a period, a unit's page, its report.

Every figure comes from core.surveys (aggregated in SQL) and shows an IKM and its grade only
under the one rule `core.surveys.skm.enough_responses` (settings.ikm_min_responses); below it,
"belum cukup data (n = ...)". Units outside the user's scope answer 404 as unknown codes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from console.i18n import refusal, t
from console.web import PREFIX, CurrentStaff, Staff, check_csrf, policies_of, read, render, write
from core.access import Permission
from core.masterdata.models import Officer
from core.masterdata.models import Unit as Unit_
from core.masterdata.service import visible_unit
from core.shared.clock import local_day_bounds_utc
from core.shared.errors import Forbidden, InvalidInput, NotFound
from core.surveys.comments import CommentPage, Cursor, unit_comments
from core.surveys.followup import (
    MAX_ACTION,
    MAX_ITEMS,
    MAX_RESPONSIBLE,
    MAX_TIMEFRAME,
    FollowUpDraft,
    add_follow_up,
    follow_up_plan,
    remove_follow_up,
)
from core.surveys.models import FollowUpItem
from core.surveys.officer_scores import OfficerScore, unit_officer_scores
from core.surveys.report import SkmReport, skm_report_data, skm_report_pdf, skm_report_xlsx
from core.surveys.skm import ELEMENTS, GRADES, enough_responses
from core.surveys.submission import PROFILE_CHOICES
from core.surveys.trend import (
    MonthPoint,
    month_end,
    month_start,
    monthly_trend,
    respondent_profile,
)
from core.surveys.unit_scores import (
    Period,
    Score,
    UnitScore,
    UnitScoreDetail,
    check_day,
    unit_score_detail,
    unit_scores,
)

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS = ("month", "quarter", "semester", "year", "custom")
KIND_MONTHS = {"month": 1, "quarter": 3, "semester": 6, "year": 12}
LOWEST_SHOWN = 2  # the lowest elements highlighted, as in the weekly digest
MAX_FIELD = 40  # characters of a date field or token


def why_words(lang: str, exc: InvalidInput) -> str:
    """Why the page's input was refused: the slice's own words for the rules it names."""
    if exc.why in WHY:
        return t(lang, f"scores.why.{exc.why}")
    return refusal(lang, exc)


WHY = ("bad_date", "bad_kind", "bad_range", "bad_cursor", "search_too_long")


def _require(staff: Staff) -> None:
    if not staff.may(Permission.VIEW_UNIT):
        raise Forbidden("only users with units may read satisfaction scores")


# The period ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chosen:
    """The period the user chose (kind and any day in it, or custom dates) and the one before
    it of the same length (None where it would start before the service has data)."""

    kind: str
    on: date
    period: Period
    previous: Period | None
    start_text: str = ""
    end_text: str = ""

    def params(self) -> dict[str, str]:
        """The query that names this period again."""
        params = {"kind": self.kind}
        if self.kind == "custom":
            params |= {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}
        else:
            params["on"] = self.on.isoformat()
        return params

    def query(self, **extra: str) -> str:
        return urlencode(self.params() | {k: v for k, v in extra.items() if v})


def _calendar_period(kind: str, on: date) -> tuple[Period, Period | None]:
    months = KIND_MONTHS[kind]
    index = on.year * 12 + on.month - 1
    first = month_start(on, index % months)
    last = month_end(month_start(first, 1 - months))
    previous_first = month_start(first, months)
    try:
        previous: Period | None = Period(previous_first, date.fromordinal(first.toordinal() - 1))
    except InvalidInput:
        previous = None
    return Period(first, last), previous


def _parse_day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip()[:MAX_FIELD])
    except ValueError:
        raise InvalidInput(f"{what} is not a date", why="bad_date") from None


def choose_period(params: dict[str, str], today: date) -> Chosen:
    """The period from the query (kind, on / start, end); InvalidInput with a reason."""
    kind = params.get("kind", "").strip() or "quarter"
    if kind not in KINDS:
        raise InvalidInput(f"unknown period kind {kind[:20]!r}", why="bad_kind")
    if kind == "custom":
        start_text = params.get("start", "")[:MAX_FIELD]
        end_text = params.get("end", "")[:MAX_FIELD]
        start = _parse_day(start_text, "the start")
        end = _parse_day(end_text, "the end")
        try:
            period = Period(start, end)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, why="bad_range") from None
        days = (end - start).days + 1
        try:
            previous: Period | None = Period(
                start - timedelta(days=days), start - timedelta(days=1)
            )
        except InvalidInput:
            previous = None
        return Chosen(kind, end, period, previous, start_text, end_text)
    on_text = params.get("on", "").strip()
    on = _parse_day(on_text, "the day") if on_text else today
    try:
        check_day(on)
        period, previous = _calendar_period(kind, on)
    except InvalidInput:
        raise InvalidInput("the day lies outside 2000-2099", why="bad_range") from None
    return Chosen(kind, on, period, previous)


def _roman(number: int) -> str:
    return ("I", "II", "III", "IV")[number - 1]


def period_label(chosen: Chosen, lang: str) -> str:
    """ "Triwulan IV 2026 (1 Oktober 2026 - 31 Desember 2026)"."""
    p = chosen.period
    span = (
        f"{format_date(p.start, 'd MMMM y', locale=lang)} - "
        f"{format_date(p.end, 'd MMMM y', locale=lang)}"
    )
    if chosen.kind == "month":
        name = format_date(p.start, "LLLL y", locale=lang)
    elif chosen.kind == "quarter":
        name = t(
            lang, "scores.quarter_of", n=_roman((p.start.month - 1) // 3 + 1), year=p.start.year
        )
    elif chosen.kind == "semester":
        name = t(
            lang, "scores.semester_of", n=_roman((p.start.month - 1) // 6 + 1), year=p.start.year
        )
    elif chosen.kind == "year":
        name = t(lang, "scores.year_of", year=p.start.year)
    else:
        return span
    return f"{name} ({span})"


# Figures as shown ---------------------------------------------------------------------------


def number(value: Decimal, lang: str, places: int) -> str:
    """A figure core rounded, written as the language writes it ("88,33" / "88.33")."""
    return format_decimal(value, format="0." + "0" * places, locale=lang)


@dataclass(frozen=True)
class Shown:
    n: int
    enough: bool
    ikm: str  # "88,33", or "" when not shown
    grade: str  # "A"
    exact: Decimal | None


def shown(score: Score, min_responses: int, lang: str) -> Shown:
    ikm, grade = score.ikm, score.grade
    enough = enough_responses(score.n, min_responses) and ikm is not None
    if not enough or ikm is None or grade is None:
        return Shown(score.n, False, "", "", None)
    return Shown(score.n, True, number(ikm, lang, 2), grade.letter, ikm)


def change(now: Shown, before: Shown | None, lang: str) -> str:
    """ "+1,25" / "-0,50" / "0,00"; "" when either period has too few responses."""
    if before is None or now.exact is None or before.exact is None:
        return ""
    diff = now.exact - before.exact
    text = number(abs(diff), lang, 2)
    return f"+{text}" if diff > 0 else f"\u2212{text}" if diff < 0 else text


def _previous_label(chosen: Chosen, lang: str) -> str:
    if chosen.previous is None:
        return ""
    return period_label(Chosen(chosen.kind, chosen.previous.start, chosen.previous, None), lang)


# The overview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    unit: UnitScore
    now: Shown
    change: str
    previous_n: int


async def period_context(request: Request, staff: Staff) -> tuple[dict[str, str], date]:
    policies = policies_of(request)
    today = policies.now().astimezone(policies.settings.tz).date()
    params = {k: str(v) for k, v in request.query_params.items()}
    return params, today


def period_form(chosen: Chosen | None, params: dict[str, str], today: date) -> dict[str, str]:
    """What the period form shows: the chosen values, or what was typed (on a refusal)."""
    if chosen is None:
        return {
            "kind": params.get("kind", "quarter")[:20],
            "on": params.get("on", "")[:MAX_FIELD],
            "start": params.get("start", "")[:MAX_FIELD],
            "end": params.get("end", "")[:MAX_FIELD],
        }
    custom = chosen.kind == "custom"
    return {
        "kind": chosen.kind,
        "on": "" if custom else chosen.on.isoformat(),
        "start": chosen.period.start.isoformat() if custom else "",
        "end": chosen.period.end.isoformat() if custom else "",
    }


@router.get("/scores")
async def scores_page(request: Request, staff: CurrentStaff) -> Response:
    _require(staff)
    policies = policies_of(request)
    settings = policies.settings
    params, today = await period_context(request, staff)
    try:
        chosen = choose_period(params, today)
    except InvalidInput as exc:
        return render(
            request,
            "scores.html",
            staff.lang,
            staff,
            active="scores",
            error=why_words(staff.lang, exc),
            form=period_form(None, params, today),
            kinds=KINDS,
            rows=[],
            chosen=None,
            min_responses=settings.ikm_min_responses,
            status_code=400,
        )
    scope = staff.actor.unit_scope()
    population = settings.default_service_population
    tz = settings.tz

    def load(session: Session) -> tuple[list[UnitScore], dict[int, Score]]:
        now = unit_scores(session, chosen.period, tz, scope, population)
        before = (
            {
                u.unit_id: u.score
                for u in unit_scores(session, chosen.previous, tz, scope, population)
            }
            if chosen.previous
            else {}
        )
        return now, before

    units, before = await read(request, load)
    minimum = settings.ikm_min_responses
    rows = []
    for u in units:
        now = shown(u.score, minimum, staff.lang)
        prev_score = before.get(u.unit_id)
        prev = shown(prev_score, minimum, staff.lang) if prev_score else None
        rows.append(Row(u, now, change(now, prev, staff.lang), prev_score.n if prev_score else 0))
    return render(
        request,
        "scores.html",
        staff.lang,
        staff,
        active="scores",
        error="",
        form=period_form(chosen, params, today),
        kinds=KINDS,
        rows=rows,
        chosen=chosen,
        label=period_label(chosen, staff.lang),
        previous_label=(
            period_label(
                Chosen(chosen.kind, chosen.previous.start, chosen.previous, None), staff.lang
            )
            if chosen.previous
            else ""
        ),
        min_responses=minimum,
    )


# A unit's page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    detail: UnitScoreDetail
    comments: CommentPage
    trend: list[MonthPoint]
    profile: dict[str, list[tuple[str | None, int]]]
    officers: list[tuple[Officer, OfficerScore]]
    plan: list[FollowUpItem]


def _trend_end(chosen: Chosen, today: date) -> date:
    return min(chosen.period.end, today)


@dataclass(frozen=True)
class Chart:
    """The trend as drawn: an SVG of WIDTH x HEIGHT in user units."""

    bands: list[dict[str, Any]]
    points: list[dict[str, Any]]
    lines: list[str]  # polyline point lists; a month without enough data breaks the line
    ticks: list[dict[str, Any]]
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int


CHART_FLOOR = Decimal(25)
CHART_CEILING = Decimal(100)


def chart(points: list[MonthPoint], min_responses: int, lang: str) -> Chart:
    width, height = 720, 300
    left, right, top, bottom = 44, 704, 16, 236

    def y(value: Decimal) -> float:
        share = (value - CHART_FLOOR) / (CHART_CEILING - CHART_FLOOR)
        return round(bottom - float(share) * (bottom - top), 1)

    step = (right - left) / max(len(points) - 1, 1)
    bands = []
    upper = CHART_CEILING
    for floor, grade in GRADES:
        bands.append(
            {
                "letter": grade.letter,
                "label": grade.label,
                "y": y(upper),
                "height": round(y(floor) - y(upper), 1),
                "from": number(floor, lang, 2),
            }
        )
        upper = floor
    drawn: list[dict[str, Any]] = []
    lines: list[str] = []
    run: list[str] = []
    for i, point in enumerate(points):
        x = round(left + i * step, 1)
        s = shown(point.score, min_responses, lang)
        entry = {
            "x": x,
            "month": format_date(point.month, "MMM", locale=lang),
            "month_long": format_date(point.month, "LLLL y", locale=lang),
            "year": point.month.year,
            "n": point.score.n,
            "enough": s.enough,
            "ikm": s.ikm,
            "grade": s.grade,
            "y": y(s.exact) if s.exact is not None else None,
        }
        drawn.append(entry)
        if s.exact is not None:
            run.append(f"{x},{entry['y']}")
        else:
            if len(run) > 1:
                lines.append(" ".join(run))
            run = []
    if len(run) > 1:
        lines.append(" ".join(run))
    ticks = [
        {"y": y(v), "text": number(v, lang, 2 if v % 1 else 0)}
        for v in (CHART_CEILING, *(floor for floor, _ in GRADES))
    ]
    return Chart(bands, drawn, lines, ticks, width, height, left, right, top, bottom)


PROFILE_LABELS = ("sex", "age_band", "education", "occupation")


def profile_value(field: str, value: str | None, lang: str) -> str:
    """A profile answer in words ("D4/S1"); an unknown stored value as it is."""
    if value is None:
        return t(lang, "scores.not_given")
    if value in PROFILE_CHOICES.get(field, ()):
        return t(lang, f"scores.value.{field}.{value}")
    return value


@router.get("/scores/{code}")
async def unit_page(request: Request, staff: CurrentStaff, code: str) -> Response:
    _require(staff)
    policies = policies_of(request)
    settings = policies.settings
    params, today = await period_context(request, staff)
    error = ""
    status = 200
    try:
        chosen = choose_period(params, today)
    except InvalidInput as exc:
        error, status = why_words(staff.lang, exc), 400
        chosen = choose_period({}, today)
    search = params.get("q", "")[:300]
    after_token = params.get("after", "")[:MAX_FIELD]
    tz = settings.tz
    population = settings.default_service_population
    code = code[:MAX_FIELD]

    def load(session: Session, text: str, after: Cursor | None) -> Unit:
        unit = visible_unit(session, code, actor=staff.actor)
        assert unit.id is not None
        detail = unit_score_detail(session, unit, chosen.period, tz, population)
        lo, hi = local_day_bounds_utc(chosen.period.start, chosen.period.end, tz)
        comments = unit_comments(
            session, unit.id, actor=staff.actor, text=text, after=after, since=lo, until=hi
        )
        trend = monthly_trend(session, unit.id, _trend_end(chosen, today), tz)
        profile = respondent_profile(session, unit.id, chosen.period, tz)
        officers = unit_officer_scores(session, unit.id, lo, hi, policies.evaluations.scores)
        plan = follow_up_plan(session, unit.id, chosen.period, actor=staff.actor)
        return Unit(detail, comments, trend, profile, officers, plan)

    after: Cursor | None = None
    try:
        after = Cursor.parse(after_token) if after_token else None
        data = await read(request, lambda s: load(s, search, after))
    except InvalidInput as exc:
        if error:
            raise
        error, status = why_words(staff.lang, exc), 400
        search = ""
        data = await read(request, lambda s: load(s, "", None))
    minimum = settings.ikm_min_responses
    score = data.detail.unit.score
    total = shown(score, minimum, staff.lang)
    elements = score.elements()
    lowest = (
        {e.number for e in sorted(elements, key=lambda e: (e.exact, e.number))[:LOWEST_SHOWN]}
        if total.enough
        else set()
    )
    return render(
        request,
        "scores_unit.html",
        staff.lang,
        staff,
        active="scores",
        status_code=status,
        error=error,
        chosen=chosen,
        chosen_params=chosen.params(),
        form=period_form(chosen, params, today),
        kinds=KINDS,
        label=period_label(chosen, staff.lang),
        unit=data.detail.unit,
        total=total,
        elements=elements,
        lowest=lowest,
        nrr=lambda value: number(value, staff.lang, 3),
        services=[(s, shown(s.score, minimum, staff.lang)) for s in data.detail.services],
        comments=data.comments,
        search=search,
        chart=chart(data.trend, minimum, staff.lang),
        profile=data.profile,
        officers=data.officers,
        plan=data.plan,
        may_plan=staff.actor.may(Permission.PLAN_FOLLOW_UP, data.detail.unit.unit_id),
        element_names=dict(enumerate(ELEMENTS, start=1)),
        followup_max={
            "action": MAX_ACTION,
            "timeframe": MAX_TIMEFRAME,
            "responsible": MAX_RESPONSIBLE,
        },
        followup_error=_followup_error(staff.lang, params.get("followup_error", "")),
        followup_done=params.get("followup", "") if params.get("followup") in FOLLOWUP_DONE else "",
        score2=lambda value: format_decimal(value, format="0.00", locale=staff.lang),
        profile_labels=PROFILE_LABELS,
        profile_value=lambda field, value: profile_value(field, value, staff.lang),
        min_responses=minimum,
        day=lambda moment: format_date(moment.astimezone(tz), "d MMMM y", locale=staff.lang),
    )


async def _report(request: Request, staff: Staff, code: str) -> SkmReport | Response:
    """The unit's SKM report for the chosen period, or the error page for a bad period."""
    _require(staff)
    policies = policies_of(request)
    settings = policies.settings
    params, today = await period_context(request, staff)
    try:
        chosen = choose_period(params, today)
    except InvalidInput as exc:
        return render(
            request,
            "error.html",
            staff.lang,
            staff,
            status_code=400,
            error="error.400",
            detail=why_words(staff.lang, exc),
        )
    code = code[:MAX_FIELD]
    return await read(
        request,
        lambda s: skm_report_data(
            s,
            visible_unit(s, code, actor=staff.actor),
            chosen.period,
            settings.tz,
            actor=staff.actor,
            default_population=settings.default_service_population,
            min_responses=settings.ikm_min_responses,
            place=settings.evaluation_signature_place,
            now=policies.now(),
        ),
    )


def _download(report: SkmReport, body: bytes, suffix: str, media_type: str) -> Response:
    unit, period = report.detail.unit, report.period
    name = f"skm-{unit.unit_code}-{period.start.isoformat()}-{period.end.isoformat()}.{suffix}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(body, media_type=media_type, headers=headers)


@router.get("/scores/{code}/report.xlsx")
async def unit_report(request: Request, staff: CurrentStaff, code: str) -> Response:
    report = await _report(request, staff, code)
    if isinstance(report, Response):
        return report
    return _download(report, skm_report_xlsx(report), "xlsx", XLSX)


@router.get("/scores/{code}/report.pdf")
async def unit_report_pdf(request: Request, staff: CurrentStaff, code: str) -> Response:
    report = await _report(request, staff, code)
    if isinstance(report, Response):
        return report
    return _download(report, skm_report_pdf(report), "pdf", "application/pdf")


# The follow-up plan (rencana tindak lanjut) ----------------------------------------------

FOLLOWUP_DONE = ("added", "removed")
# Core's refusals the page can name after a redirect (anything else: the generic words).
FOLLOWUP_REFUSALS = (
    "followup.element",
    "followup.action_empty",
    "followup.timeframe_empty",
    "followup.responsible_empty",
    "followup.full",
)


def _followup_error(lang: str, key: str) -> str:
    if not key:
        return ""
    if key in FOLLOWUP_REFUSALS:
        return refusal(lang, InvalidInput(key, why=key, max=MAX_ITEMS))
    return t(lang, "followup.refused")


async def _plan_change(
    request: Request, staff: Staff, code: str, step: Callable[[Session, Unit_, Period], object]
) -> tuple[str, str]:
    """Run one change of the plan for the chosen period; (the unit's code, the refusal key)."""
    params, today = await period_context(request, staff)
    chosen = choose_period(params, today)
    code = code[:MAX_FIELD]

    def change(session: Session) -> None:
        unit = visible_unit(session, code, actor=staff.actor)
        step(session, unit, chosen.period)

    try:
        await write(request, change)
    except InvalidInput as exc:
        return chosen.query(), exc.why or "followup.refused"
    return chosen.query(), ""


def _back(code: str, query: str, done: str, error: str) -> Response:
    extra = f"&followup_error={error}" if error else f"&followup={done}"
    return RedirectResponse(f"{PREFIX}/scores/{code}?{query}{extra}#followup", status_code=303)


@router.post("/scores/{code}/follow-up")
async def followup_add(request: Request, staff: CurrentStaff, code: str) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)
    element_text = str(form.get("element") or "").strip()
    plain = element_text.isascii() and element_text.isdigit() and len(element_text) < 3
    element = int(element_text) if plain else None
    if element_text and element is None:
        element = 0  # refused by core as an unknown element
    draft = FollowUpDraft(
        element,
        str(form.get("action") or "")[: MAX_ACTION * 2],
        str(form.get("timeframe") or "")[: MAX_TIMEFRAME * 2],
        str(form.get("responsible") or "")[: MAX_RESPONSIBLE * 2],
    )

    def add(session: Session, unit: Unit_, period: Period) -> object:
        return add_follow_up(session, unit.id or 0, period, draft, actor=staff.actor)

    query, error = await _plan_change(request, staff, code, add)
    return _back(code[:MAX_FIELD], query, "added", error)


@router.post("/scores/{code}/follow-up/{item_id}/remove")
async def followup_remove(
    request: Request,
    staff: CurrentStaff,
    code: str,
    item_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    form = dict(await request.form())
    check_csrf(request, staff, form)
    _require(staff)

    def remove(session: Session, unit: Unit_, period: Period) -> object:
        item = session.get(FollowUpItem, item_id)
        if item is None or item.unit_id != unit.id:
            raise NotFound(f"follow-up item {item_id} does not exist")
        return remove_follow_up(session, item_id, actor=staff.actor)

    query, error = await _plan_change(request, staff, code, remove)
    return _back(code[:MAX_FIELD], query, "removed", error)
