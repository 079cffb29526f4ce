"""Satisfaction (SKM/IKM): the user's units over a period, a unit's page, its report.

Every figure comes from core.surveys (aggregated in SQL) and shows an IKM and its grade only
under the one rule `core.surveys.skm.enough_responses` (settings.ikm_min_responses); below it,
"belum cukup data (n = ...)". Units outside the user's scope answer 404 as unknown codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from console.i18n import refusal, t
from console.web import CurrentStaff, Staff, policies_of, read, render
from core.access import Permission
from core.masterdata.service import visible_unit
from core.shared.clock import local_day_bounds_utc
from core.shared.errors import Forbidden, InvalidInput
from core.surveys.comments import CommentPage, Cursor, unit_comments
from core.surveys.report import skm_report_xlsx
from core.surveys.skm import GRADES, enough_responses
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


def _why(lang: str, exc: InvalidInput) -> str:
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


async def _context(request: Request, staff: Staff) -> tuple[dict[str, str], date]:
    policies = policies_of(request)
    today = policies.now().astimezone(policies.settings.tz).date()
    params = {k: str(v) for k, v in request.query_params.items()}
    return params, today


def _form(chosen: Chosen | None, params: dict[str, str], today: date) -> dict[str, str]:
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
    params, today = await _context(request, staff)
    try:
        chosen = choose_period(params, today)
    except InvalidInput as exc:
        return render(
            request,
            "scores.html",
            staff.lang,
            staff,
            active="scores",
            error=_why(staff.lang, exc),
            form=_form(None, params, today),
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
        form=_form(chosen, params, today),
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
    params, today = await _context(request, staff)
    error = ""
    status = 200
    try:
        chosen = choose_period(params, today)
    except InvalidInput as exc:
        error, status = _why(staff.lang, exc), 400
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
        return Unit(detail, comments, trend, profile)

    after: Cursor | None = None
    try:
        after = Cursor.parse(after_token) if after_token else None
        data = await read(request, lambda s: load(s, search, after))
    except InvalidInput as exc:
        if error:
            raise
        error, status = _why(staff.lang, exc), 400
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
        form=_form(chosen, params, today),
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
        profile_labels=PROFILE_LABELS,
        profile_value=lambda field, value: profile_value(field, value, staff.lang),
        min_responses=minimum,
        day=lambda moment: format_date(moment.astimezone(tz), "d MMMM y", locale=staff.lang),
    )


@router.get("/scores/{code}/report.xlsx")
async def unit_report(request: Request, staff: CurrentStaff, code: str) -> Response:
    _require(staff)
    policies = policies_of(request)
    settings = policies.settings
    params, today = await _context(request, staff)
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
            detail=_why(staff.lang, exc),
        )
    code = code[:MAX_FIELD]
    detail = await read(
        request,
        lambda s: unit_score_detail(
            s,
            visible_unit(s, code, actor=staff.actor),
            chosen.period,
            settings.tz,
            settings.default_service_population,
        ),
    )
    generated: datetime = policies.now().astimezone(settings.tz)
    body = skm_report_xlsx(
        detail, chosen.period, generated, min_responses=settings.ikm_min_responses
    )
    filename = (
        f"skm-{detail.unit.unit_code}-{chosen.period.start.isoformat()}-"
        f"{chosen.period.end.isoformat()}.xlsx"
    )
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
