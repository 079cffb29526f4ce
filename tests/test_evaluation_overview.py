"""core.evaluations.overview: what the console's evaluation pages ask besides the service API
(the units of periods, the units one may create a period for, who may still change a period,
and what stands before finalizing it)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session

from core.access import Actor
from core.evaluations import overview
from core.evaluations import service as ev
from core.evaluations.models import Level
from core.people.models import Role
from tests.factories import make_officer, make_unit, make_user
from tests.test_evaluations import POLICY, WITA

NOV = date(2026, 11, 1)
DURING = datetime(2026, 11, 20, 2, tzinfo=UTC)
AFTER = datetime(2026, 11, 30, 16, tzinfo=UTC)  # 1 December 00:00 WITA: November is over


def test_units_evaluable_units_and_the_check_before_finalizing(session: Session) -> None:
    s = session
    dukcapil = make_unit(s, "dukcapil", "Dinas Dukcapil")
    dinkes = make_unit(s, "dinkes", "Dinas Kesehatan")
    make_officer(s, dukcapil, "Yohanes Ndun")
    make_officer(s, dukcapil, "Maria Bria")
    spv_user = make_user(s, "spv", Role.supervisor, [dukcapil])
    head_user = make_user(s, "head", Role.unit_head, [dukcapil])
    spv = Actor(spv_user.id or 0, "spv", Role.supervisor, frozenset({dukcapil.id or 0}))
    head = Actor(head_user.id or 0, "head", Role.unit_head, frozenset({dukcapil.id or 0}))
    admin = Actor(spv_user.id or 0, "admin", Role.admin)

    assert [u.code for u in overview.evaluable_units(s, actor=spv)] == ["dukcapil"]
    assert overview.evaluable_units(s, actor=head) == []
    assert [u.code for u in overview.evaluable_units(s, actor=admin)] == ["dukcapil", "dinkes"]

    period = ev.create_period(s, "monthly", NOV, ["dukcapil"], actor=spv)
    both = ev.create_period(s, "monthly", NOV, ["dinkes", "dukcapil"], actor=admin)
    units = overview.units_of_periods(s, [period, both])
    assert [u.code for u in units[period.id or 0]] == ["dukcapil"]
    assert [u.code for u in units[both.id or 0]] == ["dinkes", "dukcapil"]
    assert dinkes.id in {u.id for u in units[both.id or 0]}

    assert overview.may_write(s, period, actor=spv)
    assert not overview.may_write(s, period, actor=head)
    ev.compute_period(s, period, POLICY, WITA, actor=spv, now=DURING)
    rows = {r.officer_name: r for r in ev.evaluations(s, period)}
    ev.decide_behaviour(s, period, rows["Maria Bria"].id or 0, None, actor=spv)

    early = overview.finalize_check(s, period, actor=spv, tz=WITA, now=DURING)
    assert (early.ended, early.may_finalize_early, early.computed) == (False, False, True)
    assert sorted((m.officer_name, m.fields) for m in early.missing) == [
        ("Maria Bria", ("results_level",)),
        ("Yohanes Ndun", ("behaviour_level", "results_level")),
    ]
    assert overview.finalize_check(s, period, actor=admin, tz=WITA, now=DURING).may_finalize_early
    later = overview.finalize_check(s, period, actor=spv, tz=WITA, now=AFTER)
    assert later.ended

    for row in rows.values():
        ev.decide_behaviour(s, period, row.id or 0, None, actor=spv)
        ev.set_results_level(s, period, row.id or 0, Level.meets, actor=spv)
    assert overview.finalize_check(s, period, actor=spv, tz=WITA, now=AFTER).missing == []
    ev.finalize(s, period, actor=spv, tz=WITA, now=AFTER)
    assert not overview.may_write(s, period, actor=spv)  # finalized: read-only
