"""Every figure an actor sees is derived only from cases that actor may open.

A scripted run: `biasa`, `anonim` and `rahasia` complaints in two units, one `rahasia` case
resolved as substantiated naming an officer, a complaint rejected as a duplicate of it. Then,
for the admin, the supervisor, unit head and viewer of each unit, and a supervisor (and a
unit head) linked to an officer the complaints name: the evaluation views and exports, the
digest (previewed as that actor, and as sent), and the SLA reminder each show exactly the
figures computed with `core.access.can_view_case` over all cases; unit heads and viewers see
no suggestion."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from admin_api import create_app
from core.access import Actor, actor_for, can_see_reporter, can_view_case, may_open_every_case
from core.cases import service as svc
from core.cases.models import OPEN_STATUSES, Case, CaseOutcome, Privacy
from core.cases.reminders import send_reminders
from core.cases.sla import SlaPolicy, add_working_days, end_of_local_day
from core.digests.service import IsoWeek, send_unit_digest
from core.evaluations import service as ev
from core.evaluations.models import Level
from core.masterdata.models import Unit
from core.outbox.models import OutboundMessage
from core.people.models import AppUser, Role
from core.shared.clock import local_day_bounds_utc
from core.shared.config import Settings
from tests.contacts import chat_of, link_telegram, telegram_chat_of, telegram_citizen
from tests.factories import add_response, bearer, make_officer, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
POLICY = svc.CasePolicy(sla=SlaPolicy(tz=WITA), complaints_per_day=100)
W46 = IsoWeek(2026, 46)  # Monday 9 - Sunday 15 November 2026
COMPUTED_AT = datetime(2026, 12, 1, tzinfo=UTC)
Q4_LO, Q4_HI = local_day_bounds_utc(date(2026, 10, 1), date(2026, 12, 31), WITA)
SUBSTANTIATED = {CaseOutcome.substantiated.value, CaseOutcome.partly.value}
OPEN = {s.value for s in OPEN_STATUSES}
READERS = (
    "unithead-a",
    "viewer-a",
    "supervisor-a",
    "unithead-b",
    "viewer-b",
    "supervisor-b",
    "admin",
    "linked-a",  # a supervisor of unit A whose account belongs to officer Yohanes
    "linkedhead-a",  # a unit head of unit A whose account belongs to officer Maria
)
SUGGESTION = ("suggested_level", "suggestion_reason", "suggestion_reason_en")


def wita(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=WITA).astimezone(UTC)


def utc(moment: datetime | None) -> datetime | None:
    """Times come back naive (UTC) from the database."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass
class Run:
    engine: Engine
    client: TestClient
    units: dict[str, int]  # code -> id
    users: dict[str, int]  # username -> id
    names: dict[int, str]  # officer id -> name
    periods: dict[str, int]  # unit code -> period id
    secret_ref: str
    duplicate_id: int

    def actor(self, username: str) -> Actor:
        with Session(self.engine) as s:
            actor = actor_for(s, self.users[username])
        assert actor is not None
        return actor

    def cases(self) -> list[Case]:
        with Session(self.engine) as s:
            return list(s.exec(select(Case).order_by(col(Case.id))).all())

    def headers(self, username: str) -> dict[str, str]:
        return bearer(self.client, username)


def _script(s: Session) -> tuple[dict[str, Any], str, int]:
    a = make_unit(s, "unit-a", "Unit A")
    b = make_unit(s, "unit-b", "Unit B")
    yohanes = make_officer(s, a, "Yohanes Ndun")
    maria = make_officer(s, a, "Maria Bria")
    petrus = make_officer(s, b, "Petrus Seran")
    users = {"admin": make_user(s, "admin", Role.admin)}
    for unit in (a, b):
        suffix = unit.code[-1]
        for role, name in ((Role.supervisor, "supervisor"), (Role.unit_head, "unithead")):
            users[f"{name}-{suffix}"] = make_user(s, f"{name}-{suffix}", role, [unit])
        users[f"viewer-{suffix}"] = make_user(s, f"viewer-{suffix}", Role.viewer, [unit])
    users["linked-a"] = make_user(s, "linked-a", Role.supervisor, [a])
    users["linked-a"].officer_id = yohanes.id
    users["linkedhead-a"] = make_user(s, "linkedhead-a", Role.unit_head, [a])
    users["linkedhead-a"].officer_id = maria.id
    for n, user in enumerate(users.values()):
        s.add(user)
        s.flush()
        link_telegram(s, user, 70_000 + n)  # every account linked: digests and reminders
    admin = Actor(users["admin"].id or 0, "admin", Role.admin)
    citizen_ids = iter(range(880_001, 881_000))

    def complaint(unit: Unit, officer_id: int | None, privacy: Privacy, day: int) -> Case:
        citizen = telegram_citizen(s, next(citizen_ids))
        return svc.file_complaint(
            s,
            citizen,
            svc.ComplaintDraft(
                unit_id=unit.id or 0,
                officer_id=officer_id,
                category="pungli",
                privacy=privacy,
                description="Petugas meminta uang tambahan di loket pelayanan.",
            ),
            POLICY,
            now=wita(day),
        )

    def resolved(case: Case, outcome: CaseOutcome, day: int) -> None:
        svc.verify(s, case, POLICY, actor=admin, now=wita(day, 8))
        svc.assign(s, case, actor=admin, assignee_id=admin.user_id, now=wita(day, 9))
        svc.resolve(s, case, outcome, "Sudah diperiksa.", actor=admin, now=wita(day, 11))

    for unit, officer in ((a, yohanes), (b, petrus)):
        complaint(unit, officer.id, Privacy.biasa, 10)  # new this week, open
        complaint(unit, officer.id, Privacy.anonim, 2)  # open, overdue
        complaint(unit, officer.id, Privacy.rahasia, 3)  # open, overdue
        complaint(unit, None, Privacy.biasa, 9)  # names no officer
    secret = complaint(a, yohanes.id, Privacy.rahasia, 4)
    resolved(secret, CaseOutcome.substantiated, 12)  # the confidential substantiated case
    resolved(complaint(a, maria.id, Privacy.biasa, 5), CaseOutcome.partly, 11)
    complaint(a, maria.id, Privacy.rahasia, 10)
    resolved(complaint(a, maria.id, Privacy.anonim, 6), CaseOutcome.substantiated, 13)
    resolved(complaint(b, petrus.id, Privacy.anonim, 4), CaseOutcome.substantiated, 13)
    resolved(complaint(b, petrus.id, Privacy.rahasia, 5), CaseOutcome.unsubstantiated, 12)
    duplicate = complaint(a, None, Privacy.biasa, 11)
    svc.reject(
        s, duplicate, "Laporan ganda", actor=admin, duplicate_of=secret.reference, now=wita(11)
    )
    for unit in (a, b):  # a survey this week: no digest is "nothing new"
        add_response(s, unit, [3] * 9, wita(11))
    periods = {}
    for code in ("unit-a", "unit-b"):
        period = ev.create_period(s, "quarterly", date(2026, 10, 1), [code], actor=admin)
        ev.compute_period(s, period, ev.EvaluationPolicy(), WITA, actor=admin, now=COMPUTED_AT)
        periods[code] = period.id or 0
    ids = {
        "units": {"unit-a": a.id or 0, "unit-b": b.id or 0},
        "users": {name: u.id or 0 for name, u in users.items()},
        "names": {o.id or 0: o.name for o in (yohanes, maria, petrus)},
        "periods": periods,
    }
    return ids, secret.reference, duplicate.id or 0


@pytest.fixture
def run(settings: Settings, engine: Engine) -> Iterator[Run]:
    with Session(engine, expire_on_commit=False) as s:
        ids, secret_ref, duplicate_id = _script(s)
        s.commit()
    with TestClient(create_app(settings, engine)) as client:
        yield Run(engine, client, secret_ref=secret_ref, duplicate_id=duplicate_id, **ids)


# Evaluations --------------------------------------------------------------------------------


def _expected_evidence(
    cases: list[Case], actor: Actor, unit_id: int, officer_id: int
) -> tuple[int, int, int]:
    """Received, substantiated, overdue at compute time: over the cases `actor` may open."""
    seen = [
        c
        for c in cases
        if c.officer_id == officer_id
        and c.unit_id == unit_id
        and Q4_LO <= (utc(c.received_at) or Q4_LO) < Q4_HI
        and can_view_case(c, actor=actor)
    ]
    overdue = [c for c in seen if c.status in OPEN and (utc(c.due_at) or Q4_HI) < COMPUTED_AT]
    return len(seen), sum(c.outcome in SUBSTANTIATED for c in seen), len(overdue)


def _readable_periods(run: Run, username: str) -> dict[str, int]:
    listed = run.client.get("/evaluation-periods", headers=run.headers(username)).json()
    return {p["unit_codes"][0]: p["id"] for p in listed}


def _check_views(run: Run, username: str, *, finalized: bool) -> int:
    """Every officer row of every period `username` may read; returns how many rows."""
    actor, cases, headers = run.actor(username), run.cases(), run.headers(username)
    checked = 0
    for code, pid in _readable_periods(run, username).items():
        unit_id = run.units[code]
        full = may_open_every_case([unit_id], actor=actor)
        body = run.client.get(f"/evaluation-periods/{pid}", headers=headers).json()
        for row in body["officers"]:
            got = (row["complaints_received"], row["complaints_substantiated"])
            want = _expected_evidence(cases, actor, unit_id, row["officer_id"])
            assert (*got, row["cases_overdue"]) == want, f"{username} {row['officer_name']}"
            for key in SUGGESTION:
                assert (row[key] is not None) is full, f"{username} {key}"
            if finalized:
                assert row["behaviour_level"] and row["rating"], username
            elif not full:
                assert row["behaviour_level"] is None and row["rating"] is None, username
            checked += 1
        assert body["full_evidence"] is full, username
        if finalized:
            checked += _check_exports(run, username, pid, unit_id, body["officers"])
    return checked


def _check_exports(
    run: Run, username: str, pid: int, unit_id: int, officers: list[dict[str, Any]]
) -> int:
    actor, cases, headers = run.actor(username), run.cases(), run.headers(username)
    full = may_open_every_case([unit_id], actor=actor)
    officer_of = {o["nip"]: o["officer_id"] for o in officers}
    text = run.client.get(f"/evaluation-periods/{pid}/export.csv", headers=headers).text
    rows = [dict(r) for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]
    sheet = load_workbook(
        io.BytesIO(
            run.client.get(f"/evaluation-periods/{pid}/export.xlsx", headers=headers).content
        )
    ).active
    assert sheet is not None
    header, *values = ev.xlsx_table(sheet)  # the table under its CSV column names
    rows += [
        {str(k): "" if v is None else str(v) for k, v in zip(header, r, strict=True)}
        for r in values
    ]
    assert len(rows) == 2 * len(officers)
    for row in rows:
        want = _expected_evidence(cases, actor, unit_id, officer_of[row["nip"]])
        got = (row["pengaduan_diterima"], row["pengaduan_terbukti"], row["kasus_terlambat"])
        assert tuple(int(v) for v in got) == want, f"{username} export {row['nama']}"
        assert bool(row["saran_perilaku"]) is full, f"{username} export suggestion"
        assert row["predikat"], f"{username} export decision"
    return len(rows)


def _decide_all(run: Run, *, finalize: bool) -> None:
    admin = run.actor("admin")
    with Session(run.engine) as s:
        for pid in run.periods.values():
            period = ev.get_period(s, pid, actor=admin)
            if finalize:
                ev.finalize(s, period, actor=admin, tz=WITA, now=Q4_HI)  # Q4 has ended
                continue
            for row in ev.evaluations(s, period):
                ev.decide_behaviour(s, period, row.id or 0, None, actor=admin)
                ev.set_results_level(s, period, row.id or 0, Level.meets, actor=admin)
        s.commit()


# Officer rows over READERS: unit A has two officers, unit B one; the admin reads both.
ROWS = 3 + (2 + 2 + 2) + (1 + 1 + 1) + 2 + 2


def test_evaluation_views_and_exports_count_only_the_cases_each_reader_may_open(
    run: Run,
) -> None:
    # The rahasia case counts for the evaluators of unit A, not for its head or viewer.
    cases = run.cases()
    yohanes = next(o for o, name in run.names.items() if name == "Yohanes Ndun")
    full = _expected_evidence(cases, run.actor("admin"), run.units["unit-a"], yohanes)
    partial = _expected_evidence(cases, run.actor("viewer-a"), run.units["unit-a"], yohanes)
    assert full[1] == 1 and partial[1] == 0 and full[0] > partial[0]

    assert sum(_check_views(run, user, finalized=False) for user in READERS) == ROWS
    _decide_all(run, finalize=False)  # decided, not final: only evaluators see decisions
    assert sum(_check_views(run, user, finalized=False) for user in READERS) == ROWS
    _decide_all(run, finalize=True)
    assert sum(_check_views(run, user, finalized=True) for user in READERS) == 3 * ROWS


def test_only_those_who_may_open_every_case_evaluate(run: Run) -> None:
    pid = run.periods["unit-a"]
    for username, expected in (
        ("supervisor-a", 200),
        ("unithead-a", 403),
        ("viewer-a", 403),
        ("linked-a", 403),  # the unit's supervisor, but one of its officers
        ("supervisor-b", 404),
    ):
        r = run.client.post(f"/evaluation-periods/{pid}/compute", headers=run.headers(username))
        assert r.status_code == expected, f"{username}: {r.text}"


# Digests and reminders ----------------------------------------------------------------------

CASES_LINE = re.compile(r"Pengaduan: (\d+) baru, (\d+) terbuka, (\d+) terlambat, (\d+) selesai")


def _expected_digest(cases: list[Case], actor: Actor, unit_id: int, names: dict[int, str]) -> str:
    """The case lines of the digest, computed from `can_view_case`."""
    lo, hi = local_day_bounds_utc(W46.monday(), W46.sunday(), WITA)

    def within(moment: datetime | None) -> bool:
        return moment is not None and lo <= (utc(moment) or lo) < hi

    seen = [c for c in cases if c.unit_id == unit_id and can_view_case(c, actor=actor)]
    opened = [c for c in seen if c.status in OPEN and (utc(c.received_at) or hi) < hi]
    overdue = [c for c in opened if c.due_at is not None and (utc(c.due_at) or hi) < hi]
    new = sum(within(c.received_at) for c in seen)
    resolved = sum(within(c.resolved_at) for c in seen)
    figures = f"{new} baru, {len(opened)} terbuka, {len(overdue)} terlambat, {resolved} selesai"
    lines = [f"Pengaduan: {figures}"]
    oldest = sorted(overdue, key=lambda c: (utc(c.due_at), c.id))[:5]
    if oldest:
        lines.append("Terlambat paling lama: " + ", ".join(c.reference for c in oldest))
    officers = Counter(
        names[c.officer_id]
        for c in seen
        if c.officer_id and c.outcome in SUBSTANTIATED and within(c.resolved_at)
    )
    if officers:
        ranked = sorted(officers.items(), key=lambda item: (-item[1], item[0]))
        lines.append(
            "Petugas dengan pengaduan terbukti: " + ", ".join(f"{n} ({k})" for n, k in ranked)
        )
    return "\n".join(lines)


def _case_lines(text: str) -> str:
    keep = ("Pengaduan:", "Terlambat paling lama:", "Petugas dengan pengaduan terbukti:")
    return "\n".join(line for line in text.splitlines() if line.startswith(keep))


def test_digest_preview_as_each_reader_counts_only_their_cases(run: Run) -> None:
    cases, admin = run.cases(), run.headers("admin")
    previews = 0
    for username in READERS:
        actor = run.actor(username)
        for code, unit_id in run.units.items():
            if not actor.can_see_unit(unit_id):
                continue
            query = {} if username == "admin" else {"as_user": run.users[username]}
            r = run.client.get(f"/digests/{code}/{W46}", params=query, headers=admin)
            assert r.status_code == 200, r.text
            want = _expected_digest(cases, actor, unit_id, run.names)
            assert _case_lines(r.json()["text"]) == want, f"{username} {code}"
            assert r.json()["as_username"] == username
            previews += 1
    assert previews == 2 + len(READERS) - 1
    # The admin's own preview counts the substantiated rahasia case; a unit head's does not.
    as_admin = run.client.get(f"/digests/unit-a/{W46}", headers=admin).json()["text"]
    head = run.client.get(
        f"/digests/unit-a/{W46}", params={"as_user": run.users["unithead-a"]}, headers=admin
    ).json()["text"]
    assert "Yohanes Ndun (1)" in as_admin and "Yohanes Ndun" not in head
    admin_line, head_line = CASES_LINE.search(as_admin), CASES_LINE.search(head)
    assert admin_line is not None and head_line is not None
    assert admin_line.group(0) != head_line.group(0)
    # Only MANAGE_DIGESTS previews, and an unknown user is a clear 404.
    for username in ("supervisor-a", "unithead-a"):
        refused = run.client.get(f"/digests/unit-a/{W46}", headers=run.headers(username))
        assert refused.status_code == 403
    missing = run.client.get(f"/digests/unit-a/{W46}", params={"as_user": 99_999}, headers=admin)
    assert missing.status_code == 404


def _outbox(engine: Engine) -> dict[int, list[str]]:
    with Session(engine) as s:
        rows = s.exec(
            select(OutboundMessage)
            .where(OutboundMessage.template == "plain", col(OutboundMessage.photo).is_(None))
            .order_by(col(OutboundMessage.id))
        ).all()
        by_chat: dict[int, list[str]] = {}
        for m in rows:
            by_chat.setdefault(chat_of(m), []).append(json.loads(m.params)["text"])
        return by_chat


def _chats(engine: Engine) -> dict[int, AppUser]:
    with Session(engine) as s:
        return {telegram_chat_of(s, u) or 0: u for u in s.exec(select(AppUser)).all()}


def test_sent_digests_count_only_what_each_recipient_may_open(run: Run) -> None:
    for unit_id in run.units.values():
        queued = send_unit_digest(run.engine, unit_id, W46, WITA, 100, "w", now=wita(16, 7))
        assert queued is not None and queued > 0
    cases, chats = run.cases(), _chats(run.engine)
    texts = _outbox(run.engine)
    recipients = sorted(chats[chat].username for chat in texts if chats[chat].role != "admin")
    assert recipients == ["linkedhead-a", "unithead-a", "unithead-b"]  # RECEIVE_DIGEST
    for chat, [text] in texts.items():
        user = chats[chat]
        actor = run.actor(user.username)
        [unit_id] = actor.unit_ids
        assert _case_lines(text) == _expected_digest(cases, actor, unit_id, run.names), (
            user.username
        )
        assert run.secret_ref not in text


def test_reminders_count_only_what_each_recipient_may_open(run: Run) -> None:
    """A guard: reminders were already built over `visible_cases_clause`."""
    monday = wita(16, 8)
    assert send_reminders(run.engine, POLICY.sla, now=monday) > 0
    horizon = end_of_local_day(add_working_days(monday.astimezone(WITA).date(), 1), WITA)
    cases, chats = run.cases(), _chats(run.engine)
    reminded = 0
    for chat, messages in _outbox(run.engine).items():
        [text] = messages
        actor = run.actor(chats[chat].username)
        due = [
            c.reference
            for c in cases
            if c.status in OPEN
            and c.due_at is not None
            and (utc(c.due_at) or horizon) <= horizon
            and can_view_case(c, actor=actor)
        ]
        title = re.search(r"Pengingat SLA: (\d+) laporan", text)
        assert title is not None and int(title.group(1)) == len(due), actor.username
        listed = {c.reference for c in cases if c.reference in text}
        assert listed == set(due), actor.username
        reminded += 1
    assert reminded == 6  # the supervisors and unit heads of both units, linked ones included


# A reason never names a case its reader may not open ----------------------------------------


def test_a_duplicate_of_a_rahasia_case_does_not_carry_its_reference(run: Run) -> None:
    with Session(run.engine) as s:
        duplicate = s.get(Case, run.duplicate_id)
        assert duplicate is not None and duplicate.status == "rejected"
        assert duplicate.duplicate_of_id is not None  # the link is kept for who may open it
        assert duplicate.reject_reason == "Laporan ganda"
        notices = s.exec(
            select(OutboundMessage).where(OutboundMessage.template == "case_rejected")
        ).all()
    assert [json.loads(m.params)["body"] for m in notices] == ["Laporan ganda"]
    for username in ("unithead-a", "viewer-a", "supervisor-a"):
        page = run.client.get(f"/cases/{run.duplicate_id}", headers=run.headers(username))
        assert page.status_code == 200
        assert run.secret_ref not in page.text, username


# The documentation says what the table says ---------------------------------------------------

PRIVACY_DOC = Path(__file__).resolve().parents[1] / "docs" / "privacy.md"


@dataclass(frozen=True)
class _Case:
    unit_id: int
    officer_id: int | None
    privacy: str


def test_the_case_matrix_in_docs_privacy_is_the_permission_table() -> None:
    text = PRIVACY_DOC.read_text(encoding="utf-8")
    matrix = text.split("<!-- case-matrix")[1].split("<!-- /case-matrix -->")[0]
    documented = {}
    for line in matrix.splitlines()[3:]:
        role, privacy, *cells = [cell.strip() for cell in line.strip("|").split("|")]
        documented[(role, privacy)] = cells
    actual = {}
    for role in Role:
        # An account of unit 1 linked to officer 7 of unit 1.
        actor = Actor(1, "x", role, frozenset({1}), officer_id=7, officer_unit_id=1)
        for privacy in Privacy:
            cells = []
            for case in (_Case(1, 8, privacy), _Case(1, 7, privacy), _Case(2, None, privacy)):
                if can_see_reporter(case, actor=actor):
                    cells.append("case + reporter")
                else:
                    cells.append("case" if can_view_case(case, actor=actor) else "-")
            actual[(role.value, privacy.value)] = cells
    assert documented == actual
