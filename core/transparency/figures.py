"""The public figures, computed from the database with aggregates only: per unit and period
(the years, semesters and quarters of `periods.public_periods`) the IKM with its grade,
respondents against the minimum sample, the nine elements and a 12-month trend; the
complaints received and resolved, the share resolved within the deadline, the median
handling time in working days and the complaints by category. Every count is over ALL cases
(a `rahasia` one counts, and nothing else of it is read); no text of a case, no officer and
no service-level breakdown is ever read or published. Small cells are suppressed
bottom-up (`suppression`): no published total ever has a withheld part. A period that has
not ended shows totals only (received, resolved, respondents, IKM and grade): no category,
element, rate or median, and its trend stops before the current month, so that two
snapshots a moment apart cannot be differenced into one record's details.

Three grouped queries read the data: the survey responses per unit and local month, the
cases per unit, local quarter and category, and the resolved cases' handling time per unit,
quarter and number of working days (each case's local received and resolved days looked up
in a table of working-day numbers bound into the query). Everything else is arithmetic on
those sums."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, cast, column, func, literal_column, values
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core.cases.calendar import office_sla
from core.cases.categories import CATEGORIES
from core.cases.models import Case
from core.cases.sla import SlaPolicy, WorkCalendar
from core.masterdata.models import Service, Unit
from core.shared.clock import local_date, local_day_bounds_utc
from core.shared.config import Settings
from core.surveys.models import FollowUpItem, SurveyResponse
from core.surveys.skm import ELEMENT_COUNT, ELEMENTS, minimum_sample, round_half_up
from core.surveys.trend import TREND_MONTHS, month_end, month_start
from core.surveys.unit_scores import Score, aggregate_columns, effective_population, score_of
from core.transparency.periods import (
    PublicPeriod,
    default_period,
    periods_of_year,
    public_periods,
    public_years,
)
from core.transparency.suppression import (
    MIN_CELL,
    Cell,
    passes,
    publish_leaf,
    publish_parent,
    publish_row,
    rate_base,
)

EMPTY = Score(n=0, element_sums=(0,) * ELEMENT_COUNT)
OTHER = "lainnya"  # a category code no longer in the list counts as "other"
LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/deed.id"


# Reading the sums ---------------------------------------------------------------------------


def _edges(firsts: Sequence[date], last_day: date, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants where each of the local spans starting at `firsts` begins, then the
    end of the last one (each span runs to the day before the next first; the last one to
    `last_day`)."""
    starts = [local_day_bounds_utc(first, first, tz)[0] for first in firsts]
    return [*starts, local_day_bounds_utc(last_day, last_day, tz)[1]]


def _span_index(created: Any, edges: Sequence[datetime], name: str) -> Any:
    # The WHERE keeps every row in [edges[0], edges[-1]), so one WHEN always matches.
    return case(*((created < edges[i + 1], i) for i in range(len(edges) - 1))).label(name)


def survey_by_month(
    session: Session, firsts: Sequence[date], last_day: date, tz: ZoneInfo
) -> dict[int, dict[date, Score]]:
    """Per unit, per month (its first day): n and the nine sums, up to `last_day`."""
    edges = _edges(firsts, last_day, tz)
    created = col(SurveyResponse.created_at)
    month = _span_index(created, edges, "month_index")
    rows = session.exec(
        select(SurveyResponse.unit_id, month, *aggregate_columns())
        .where(created >= edges[0], created < edges[-1])
        .group_by(col(SurveyResponse.unit_id), literal_column("month_index"))
    ).all()
    found: dict[int, dict[date, Score]] = {}
    for row in rows:
        found.setdefault(int(row[0]), {})[firsts[int(row[1])]] = score_of(row[2:])
    return found


@dataclass
class QuarterCases:
    """One unit's complaints received in one quarter: per category (received, resolved,
    resolved within the deadline), and the resolved ones' handling times (working days ->
    how many)."""

    categories: dict[str, list[int]]
    handling: Counter[int]


def _category(code: str) -> str:
    return code if code in CATEGORIES else OTHER


def _offset_seconds(at: datetime, tz: ZoneInfo) -> int:
    offset = at.astimezone(tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _local_day_number(created: Any, tz: ZoneInfo, lo: datetime, hi: datetime, dialect: str) -> Any:
    """SQL for the local day of a stored instant, as days since 1970-01-01: the zone's UTC
    offset (a CASE over its changes within [lo, hi), none in Indonesia) added to the epoch
    seconds, divided by a day."""
    changes: list[tuple[datetime, int]] = []
    moment = lo
    current = _offset_seconds(lo, tz)
    while moment < hi:
        moment += timedelta(hours=1)
        offset = _offset_seconds(moment, tz)
        if offset != current:
            changes.append((moment, current))
            current = offset
    shift: Any = current
    if changes:
        shift = case(*((created < at, before) for at, before in changes), else_=current)
    if dialect == "postgresql":
        seconds: Any = func.extract("epoch", created)
        return cast(func.floor((seconds + shift).op("/", precedence=8)(86400)), Integer)
    seconds = cast(func.strftime("%s", created), Integer)
    return (seconds + shift).op("/", precedence=8)(86400)  # SQLite: integer division of integers


def cases_by_quarter(
    session: Session,
    quarters: Sequence[tuple[int, int]],
    last_day: date,
    tz: ZoneInfo,
    calendar: WorkCalendar,
) -> dict[int, dict[tuple[int, int], QuarterCases]]:
    """Per unit and quarter (year, 1-4) of receipt: the QuarterCases, up to `last_day`."""
    firsts = [date(year, 3 * (q - 1) + 1, 1) for year, q in quarters]
    edges = _edges(firsts, last_day, tz)
    received = col(Case.received_at)
    resolved = col(Case.resolved_at)
    quarter = _span_index(received, edges, "quarter_index")

    def counted(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    in_range = and_(received >= edges[0], received < edges[-1])
    found: dict[int, dict[tuple[int, int], QuarterCases]] = {}

    def cell(unit_id: int, index: int) -> QuarterCases:
        return found.setdefault(unit_id, {}).setdefault(
            quarters[index], QuarterCases(categories={}, handling=Counter())
        )

    rows = session.execute(
        sa_select(
            col(Case.unit_id),
            quarter,
            col(Case.category),
            func.count(),
            counted(resolved.is_not(None)),
            counted(resolved.is_not(None) & (resolved <= col(Case.resolve_due_at))),
        )
        .where(in_range)
        .group_by(col(Case.unit_id), literal_column("quarter_index"), col(Case.category))
    ).all()
    for unit_id, index, category, n, done, on_time in rows:
        sums = cell(int(unit_id), int(index)).categories.setdefault(_category(category), [0, 0, 0])
        sums[0] += int(n)
        sums[1] += int(done)
        sums[2] += int(on_time)

    # Handling time: each local day's working-day number, bound as a small table.
    first_day = firsts[0]
    last_known = last_day + timedelta(days=31)
    numbers: list[tuple[int, int]] = []
    working = 0
    day = first_day
    epoch = date(1970, 1, 1)
    while day <= last_known:
        if calendar.is_working_day(day):
            working += 1
        numbers.append(((day - epoch).days, working))
        day += timedelta(days=1)
    table = values(column("day", Integer), column("w", Integer), name="working_day").data(numbers)
    days = table.cte("working_day")
    got, done_day = days.alias("got"), days.alias("done")
    dialect = session.get_bind().dialect.name
    hi_done = datetime.combine(last_known, datetime.min.time(), tzinfo=UTC)
    received_day = _local_day_number(received, tz, edges[0], edges[-1], dialect)
    resolved_day = _local_day_number(resolved, tz, edges[0], hi_done, dialect)
    span = (done_day.c.w - got.c.w).label("span")
    spans = session.execute(
        sa_select(col(Case.unit_id), quarter, span, func.count())
        .select_from(Case)
        .join(got, got.c.day == received_day)
        .join(done_day, done_day.c.day == resolved_day)
        .where(in_range, resolved.is_not(None))
        .group_by(col(Case.unit_id), literal_column("quarter_index"), literal_column("span"))
    ).all()
    for unit_id, index, working_days, n in spans:
        cell(int(unit_id), int(index)).handling[max(0, int(working_days))] += int(n)
    return found


# Building the published figures -----------------------------------------------------------


def _median(handling: Counter[int]) -> float | None:
    total = sum(handling.values())
    if not total:
        return None
    ordered = sorted(handling.items())

    def at(position: int) -> int:
        seen = 0
        for value, n in ordered:
            seen += n
            if position < seen:
                return value
        return ordered[-1][0]

    return float(statistics.mean((at((total - 1) // 2), at(total // 2))))


def _decimal(value: Fraction, places: int) -> float:
    return float(round_half_up(value, places))


def _ikm(score: Score) -> float | None:
    ikm = score.ikm
    return float(ikm) if ikm is not None else None


def _merge(scores: Sequence[Score]) -> Score:
    sums = [0] * ELEMENT_COUNT
    n = 0
    for score in scores:
        n += score.n
        for i, value in enumerate(score.element_sums):
            sums[i] += value
    return Score(n=n, element_sums=tuple(sums))


def _month_key(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def _survey_year(
    months: dict[date, Score],
    year: int,
    today: date,
    floor: int,
    population: int,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The survey figures of every started period of `year`, and of its started months.

    Bottom-up (`suppression`): a month's answers are published when its count passes; a
    quarter, semester or year only when every begun month in it does (so every begun
    quarter and semester in it is published too). A period that has not ended shows its
    count and IKM only; a month only once it has ended."""
    periods = [p for p in periods_of_year(year) if p.started(today)]
    firsts = [date(year, m, 1) for m in range(1, 13) if date(year, m, 1) <= today]
    month_ok = {m: passes(months.get(m, EMPTY).n, floor) for m in firsts}
    minimum = minimum_sample(population)

    def figures(score: Score, published: bool, complete: bool) -> dict[str, Any]:
        shown = published and score.n >= floor
        if score.n == 0:
            status = "none"
        elif score.n < floor:
            status = "too_few"
        elif not published:
            status = "withheld"
        elif score.n < minimum:
            status = "provisional"
        else:
            status = "ok"
        grade = score.grade if shown else None
        return {
            "n": score.n,
            "minimum_sample": minimum,
            "status": status,
            "ikm": _ikm(score) if shown else None,
            "grade": grade.letter if grade else None,
            "grade_label": grade.label if grade else None,
            # The nine elements (3 decimals, as the page shows them) of ended periods only.
            "elements": [
                {"number": e.number, "name": e.name, "nrr": _decimal(e.exact, 3)}
                for e in score.elements()
            ]
            if shown and complete
            else [],
        }

    survey = {
        p.key: figures(
            _merge([months.get(m, EMPTY) for m in p.months()]),
            all(month_ok[m] for m in p.months() if m in month_ok),
            p.complete(today),
        )
        for p in periods
    }
    trend = {}
    for m in firsts:
        s = months.get(m, EMPTY)
        shown = month_ok[m] and s.n >= floor and month_end(m) < today
        trend[_month_key(m)] = {"month": _month_key(m), "n": s.n, "ikm": _ikm(s) if shown else None}
    return survey, trend


def _complaints_year(
    quarters: dict[tuple[int, int], QuarterCases], year: int, today: date
) -> dict[str, dict[str, Any]]:
    """The complaint figures of every started period of `year`, bottom-up (`suppression`):
    a quarter's counts as they are ("<5" for 1-4), a semester's or the year's only when
    every begun quarter in it is published; the categories and rates of ended periods
    only."""
    periods = [p for p in periods_of_year(year) if p.started(today)]
    codes = list(CATEGORIES)
    empty = QuarterCases(categories={}, handling=Counter())
    begun = [q for q in (1, 2, 3, 4) if date(year, 3 * q - 2, 1) <= today]

    def parts(p: PublicPeriod) -> list[QuarterCases]:
        return [quarters.get((year, q), empty) for q in p.quarters() if q in begun]

    def by_category(p: PublicPeriod) -> list[int]:
        return [sum(q.categories.get(c, [0, 0, 0])[0] for q in parts(p)) for c in codes]

    def total(p: PublicPeriod, index: int) -> int:
        return sum(v[index] for q in parts(p) for v in q.categories.values())

    received: dict[int, Cell] = {}
    resolved: dict[int, Cell] = {}
    rows: dict[int, bool] = {}  # quarter -> its categories are published
    for q in begun:
        quarter = PublicPeriod(year, "quarter", q)
        received[q] = publish_leaf(total(quarter, 0))
        resolved[q] = publish_leaf(total(quarter, 1))
        rows[q] = quarter.complete(today) and publish_row(by_category(quarter), received[q])

    published: dict[str, dict[str, Any]] = {}
    for p in periods:
        qs = [q for q in p.quarters() if q in begun]
        complete = p.complete(today)
        if p.kind == "quarter":
            got, done, row = received[qs[0]], resolved[qs[0]], rows[qs[0]]
        else:
            got = publish_parent(total(p, 0), (received[q] for q in qs))
            done = publish_parent(total(p, 1), (resolved[q] for q in qs))
            row = complete and publish_row(by_category(p), got, (rows[q] for q in qs))
        handling: Counter[int] = Counter()
        for part in parts(p):
            handling.update(part.handling)
        rates = complete and rate_base(done)
        on_time = total(p, 2)
        published[p.key] = {
            "received": got,
            "resolved": done,
            "on_time_percent": _decimal(Fraction(100 * on_time, int(done)), 1)
            if rates and isinstance(done, int)
            else None,
            "median_working_days": _median(handling) if rates else None,
            "categories": [{"code": c, "n": n} for c, n in zip(codes, by_category(p), strict=True)]
            if row
            else None,
        }
    return published


def _trend(period: PublicPeriod, months: dict[str, dict[str, Any]], today: date) -> list[Any]:
    """The 12 months up to the period's last one; for a period that has not ended, up to
    the last month that has (the current month is never shown)."""
    last = period.end if period.complete(today) else month_start(today) - timedelta(days=1)
    firsts = [month_start(last, back) for back in range(TREND_MONTHS - 1, -1, -1)]
    return [
        months.get(_month_key(m), {"month": _month_key(m), "n": 0, "ikm": None}) for m in firsts
    ]


def _period_info(p: PublicPeriod, today: date) -> dict[str, Any]:
    return {
        "key": p.key,
        "kind": p.kind,
        "year": p.year,
        "number": p.number,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "complete": p.complete(today),
    }


def compute_public_figures(
    session: Session, settings: Settings, *, now: datetime
) -> dict[str, dict[str, Any]]:
    """Every scope of the snapshot (scope -> JSON-ready document), as of `now`."""
    tz = settings.tz
    today = local_date(now, tz)
    years = public_years(today)
    floor = max(settings.ikm_min_responses, MIN_CELL)
    periods = public_periods(today)
    units = session.exec(
        select(Unit).where(Unit.active == True).order_by(col(Unit.name))  # noqa: E712
    ).all()

    # The trend of a period reaches 11 months before it: read from a year earlier.
    firsts = [
        date(year, month, 1)
        for year in range(years[0] - 1, years[-1] + 1)
        for month in range(1, 13)
        if date(year, month, 1) <= today
    ]
    survey = survey_by_month(session, firsts, today, tz)
    sla = office_sla(session, SlaPolicy.from_settings(settings))
    quarters = [(y, q) for y in years for q in (1, 2, 3, 4) if date(y, 3 * q - 2, 1) <= today]
    cases = cases_by_quarter(session, quarters, today, tz, sla.calendar())

    # The plans' public columns only: who answers for a row (a person's name, maybe) stays.
    plans: dict[int, list[dict[str, Any]]] = {}
    for unit_id, start, end, element, action, timeframe in session.execute(
        sa_select(
            col(FollowUpItem.unit_id),
            col(FollowUpItem.period_start),
            col(FollowUpItem.period_end),
            col(FollowUpItem.element),
            col(FollowUpItem.action),
            col(FollowUpItem.timeframe),
        )
        .where(col(FollowUpItem.period_end) >= date(years[0], 1, 1))
        .order_by(col(FollowUpItem.period_start), col(FollowUpItem.id))
    ).all():
        plans.setdefault(unit_id, []).append(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "element": element,
                "element_name": ELEMENTS[element - 1] if element else None,
                "action": action,
                "timeframe": timeframe,
            }
        )

    scopes: dict[str, dict[str, Any]] = {}
    index: dict[str, list[dict[str, Any]]] = {p.key: [] for p in periods}
    ikm_rows: list[dict[str, Any]] = []
    complaint_rows: list[dict[str, Any]] = []
    for unit in units:
        assert unit.id is not None
        population = effective_population(unit, settings.default_service_population)
        survey_periods: dict[str, dict[str, Any]] = {}
        months: dict[str, dict[str, Any]] = {}
        complaint_periods: dict[str, dict[str, Any]] = {}
        unit_months = survey.get(unit.id, {})
        for year in range(years[0] - 1, years[-1] + 1):
            got_survey, got_months = _survey_year(unit_months, year, today, floor, population)
            months.update(got_months)
            if year in years:
                survey_periods.update(got_survey)
                complaint_periods.update(_complaints_year(cases.get(unit.id, {}), year, today))
        detail: dict[str, Any] = {}
        for p in periods:
            s, c = survey_periods[p.key], complaint_periods[p.key]
            detail[p.key] = {"survey": s, "trend": _trend(p, months, today), "complaints": c}
            index[p.key].append(
                {
                    "code": unit.code,
                    "name": unit.name,
                    **{k: s[k] for k in ("n", "minimum_sample", "status", "ikm", "grade")},
                    "grade_label": s["grade_label"],
                    "received": c["received"],
                    "resolved": c["resolved"],
                }
            )
            base = {
                "periode": p.key,
                "jenis_periode": p.kind,
                "tanggal_mulai": p.start.isoformat(),
                "tanggal_akhir": p.end.isoformat(),
                "kode_unit": unit.code,
                "nama_unit": unit.name,
            }
            elements = {f"u{e['number']}": e["nrr"] for e in s["elements"]}
            ikm_rows.append(
                {
                    **base,
                    "responden": s["n"],
                    "sampel_minimum": s["minimum_sample"],
                    "status": s["status"],
                    "ikm": s["ikm"],
                    "mutu": s["grade"],
                    "mutu_label": s["grade_label"],
                    **{f"u{i}": elements.get(f"u{i}") for i in range(1, ELEMENT_COUNT + 1)},
                    "lisensi": LICENCE,
                }
            )
            cats = {x["code"]: x["n"] for x in c["categories"]} if c["categories"] else {}
            complaint_rows.append(
                {
                    **base,
                    "diterima": c["received"],
                    "selesai": c["resolved"],
                    "persen_selesai_tepat_waktu": c["on_time_percent"],
                    "median_hari_kerja": c["median_working_days"],
                    **{f"kategori_{code}": cats.get(code) for code in CATEGORIES},
                    "lisensi": LICENCE,
                }
            )
        scopes[f"unit:{unit.code}"] = {
            "code": unit.code,
            "name": unit.name,
            "periods": detail,
            "plan": plans.get(unit.id, []),
        }
    computed = now.astimezone(UTC).isoformat()
    scopes["meta"] = {
        "computed_at": computed,
        "periods": [_period_info(p, today) for p in periods],
        "default": default_period(today).key,
        "units": [{"code": u.code, "name": u.name} for u in units],
        "min_responses": floor,
        "min_cell": MIN_CELL,
        "categories": list(CATEGORIES),
        "elements": list(ELEMENTS),
    }
    for key, rows in index.items():
        scopes[f"index:{key}"] = {"period": key, "units": rows}
    scopes["open:ikm"] = {"rows": ikm_rows}
    scopes["open:pengaduan"] = {"rows": complaint_rows}
    scopes["open311"] = {"services": open311_services(session)}
    return scopes


def open311_services(session: Session) -> list[dict[str, Any]]:
    """GeoReport v2 services: each active unit's active services, and the complaint
    categories (read-only: requests are not published)."""
    found: list[dict[str, Any]] = []
    rows = session.exec(
        select(Service, Unit)
        .join(Unit, col(Unit.id) == col(Service.unit_id))
        .where(Service.active == True, Unit.active == True)  # noqa: E712
        .order_by(col(Unit.name), col(Service.name))
    ).all()
    for service, unit in rows:
        found.append(
            {
                "service_code": f"layanan-{service.id}",
                "service_name": service.name,
                "description": f"{service.name} ({unit.name})",
                "metadata": False,
                "type": "realtime",
                "keywords": f"layanan,{unit.code}",
                "group": unit.name,
            }
        )
    for code, (label, _) in CATEGORIES.items():
        found.append(
            {
                "service_code": f"pengaduan-{code}",
                "service_name": label,
                "description": f"Kategori pengaduan: {label}",
                "metadata": False,
                "type": "realtime",
                "keywords": f"pengaduan,{code}",
                "group": "Pengaduan",
            }
        )
    return found


__all__ = [
    "LICENCE",
    "LICENCE_URL",
    "QuarterCases",
    "cases_by_quarter",
    "compute_public_figures",
    "open311_services",
    "survey_by_month",
]
