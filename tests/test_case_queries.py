"""The inbox's queries in core: views and their counts (one query, only visible cases), the
new filters, the most-urgent order with paused cases last, failed notices, the people a
case may be assigned to, the SLA's time left in working days, the inbox's last visit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from core.cases.models import Case, CaseOutcome, CaseStatus, Privacy
from core.cases.queries import (
    VIEW_SORT,
    CaseFilter,
    CaseSort,
    InboxView,
    assignable_users,
    cases_with_failed_notice,
    count_views,
    list_cases,
    views_for,
)
from core.cases.service import assign, citizen_rate, request_info, resolve, verify
from core.cases.sla import SlaPolicy, Urgency, time_left, working_days_left
from core.outbox.models import OutboundMessage, OutboxStatus
from core.people.models import AppUser, Role
from core.people.preferences import mark_inbox_seen
from core.shared.errors import InvalidInput
from tests.factories import make_user
from tests.test_cases import DESC, POLICY, T0, WITA, World

SLA = SlaPolicy(tz=WITA)


@pytest.fixture
def w(session: Session) -> World:
    return World(session)


def _all(w: World, view: InboxView, actor_name: str = "spv", **filters: object) -> list[str]:
    actor = getattr(w, actor_name)
    refs: list[str] = []
    cursor = None
    while True:
        page = list_cases(
            w.s,
            CaseFilter(**filters),  # type: ignore[arg-type]
            WITA,
            actor=actor,
            view=view,
            sort=VIEW_SORT[view],
            cursor=cursor,
            limit=2,
            now=NOW,
        )
        refs += [c.reference for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return refs


NOW = T0 + timedelta(days=7)  # Thursday 19 Nov 10:00 WITA


@pytest.fixture
def mix(w: World) -> dict[str, Case]:
    """One case in each state an inbox view selects, and a rahasia one."""
    assert w.spv.user_id is not None
    late = w.file(T0)  # received, verification due Tuesday 17: overdue at NOW
    fresh = w.file(T0 + timedelta(days=6))  # received Wednesday: not overdue
    handled = w.file(T0 + timedelta(days=6, hours=1))
    verify(w.s, handled, POLICY, actor=w.spv, now=NOW - timedelta(hours=5))
    assign(w.s, handled, actor=w.spv, assignee_id=w.spv.user_id, now=NOW - timedelta(hours=4))
    waiting = w.file(T0 + timedelta(days=6, hours=2))
    verify(w.s, waiting, POLICY, actor=w.spv, now=NOW - timedelta(hours=3))
    assign(w.s, waiting, actor=w.spv, assignee_id=w.spv.user_id, now=NOW - timedelta(hours=3))
    request_info(w.s, waiting, "Di loket mana?", actor=w.spv, now=NOW - timedelta(hours=2))
    done = w.file(T0 + timedelta(days=1))
    verify(w.s, done, POLICY, actor=w.spv, now=T0 + timedelta(days=1, hours=1))
    assign(w.s, done, actor=w.spv, assignee_id=w.spv.user_id, now=NOW - timedelta(hours=2))
    resolve(
        w.s,
        done,
        CaseOutcome.substantiated,
        "Sudah ditegur.",
        actor=w.spv,
        now=NOW - timedelta(hours=1),
    )
    rated = w.file(T0 + timedelta(days=1, hours=1))
    verify(w.s, rated, POLICY, actor=w.spv, now=T0 + timedelta(days=1, hours=2))
    assign(w.s, rated, actor=w.spv, assignee_id=w.spv.user_id, now=NOW - timedelta(hours=2))
    resolve(w.s, rated, CaseOutcome.partly, "Sebagian.", actor=w.spv, now=NOW - timedelta(hours=1))
    citizen_rate(w.s, w.citizen, rated, POLICY, True, now=NOW - timedelta(minutes=30))
    secret = w.file(T0 + timedelta(days=6, hours=3), privacy=Privacy.rahasia)
    misdirected = w.file(T0 + timedelta(days=6, hours=4))
    misdirected.misdirected_at = NOW - timedelta(hours=1)
    w.s.add(misdirected)
    w.s.flush()
    return {
        "late": late,
        "fresh": fresh,
        "handled": handled,
        "waiting": waiting,
        "done": done,
        "rated": rated,
        "secret": secret,
        "misdirected": misdirected,
    }


def test_each_view_holds_what_its_name_says_and_counts_match_the_lists(
    w: World, mix: dict[str, Case]
) -> None:
    refs = {name: case.reference for name, case in mix.items()}
    expected = {
        InboxView.verify: {"late", "fresh", "secret", "misdirected"},
        InboxView.overdue: {"late"},
        InboxView.handling: {"handled"},
        InboxView.waiting: {"waiting"},
        InboxView.rating: {"done"},
        InboxView.mine: {"handled", "waiting"},
        InboxView.all: set(mix),
    }
    counts = count_views(w.s, CaseFilter(), WITA, actor=w.spv, now=NOW)
    assert set(counts) == set(expected)  # "Perlu dialihkan" is the admins' view
    for view, names in expected.items():
        listed = _all(w, view)
        assert sorted(listed) == sorted(refs[n] for n in names), view
        assert counts[view] == len(listed), view
    # Most urgent first; the paused case (waiting for the citizen) after the running ones.
    assert _all(w, InboxView.mine) == [refs["handled"], refs["waiting"]]
    assert _all(w, InboxView.verify)[0] == refs["late"]


def test_admins_have_the_misdirected_view(w: World, mix: dict[str, Case]) -> None:
    assert InboxView.misdirected in views_for(actor=w.admin)
    assert InboxView.misdirected not in views_for(actor=w.spv)
    counts = count_views(w.s, CaseFilter(), WITA, actor=w.admin, now=NOW)
    assert counts[InboxView.misdirected] == 1
    assert _all(w, InboxView.misdirected, "admin") == [mix["misdirected"].reference]
    with pytest.raises(InvalidInput):
        list_cases(w.s, CaseFilter(), WITA, actor=w.spv, view=InboxView.misdirected)


def test_counts_never_include_a_case_the_actor_may_not_open(w: World, mix: dict[str, Case]) -> None:
    spv = count_views(w.s, CaseFilter(), WITA, actor=w.spv, now=NOW)
    head = count_views(w.s, CaseFilter(), WITA, actor=w.head, now=NOW)
    assert head[InboxView.all] == spv[InboxView.all] - 1
    assert head[InboxView.verify] == spv[InboxView.verify] - 1
    assert mix["secret"].reference not in _all(w, InboxView.all, "head")
    outsider = count_views(w.s, CaseFilter(), WITA, actor=w.outsider, now=NOW)
    assert set(outsider.values()) == {0}


def test_counts_follow_the_filters(w: World, mix: dict[str, Case]) -> None:
    counts = count_views(w.s, CaseFilter(privacy="rahasia"), WITA, actor=w.spv, now=NOW)
    assert counts[InboxView.all] == 1 and counts[InboxView.verify] == 1
    assert counts[InboxView.handling] == 0


def test_under_a_search_a_view_stops_counting_past_the_cap(
    w: World, mix: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word found in most cases of a large office is not counted case by case: a view
    holds at most COUNT_CAP + 1 ("more than COUNT_CAP"); below the cap it is exact."""
    import core.cases.queries as queries
    from console.i18n import shown_count

    word = DESC.split()[1].lower()
    exact = count_views(w.s, CaseFilter(text=word), WITA, actor=w.spv, now=NOW)
    assert exact[InboxView.all] == len(_all(w, InboxView.all, text=word)) > 4
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    capped = count_views(w.s, CaseFilter(text=word), WITA, actor=w.spv, now=NOW)
    assert capped == {view: min(n, 4) for view, n in exact.items()}
    assert capped[InboxView.all] == 4
    unsearched = count_views(w.s, CaseFilter(), WITA, actor=w.spv, now=NOW)
    assert unsearched[InboxView.all] == len(_all(w, InboxView.all))  # no search: exact
    cap = queries.COUNT_CAP
    assert shown_count(cap + 1, "id", searched=True) == "3+"  # the patched cap
    assert shown_count(83_412, "id") == "83.412" and shown_count(83_412, "en") == "83,412"
    assert shown_count(3, "id", searched=True) == "3"


def test_new_filters_assignee_privacy_misdirected_and_lapor_id(
    w: World, mix: dict[str, Case]
) -> None:
    mix["fresh"].lapor_id = "LAPOR-7731"
    w.s.add(mix["fresh"])
    w.s.flush()

    def refs(**filters: object) -> set[str]:
        return set(_all(w, InboxView.all, **filters))

    assigned = {mix[n].reference for n in ("handled", "waiting", "done", "rated")}
    assert refs(assignee_id=w.spv.user_id) == assigned
    assert refs(privacy="rahasia") == {mix["secret"].reference}
    assert refs(misdirected=True) == {mix["misdirected"].reference}
    assert mix["misdirected"].reference not in refs(misdirected=False)
    assert refs(text="lapor-7731") == {mix["fresh"].reference}
    with pytest.raises(InvalidInput, match="privacy"):
        list_cases(w.s, CaseFilter(privacy="geheim"), WITA, actor=w.spv)


def test_urgent_order_pages_through_running_then_paused_cases(w: World) -> None:
    assert w.spv.user_id is not None
    made = []
    for i in range(5):
        case = w.file(T0 + timedelta(hours=i))
        verify(w.s, case, POLICY, actor=w.spv, now=T0 + timedelta(hours=i))
        assign(w.s, case, actor=w.spv, assignee_id=w.spv.user_id, now=T0 + timedelta(hours=i))
        if i % 2 == 0:
            request_info(w.s, case, "Mohon foto.", actor=w.spv, now=T0 + timedelta(hours=i))
        made.append(case)
    listed = _all(w, InboxView.mine)
    running = [c.reference for c in made if c.status == CaseStatus.in_progress]
    paused = [c.reference for c in made if c.status == CaseStatus.waiting_citizen]
    assert listed == running + paused
    with pytest.raises(InvalidInput, match="cursor"):
        list_cases(w.s, CaseFilter(), WITA, actor=w.spv, sort=CaseSort.urgent, cursor="x")


def test_a_failed_notice_flags_its_case(w: World, mix: dict[str, Case]) -> None:
    handled, done = mix["handled"], mix["done"]
    ids = [c.id or 0 for c in mix.values()]
    assert cases_with_failed_notice(w.s, ids) == set()
    notices = w.s.exec(
        select(OutboundMessage).where(col(OutboundMessage.case_event_id).is_not(None))
    ).all()
    assert notices
    for message in notices:
        if json_ref(message) == handled.reference:
            message.status = OutboxStatus.failed.value
            w.s.add(message)
    w.s.flush()
    assert cases_with_failed_notice(w.s, ids) == {handled.id}
    assert cases_with_failed_notice(w.s, [done.id or 0]) == set()
    assert cases_with_failed_notice(w.s, []) == set()


def json_ref(message: OutboundMessage) -> str:
    return str(json.loads(message.params).get("ref"))


def test_assignable_people_are_the_handlers_of_ones_units(w: World) -> None:
    make_user(w.s, "dinkes-spv", Role.supervisor, [w.other])
    names = {h.name for h in assignable_users(w.s, actor=w.spv)}
    assert names == {"spv", "head"}  # not the viewer, nor another unit's supervisor
    everyone = {h.name for h in assignable_users(w.s, actor=w.admin)}
    assert {"admin", "spv", "head", "outsider", "dinkes-spv"} <= everyone
    assert "viewer" not in everyone


def test_time_left_in_working_days() -> None:
    due = SLA.verify_due(T0)  # filed Thursday 12 Nov: due at the end of Tuesday 17 Nov
    at = datetime(2026, 11, 12, 2, tzinfo=UTC)  # Thursday 10:00 WITA
    assert working_days_left(due, SLA, now=at) == 3
    assert time_left(due, SLA, now=at).urgency is Urgency.later
    monday = datetime(2026, 11, 16, 2, tzinfo=UTC)
    assert time_left(due, SLA, now=monday).urgency is Urgency.soon
    friday = datetime(2026, 11, 13, 15, 59, tzinfo=UTC)  # Friday 23:59 WITA
    assert working_days_left(due, SLA, now=friday) == 2  # Monday, Tuesday
    tuesday_late = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)  # Tuesday 23:30 WITA
    assert time_left(due, SLA, now=tuesday_late).urgency is Urgency.today
    assert time_left(due, SLA, now=due).urgency is Urgency.overdue
    far = datetime(9000, 1, 1, tzinfo=UTC)  # an imported case's odd deadline: no long loop
    assert working_days_left(far, SLA, now=at) > 1_500_000
    # Over a weekend: due on Monday, seen on Friday, is within one working day.
    monday_due = SLA.verify_due(datetime(2026, 11, 11, 2, tzinfo=UTC))  # Wed -> Mon 16
    assert time_left(monday_due, SLA, now=datetime(2026, 11, 13, 2, tzinfo=UTC)).urgency is (
        Urgency.soon
    )


def test_the_inbox_remembers_the_previous_visit(w: World) -> None:
    first = datetime(2026, 11, 30, 1, tzinfo=UTC)
    assert mark_inbox_seen(w.s, actor=w.spv, now=first) is None
    assert mark_inbox_seen(w.s, actor=w.spv, now=first + timedelta(hours=1)) == first
    user = w.s.get(AppUser, w.spv.user_id)
    assert user is not None and user.inbox_seen_at == first + timedelta(hours=1)
