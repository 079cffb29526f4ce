"""Small cells cannot be recovered from what is published.

The data has small counts in many places (hand-made tricky cases, then a bounded random
sweep). Everything published is taken (the JSON open data for all units and periods, and the
units' trends), and for every suppressed cell whose true value is 1-4 an attacker's search
looks for a second value of it that agrees with every published number: the sums of
categories to the received total, of quarters and semesters to the year, resolved never
above received. The test fails when a cell is pinned down. The same search catches a naive
publication (a total beside all but one of its parts), so the test can fail.

The survey answers are checked the same way by linear algebra: a withheld period's answers
(n > 0) must not be a combination of the periods and months whose answers are published."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.site import create_site
from core.cases.models import Case, CaseStatus
from core.masterdata.models import Unit
from core.policies import build
from core.shared.config import Settings
from core.surveys.models import SurveyResponse, answer_columns
from core.transparency.periods import PublicPeriod, periods_of_year
from core.transparency.snapshot import read_scope, refresh_public_figures
from tests.factories import local, make_unit

pytestmark = pytest.mark.db

NOW = local(date(2026, 11, 30), 10)
YEARS = (2025, 2026)
CATS = ("pungli", "tidak_kompeten", "lainnya")  # the others stay 0 (the attacker knows)
BOUND = 60  # the attacker may assume no cell above this: generous, and only helps them
Cell = int | str | None


# The attacker's search ------------------------------------------------------------------------


@dataclass
class Constraint:
    """sum(coef * x) within [lo, hi]."""

    terms: dict[int, int]
    lo: int
    hi: int


@dataclass
class Problem:
    size: int
    constraints: list[Constraint] = field(default_factory=list)

    def add(self, terms: dict[int, int], lo: int, hi: int) -> None:
        self.constraints.append(Constraint(terms, lo, hi))


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b) if b > 0 else -(a // -b)


def _floor_div(a: int, b: int) -> int:
    return a // b if b > 0 else (-a) // (-b)


def _propagate(bounds: list[list[int]], constraints: Sequence[Constraint]) -> bool:
    """Tighten every variable's bounds by every constraint until nothing changes; False when
    a constraint cannot hold."""
    changed = True
    while changed:
        changed = False
        for c in constraints:
            spans = {
                v: (a * bounds[v][0], a * bounds[v][1])
                if a > 0
                else (a * bounds[v][1], a * bounds[v][0])
                for v, a in c.terms.items()
            }
            low = sum(lo for lo, _ in spans.values())
            high = sum(hi for _, hi in spans.values())
            if low > c.hi or high < c.lo:
                return False
            for v, a in c.terms.items():
                rest_low, rest_high = low - spans[v][0], high - spans[v][1]
                room = (c.lo - rest_high, c.hi - rest_low)  # what a * x_v may be
                if a > 0:
                    new = [_ceil_div(room[0], a), _floor_div(room[1], a)]
                else:
                    new = [_ceil_div(room[1], a), _floor_div(room[0], a)]
                new = [max(new[0], bounds[v][0]), min(new[1], bounds[v][1])]
                if new[0] > new[1]:
                    return False
                if new != bounds[v]:
                    bounds[v] = new
                    changed = True
    return True


class Inconclusive(Exception):
    """The search gave up: the test then fails (it could not show the cell is safe)."""


def feasible(
    problem: Problem, bounds: list[list[int]], guide: Sequence[int], budget: list[int]
) -> bool:
    """Whether an integer point within `bounds` meets every constraint: propagation, then
    branching on the narrowest variable, trying the true value (`guide`) first."""
    budget[0] -= 1
    if budget[0] < 0:
        raise Inconclusive
    bounds = [list(b) for b in bounds]
    if not _propagate(bounds, problem.constraints):
        return False
    open_vars = [v for v in range(problem.size) if bounds[v][0] < bounds[v][1]]
    if not open_vars:
        return True
    v = min(open_vars, key=lambda i: bounds[i][1] - bounds[i][0])
    lo, hi = bounds[v]
    near = min(max(guide[v], lo), hi)
    parts = [[near, near], [lo, near - 1], [near + 1, hi]]
    for part in parts:
        if part[0] > part[1]:
            continue
        trial = [list(b) for b in bounds]
        trial[v] = part
        if feasible(problem, trial, guide, budget):
            return True
    return False


def other_value_possible(
    problem: Problem, target: dict[int, int], true_value: int, bound: int, guide: Sequence[int]
) -> bool:
    """Whether the published constraints allow `target` (a sum of variables) another value
    than its true one: a search for a point below it, then above it."""
    gave_up = False
    for lo, hi in ((true_value + 1, 4 * bound), (0, true_value - 1)):
        if lo > hi:
            continue
        trial = Problem(problem.size, [*problem.constraints, Constraint(target, lo, hi)])
        try:
            if feasible(trial, [[0, bound] for _ in range(problem.size)], guide, [20_000]):
                return True
        except Inconclusive:
            gave_up = True
    if gave_up:
        raise Inconclusive(target)
    return False


# What is published, as constraints --------------------------------------------------------------


@dataclass
class Truth:
    """One unit-year's true counts: received per (quarter, category), resolved per quarter."""

    received: dict[tuple[int, str], int]
    resolved: dict[int, int]


def _period_quarters(key: str) -> list[int]:
    for p in periods_of_year(int(key[:4])):
        if p.key == key:
            return p.quarters()
    raise AssertionError(key)


def pinned_cells(
    rows: Sequence[dict[str, Any]], truth: Truth, quarters: Sequence[int]
) -> list[str]:
    """The suppressed cells (true value 1-4) of one unit-year that the published rows pin.

    The unknowns: the received counts by quarter and category, the resolved counts by
    quarter; the constraints: every published received total, category count and resolved
    count, and resolved never above received."""
    xs = {(q, c): i for i, (q, c) in enumerate((q, c) for q in quarters for c in CATS)}
    rs = {q: len(xs) + i for i, q in enumerate(quarters)}
    received_problem = resolved_problem = Problem(len(xs) + len(rs))
    year_total = sum(truth.received.values())

    def in_period(key: str) -> list[int]:
        return [q for q in _period_quarters(key) if q in quarters]

    def state(problem: Problem, cell: Cell, terms: dict[int, int]) -> None:
        if isinstance(cell, int):
            problem.add(terms, cell, cell)
        elif cell == "<5":
            problem.add(terms, 1, 4)

    hidden: list[tuple[str, Problem, dict[int, int], int]] = []

    def watch(name: str, problem: Problem, cell: Cell, terms: dict[int, int], value: int) -> None:
        if not isinstance(cell, int) and 1 <= value <= 4:
            hidden.append((name, problem, terms, value))

    for q in quarters:
        resolved_problem.add({rs[q]: 1, **{xs[q, c]: -1 for c in CATS}}, -4 * BOUND, 0)
    for row in rows:
        key = row["periode"]
        qs = in_period(key)
        received = {xs[q, c]: 1 for q in qs for c in CATS}
        got = sum(truth.received[q, c] for q in qs for c in CATS)
        state(received_problem, row["diterima"], received)
        watch(f"{key} diterima", received_problem, row["diterima"], received, got)
        resolved = {rs[q]: 1 for q in qs}
        done = sum(truth.resolved[q] for q in qs)
        state(resolved_problem, row["selesai"], resolved)
        # Implied (resolved never above received), stated so the search sees it at once.
        if isinstance(row["diterima"], int):
            resolved_problem.add(resolved, 0, row["diterima"])
        elif row["diterima"] == "<5":
            resolved_problem.add(resolved, 0, 4)
        watch(f"{key} selesai", resolved_problem, row["selesai"], resolved, done)
        for c in CATS:
            terms = {xs[q, c]: 1 for q in qs}
            cell = row[f"kategori_{c}"]
            state(received_problem, cell, terms)
            watch(
                f"{key} {c}", received_problem, cell, terms, sum(truth.received[q, c] for q in qs)
            )
    # No count exceeds the year's received total: implied by what is published (a year's
    # total is a number, or "<5"), stated to keep the search small.
    bound = max(year_total, 4)
    guide = [0] * (len(xs) + len(rs))
    for (q, c), i in xs.items():
        guide[i] = truth.received[q, c]
    for q, i in rs.items():
        guide[i] = truth.resolved[q]
    return [
        name
        for name, problem, terms, value in hidden
        if not other_value_possible(problem, terms, value, bound, guide)
    ]


def naive_rows(truth: Truth, quarters: Sequence[int], year: int) -> list[dict[str, Any]]:
    """A naive publication: every count as it is, 1-4 written "<5", nothing withheld."""
    rows = []
    for p in periods_of_year(year):
        qs = [q for q in p.quarters() if q in quarters]
        if not qs:
            continue

        def small(n: int) -> Cell:
            return "<5" if 1 <= n <= 4 else n

        row: dict[str, Any] = {
            "periode": p.key,
            "diterima": small(sum(truth.received[q, c] for q in qs for c in CATS)),
            "selesai": small(sum(truth.resolved[q] for q in qs)),
        }
        for c in CATS:
            row[f"kategori_{c}"] = small(sum(truth.received[q, c] for q in qs))
        rows.append(row)
    return rows


# The data ----------------------------------------------------------------------------------------


_refs = iter(range(1, 10**7))


def add_cases(session: Session, unit: Unit, year: int, truth: Truth) -> None:
    assert unit.id is not None
    for q in (1, 2, 3, 4):
        day = date(year, 3 * q - 1, 10)
        if day > NOW.date():
            continue
        cases = [c for c in CATS for _ in range(truth.received[q, c])]
        for i, category in enumerate(cases):
            received = local(day + timedelta(days=i % 20))
            done = i < truth.resolved[q]
            session.add(
                Case(
                    reference=f"KPG-SUP-{next(_refs):07d}",
                    unit_id=unit.id,
                    category=category,
                    description="x",
                    status=(CaseStatus.resolved if done else CaseStatus.in_progress).value,
                    received_at=received,
                    resolved_at=received + timedelta(days=3) if done else None,
                    verify_due_at=received + timedelta(days=3),
                    resolve_due_at=received + timedelta(days=60),
                )
            )


def random_truth(rng: random.Random, quarters: Sequence[int]) -> Truth:
    received = {
        (q, c): (rng.choice((0, 0, 0, 1, 2, 3, 4, 5, 6, 9)) if q in quarters else 0)
        for q in (1, 2, 3, 4)
        for c in CATS
    }
    resolved = {
        q: rng.randint(0, sum(received[q, c] for c in CATS)) if q in quarters else 0
        for q in (1, 2, 3, 4)
    }
    return Truth(received, resolved)


def quarters_of(year: int) -> list[int]:
    return [q for q in (1, 2, 3, 4) if date(year, 3 * q - 2, 1) <= NOW.date()]


def hand_made() -> Iterator[Truth]:
    def make(grid: dict[int, dict[str, int]], resolved: dict[int, int]) -> Truth:
        return Truth(
            {(q, c): grid.get(q, {}).get(c, 0) for q in (1, 2, 3, 4) for c in CATS},
            {q: resolved.get(q, 0) for q in (1, 2, 3, 4)},
        )

    # One small quarter beside big ones: the year minus the others would give it.
    yield make({1: {"pungli": 8}, 2: {"pungli": 6}, 3: {"pungli": 3}, 4: {"pungli": 9}}, {3: 2})
    # Every quarter and year total passes, one category of a quarter does not.
    yield make(
        {1: {"pungli": 5, "lainnya": 5}, 2: {"pungli": 9, "lainnya": 2}, 3: {"lainnya": 6}},
        {1: 10, 2: 11, 3: 6},
    )
    # A small year, all in one quarter.
    yield make({2: {"tidak_kompeten": 4}}, {2: 4})
    # Resolved: everything but one case.
    yield make({1: {"pungli": 7}, 2: {"pungli": 5}}, {1: 7, 2: 4})


# The tests ---------------------------------------------------------------------------------------


def test_the_search_catches_a_naive_publication() -> None:
    quarters = [1, 2, 3, 4]
    truth = next(hand_made())
    pinned = pinned_cells(naive_rows(truth, quarters, 2026), truth, quarters)
    assert "2026-Q3 diterima" in pinned  # 26 - 8 - 6 - 9 = 3
    assert "2026-Q3 pungli" in pinned


def _publish_and_check(
    session: Session, engine: Engine, settings: Settings, truths: list[dict[int, Truth]]
) -> int:
    """Store every unit's truth, refresh, take the open data, check every suppressed cell.
    Returns how many suppressed cells were checked."""
    for i, by_year in enumerate(truths):
        unit = make_unit(session, f"u{i}", f"Unit {i:02d}")
        for year, truth in by_year.items():
            add_cases(session, unit, year, truth)
    session.commit()
    refresh_public_figures(engine, settings, now=NOW)
    client = TestClient(create_site(build(settings, engine)))
    response = client.get("/data/pengaduan.json")
    assert response.status_code == 200
    rows = response.json()["rows"]
    checked = 0
    for i, by_year in enumerate(truths):
        for year, truth in by_year.items():
            mine = [r for r in rows if r["kode_unit"] == f"u{i}" and r["periode"][:4] == str(year)]
            quarters = quarters_of(year)
            # The published figures are the true ones wherever they are numbers.
            for r in mine:
                qs = [q for q in _period_quarters(r["periode"]) if q in quarters]
                got = sum(truth.received[q, c] for q in qs for c in CATS)
                assert r["diterima"] in (got, "<5" if 1 <= got <= 4 else got, None)
            assert pinned_cells(mine, truth, quarters) == [], (year, truth)
            checked += sum(
                1 for r in mine for k in ("diterima", "selesai") if not isinstance(r[k], int)
            )
    return checked


def test_no_suppressed_complaint_count_can_be_recovered(
    session: Session, engine: Engine, settings: Settings
) -> None:
    truths = [{2026: truth, 2025: truth} for truth in hand_made()]
    assert _publish_and_check(session, engine, settings, truths) > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_sweep_recovers_nothing(
    session: Session, engine: Engine, settings: Settings, seed: int
) -> None:
    rng = random.Random(seed)
    truths = [{year: random_truth(rng, quarters_of(year)) for year in YEARS} for _ in range(4)]
    assert _publish_and_check(session, engine, settings, truths) > 0


# The survey answers ---------------------------------------------------------------------------


def _rank(vectors: list[list[Fraction]]) -> int:
    rows = [list(v) for v in vectors]
    rank = 0
    columns = len(rows[0]) if rows else 0
    for col in range(columns):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                factor = rows[r][col] / rows[rank][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def test_withheld_survey_answers_are_no_combination_of_published_ones(
    session: Session, engine: Engine, settings: Settings
) -> None:
    rng = random.Random(5)
    units = []
    for i in range(4):
        unit = make_unit(session, f"s{i}", f"Survei {i}")
        assert unit.id is not None
        units.append(unit)
        for month in range(1, 12):
            for k in range(rng.choice((0, 0, 3, 9, 10, 12, 15))):
                at = local(date(2026, month, 1 + k % 27))
                session.add(
                    SurveyResponse(
                        unit_id=unit.id,
                        **answer_columns([rng.randint(1, 4) for _ in range(9)]),
                        channel="test",
                        local_date=at.date(),
                        created_at=at,
                    )
                )
    session.commit()
    refresh_public_figures(engine, settings, now=NOW)
    client = TestClient(create_site(build(settings, engine)))
    rows = [r for r in client.get("/data/ikm.json").json()["rows"] if r["periode"][:4] == "2026"]
    months = [date(2026, m, 1) for m in range(1, 12)]
    withheld_seen = 0
    for unit in units:
        with Session(engine) as s:
            detail = read_scope(s, f"unit:{unit.code}")
        assert detail is not None
        trend = {p["month"]: p for p in detail.body["periods"]["2026"]["trend"]}

        def vector(first: date, last: date) -> list[Fraction]:
            return [Fraction(1 if first <= m <= last else 0) for m in months]

        known: list[list[Fraction]] = []
        secret: list[tuple[str, list[Fraction]]] = []
        for m in months:
            point = trend.get(f"2026-{m.month:02d}")
            if point is None:
                continue  # the current month: never shown on its own
            v = vector(m, m)
            if point["ikm"] is not None or point["n"] == 0:
                known.append(v)  # published, or known to be empty
            else:
                secret.append((point["month"], v))
        for r in (r for r in rows if r["kode_unit"] == unit.code):
            v = vector(
                date.fromisoformat(r["tanggal_mulai"]), date.fromisoformat(r["tanggal_akhir"])
            )
            if r["ikm"] is not None:
                known.append(v)
            elif r["responden"] > 0:
                secret.append((r["periode"], v))
        base = _rank(known) if known else 0
        for name, v in secret:
            withheld_seen += 1
            assert _rank([*known, v]) > base, f"{unit.code} {name} follows from what is published"
    assert withheld_seen > 0


def test_a_wider_sweep_of_the_rule_itself_recovers_nothing() -> None:
    """The same search over many more unit-years, fed straight from the rule's code."""
    from collections import Counter

    from core.transparency.figures import QuarterCases, _complaints_year

    rng = random.Random(11)
    for _ in range(40):
        for year in YEARS:
            quarters = quarters_of(year)
            truth = random_truth(rng, quarters)
            cells: dict[tuple[int, int], QuarterCases] = {}
            for q in quarters:
                left = truth.resolved[q]
                cats = {}
                for c in CATS:
                    done = min(left, truth.received[q, c])
                    left -= done
                    cats[c] = [truth.received[q, c], done, done]
                cells[year, q] = QuarterCases(categories=cats, handling=Counter())
            published = _complaints_year(cells, year, NOW.date())
            rows = []
            for key, figures in published.items():
                by_cat = {x["code"]: x["n"] for x in figures["categories"] or []}
                rows.append(
                    {
                        "periode": key,
                        "diterima": figures["received"],
                        "selesai": figures["resolved"],
                        **{f"kategori_{c}": by_cat.get(c) for c in CATS},
                    }
                )
            assert pinned_cells(rows, truth, quarters) == [], truth


# Several snapshots, pooled ----------------------------------------------------------------------

MOMENTS = tuple(
    local(day, 10)
    for day in (
        date(2026, 3, 31),  # the end of the first quarter (still running that day)
        date(2026, 5, 15),  # mid second quarter, the first one ended
        date(2026, 6, 30),  # the end of the second quarter
        date(2026, 8, 14),  # mid third quarter
    )
)


@dataclass
class Moment:
    """One snapshot: its published rows of one unit-year and the truth behind them."""

    today: date
    rows: list[dict[str, Any]]
    truth: Truth
    quarters: list[int]


def pooled_pinned(moments: Sequence[Moment]) -> list[str]:
    """The suppressed cells (true value 1-4) that everything published in all `moments`
    together pins down. Unknowns: each moment's received counts by quarter and category and
    resolved counts by quarter; constraints: each moment's published numbers (as in
    `pinned_cells`), and between moments what an attacker knows of time: an ended quarter's
    received counts never change again, a running one's only grow, resolved counts only
    grow."""
    index: dict[tuple[int, str, int, str], int] = {}
    for s, m in enumerate(moments):
        for q in m.quarters:
            for c in CATS:
                index[s, "x", q, c] = len(index)
            index[s, "r", q, ""] = len(index)
    problem = Problem(len(index))
    guide = [0] * len(index)
    hidden: list[tuple[str, dict[int, int], int]] = []
    bound = 4
    for s, m in enumerate(moments):
        bound = max(bound, sum(m.truth.received.values()))
        for q in m.quarters:
            for c in CATS:
                guide[index[s, "x", q, c]] = m.truth.received[q, c]
            guide[index[s, "r", q, ""]] = m.truth.resolved[q]
            problem.add(
                {index[s, "r", q, ""]: 1, **{index[s, "x", q, c]: -1 for c in CATS}},
                -4 * BOUND,
                0,
            )

        def state(cell: Cell, terms: dict[int, int]) -> None:
            if isinstance(cell, int):
                problem.add(terms, cell, cell)
            elif cell == "<5":
                problem.add(terms, 1, 4)

        def watch(name: str, cell: Cell, terms: dict[int, int], value: int) -> None:
            if not isinstance(cell, int) and 1 <= value <= 4:
                hidden.append((name, terms, value))

        for row in m.rows:
            key = row["periode"]
            qs = [q for q in _period_quarters(key) if q in m.quarters]
            at = f"{m.today} {key}"
            received = {index[s, "x", q, c]: 1 for q in qs for c in CATS}
            got = sum(m.truth.received[q, c] for q in qs for c in CATS)
            state(row["diterima"], received)
            watch(f"{at} diterima", row["diterima"], received, got)
            resolved = {index[s, "r", q, ""]: 1 for q in qs}
            state(row["selesai"], resolved)
            if isinstance(row["diterima"], int):
                problem.add(resolved, 0, row["diterima"])
            watch(f"{at} selesai", row["selesai"], resolved, sum(m.truth.resolved[q] for q in qs))
            for c in CATS:
                terms = {index[s, "x", q, c]: 1 for q in qs}
                cell = row[f"kategori_{c}"]
                state(cell, terms)
                watch(f"{at} {c}", cell, terms, sum(m.truth.received[q, c] for q in qs))
    for s, m in enumerate(moments):
        for later in range(s + 1, len(moments)):
            for q in m.quarters:
                ended = quarter_end(q) < m.today
                for c in CATS:
                    a, b = index[s, "x", q, c], index[later, "x", q, c]
                    problem.add({b: 1, a: -1}, 0, 0 if ended else 4 * BOUND)
                a, b = index[s, "r", q, ""], index[later, "r", q, ""]
                problem.add({b: 1, a: -1}, 0, 4 * BOUND)
    return [
        name
        for name, terms, value in hidden
        if not other_value_possible(problem, terms, value, bound, guide)
    ]


def quarter_end(q: int) -> date:
    return PublicPeriod(2026, "quarter", q).end


def _truth_at(cases: Sequence[tuple[date, str, bool]], today: date) -> Truth:
    received = {(q, c): 0 for q in (1, 2, 3, 4) for c in CATS}
    resolved = dict.fromkeys((1, 2, 3, 4), 0)
    for day, category, done in cases:
        if day <= today:
            q = (day.month - 1) // 3 + 1
            received[q, category] += 1
            resolved[q] += done
    return Truth(received, resolved)


def _moments(
    session: Session, settings: Settings, unit: Unit, cases: Sequence[tuple[date, str, bool]]
) -> list[Moment]:
    from core.transparency.figures import compute_public_figures

    assert unit.id is not None
    for day, category, done in cases:
        received = local(day, 9)
        session.add(
            Case(
                reference=f"KPG-SUP-{next(_refs):07d}",
                unit_id=unit.id,
                category=category,
                description="x",
                status=(CaseStatus.resolved if done else CaseStatus.in_progress).value,
                received_at=received,
                resolved_at=received + timedelta(minutes=30) if done else None,
                verify_due_at=received + timedelta(days=3),
                resolve_due_at=received + timedelta(days=60),
            )
        )
    session.flush()
    found = []
    for now in MOMENTS:
        today = now.date()
        rows = compute_public_figures(session, settings, now=now)["open:pengaduan"]["rows"]
        mine = [r for r in rows if r["kode_unit"] == unit.code and r["periode"][:4] == "2026"]
        quarters = [q for q in (1, 2, 3, 4) if date(2026, 3 * q - 2, 1) <= today]
        found.append(Moment(today, mine, _truth_at(cases, today), quarters))
    return found


def _random_cases(rng: random.Random) -> list[tuple[date, str, bool]]:
    cases = []
    last = MOMENTS[-1].date()
    for q in (1, 2, 3):
        first = date(2026, 3 * q - 2, 1)
        span = (min(quarter_end(q), last) - first).days
        for c in CATS:
            for _ in range(rng.choice((0, 0, 1, 2, 3, 4, 5, 6, 9))):
                day = first + timedelta(days=rng.randint(0, span))
                cases.append((day, c, rng.random() < 0.6))
    return cases


def test_the_pooled_search_catches_the_reviewed_leak() -> None:
    """The rule as it was (each snapshot alone, a level withheld as a whole): 8 in the first
    quarter on 31 March, then 3 in the second with the semester and the year published."""
    empty = {f"kategori_{c}": None for c in CATS}
    cases = [(date(2026, 2, 10), "pungli", False)] * 8 + [(date(2026, 4, 7), "pungli", False)] * 3
    march, april = date(2026, 4, 1), date(2026, 4, 20)  # the first quarter has ended
    moments = [
        Moment(
            march,
            [{"periode": "2026-Q1", "diterima": 8, "selesai": 0, **empty}],
            _truth_at(cases, march),
            [1],
        ),
        Moment(
            april,
            [
                {"periode": "2026", "diterima": 11, "selesai": 0, **empty},
                {"periode": "2026-S1", "diterima": 11, "selesai": 0, **empty},
                {"periode": "2026-Q1", "diterima": None, "selesai": None, **empty},
                {"periode": "2026-Q2", "diterima": None, "selesai": None, **empty},
            ],
            _truth_at(cases, april),
            [1, 2],
        ),
    ]
    assert f"{april} 2026-Q2 diterima" in pooled_pinned(moments)


@pytest.mark.parametrize("seed", [0, 1])
def test_snapshots_through_a_year_pooled_recover_nothing(
    session: Session, settings: Settings, seed: int
) -> None:
    rng = random.Random(seed)
    checked = 0
    for i in range(2):
        unit = make_unit(session, f"t{seed}{i}", f"Waktu {seed}-{i}")
        cases = _random_cases(rng)
        if i == 0:  # the reviewed case: 8 in the first quarter, then 3 in the second
            cases = (
                [(date(2026, 2, 10), "pungli", True)] * 8
                + [(date(2026, 4, 7), "tidak_kompeten", False)] * 3
                + [(date(2026, 7, 6), "lainnya", True)] * 2
            )
        moments = _moments(session, settings, unit, cases)
        assert pooled_pinned(moments) == [], cases
        checked += sum(
            1
            for m in moments
            for r in m.rows
            for k in ("diterima", "selesai", *(f"kategori_{c}" for c in CATS))
            if not isinstance(r[k], int)
        )
    assert checked > 0


def test_survey_snapshots_through_a_year_pooled_reveal_no_small_cell(
    session: Session, settings: Settings
) -> None:
    """The survey answers over the same moments: the unknowns are each ended month's answer
    sums, and at each moment the current month's sums so far (a column of its own); what is
    published at every moment (a period's IKM, a month's bar, an empty month) is known. A
    month with 1 to IKM_MIN_RESPONSES - 1 responses (ended, or so far), and every withheld
    period with responses, must not be a combination of what is known."""
    from core.transparency.figures import compute_public_figures

    rng = random.Random(8)
    floor = max(settings.ikm_min_responses, 5)
    last = MOMENTS[-1].date()
    months = [date(2026, m, 1) for m in range(1, last.month + 1)]
    seen = 0
    for u in range(3):
        unit = make_unit(session, f"w{u}", f"Survei waktu {u}")
        assert unit.id is not None
        for first in months:
            for k in range(rng.choice((0, 3, 9, 10, 12, 14))):
                day = first + timedelta(days=(3 * k) % 28)
                if day > last:
                    continue
                at = local(day, 9)
                session.add(
                    SurveyResponse(
                        unit_id=unit.id,
                        **answer_columns([rng.randint(1, 4) for _ in range(9)]),
                        channel="test",
                        local_date=at.date(),
                        created_at=at,
                    )
                )
        session.flush()
        columns = [*(f"M{m.month}" for m in months), *(f"P{s}" for s in range(len(MOMENTS)))]

        def vector(names: set[str], columns: list[str] = columns) -> list[Fraction]:
            return [Fraction(1 if c in names else 0) for c in columns]

        known: list[list[Fraction]] = []
        secret: list[tuple[str, list[Fraction]]] = []
        for s, now in enumerate(MOMENTS):
            today = now.date()
            current = date(today.year, today.month, 1)

            def cols(first: date, end: date, s: int = s, current: date = current) -> set[str]:
                return {
                    f"P{s}" if m == current else f"M{m.month}"
                    for m in months
                    if first <= m <= end and m <= current
                }

            figures = compute_public_figures(session, settings, now=now)
            detail = figures[f"unit:{unit.code}"]["periods"]
            for key, d in detail.items():
                if not key.startswith("2026"):
                    continue
                p = next(p for p in periods_of_year(2026) if p.key == key)
                v = vector(cols(p.start, p.end))
                if d["survey"]["ikm"] is not None or d["survey"]["n"] == 0:
                    known.append(v)
                else:
                    secret.append((f"{today} {key}", v))
            for point in detail["2026"]["trend"]:
                first = date.fromisoformat(point["month"] + "-01")
                if first.year != 2026:
                    continue
                v = vector({f"M{first.month}"})
                if point["ikm"] is not None or point["n"] == 0:
                    known.append(v)
                elif point["n"] < floor:
                    secret.append((f"{today} {point['month']}", v))
            so_far = detail[f"2026-Q{(today.month - 1) // 3 + 1}"]["survey"]["n"] - sum(
                p["n"]
                for p in detail["2026"]["trend"]
                if p["month"] >= f"2026-{3 * ((today.month - 1) // 3) + 1:02d}"
            )
            if so_far == 0:
                known.append(vector({f"P{s}"}))
            elif so_far < floor:
                secret.append((f"{today} the current month so far", vector({f"P{s}"})))
        base = _rank(known) if known else 0
        for name, v in secret:
            seen += 1
            assert _rank([*known, v]) > base, f"{unit.code} {name} follows from what is published"
    assert seen > 0
