"""Weekly digests, SLA reminders, link codes and the schedule: content, exactly-once,
catch-up, and delivery (photos included) through the outbox."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from telegram import Bot

from app.scheduler import build_scheduler, catch_up, due_digest_week, run_digests
from bot.dispatcher import telegram_dispatcher
from core.access import Actor
from core.cases import service as svc
from core.cases.models import Case, CaseOutcome, Privacy
from core.cases.reminders import send_reminders
from core.cases.sla import SlaPolicy
from core.digests.figures import DigestData
from core.digests.models import DigestRun
from core.digests.service import (
    CHART_SIZE,
    IsoWeek,
    build_digest,
    render_chart,
    render_digest,
    send_all_digests,
    send_unit_digest,
)
from core.masterdata.models import Unit
from core.outbox.models import OutboundMessage
from core.people.links import LinkRefused, create_link_code, redeem_link_code
from core.people.models import AppUser, Role
from core.policies import build
from core.shared.config import Settings
from core.shared.workers import worker_gone, worker_name
from tests.botkit import FakeTelegram
from tests.contacts import chat, chat_of, link_telegram, telegram_chat_of, telegram_citizen
from tests.factories import add_response, make_officer, make_unit, make_user

WITA = ZoneInfo("Asia/Makassar")
W46 = IsoWeek(2026, 46)  # Monday 9 - Sunday 15 November 2026
HEAD_CHATS = {"head-id": 901, "head-en": 902}  # the unit heads' Telegram chats
POLICY = svc.CasePolicy(sla=SlaPolicy(tz=WITA), complaints_per_day=100)
REPORTER = 424_242


def wita(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=WITA).astimezone(UTC)


class World:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with Session(engine, expire_on_commit=False) as s:
            self.unit = make_unit(s, "dukcapil", "Dinas Dukcapil", service_population=100)
            self.officer = make_officer(s, self.unit, "Yohanes Ndun")
            admin = make_user(s, "admin", Role.admin)
            self.admin = Actor(admin.id or 0, "admin", Role.admin)
            self.heads = []
            for name, chat, lang in (("head-id", 901, "id"), ("head-en", 902, "en")):
                head = make_user(s, name, Role.unit_head, [self.unit])
                head.language = lang
                link_telegram(s, head, chat)
                self.heads.append(head)
            spv = make_user(s, "spv", Role.supervisor, [self.unit])
            link_telegram(s, spv, 903)
            s.commit()

    def fixture_week(self) -> dict[str, str]:
        with Session(self.engine, expire_on_commit=False) as s:
            citizen = telegram_citizen(s, REPORTER)

            def file(at: datetime, privacy: Privacy = Privacy.biasa) -> Case:
                return svc.file_complaint(
                    s,
                    citizen,
                    svc.ComplaintDraft(
                        unit_id=self.unit.id or 0,
                        officer_id=self.officer.id,
                        category="pungli",
                        description="Petugas meminta uang tambahan di loket.",
                        privacy=privacy,
                    ),
                    POLICY,
                    now=at,
                )

            a = file(wita(9), Privacy.anonim)
            svc.verify(s, a, POLICY, actor=self.admin, now=wita(9, 11))
            svc.assign(s, a, actor=self.admin, assignee_id=self.admin.user_id, now=wita(9, 12))
            svc.resolve(s, a, CaseOutcome.substantiated, "Ditegur.", actor=self.admin, now=wita(11))
            b = file(wita(10))
            c = file(wita(2))
            for answers, at in (
                ([4] * 9, wita(10)),
                ([3, 3, 1, 3, 3, 3, 3, 3, 3], wita(12)),
                ([2] * 9, wita(4)),
                ([3] * 9, wita(15, month=10)),
            ):
                add_response(s, self.unit, answers, at)
            s.commit()
            return {"a": a.reference, "b": b.reference, "c": c.reference}


@pytest.fixture
def world(engine: Engine) -> World:
    return World(engine)


def test_digest_content_computed_by_hand(world: World) -> None:
    refs = world.fixture_week()
    with Session(world.engine) as s:
        unit = s.get(Unit, world.unit.id)
        assert unit is not None
        data = build_digest(s, unit, W46, WITA, 1000, actor=world.admin)
    assert (data.new, data.open, data.overdue, data.resolved) == (2, 2, 2, 1)
    assert data.oldest_overdue == [refs["c"], refs["b"]]
    assert data.this_week is not None and str(data.this_week.ikm) == "84.72"
    assert data.this_week.grade == "B" and data.this_week.minimum == 80
    assert data.last_week is not None and str(data.last_week.ikm) == "50.00"
    assert data.quarter is not None and str(data.quarter.ikm) == "73.61"
    assert [name for name, _ in data.lowest_elements] == ["Waktu Penyelesaian", "Persyaratan"]
    assert data.officers_substantiated == [("Yohanes Ndun", 1)]
    assert len(data.trend) == 12 and data.trend[-1][0] == "2026-W46"

    text_id = render_digest(data, "id")
    assert "📊 Ringkasan mingguan Dinas Dukcapil, 2026-W46" in text_id
    assert "Periode 09-11-2026 s.d. 15-11-2026" in text_id
    assert "Pengaduan: 2 baru, 2 terbuka, 2 terlambat, 1 selesai" in text_id
    assert f"Terlambat paling lama: {refs['c']}, {refs['b']}" in text_id
    # Fewer responses than IKM_MIN_RESPONSES (10): no figure, the target beside it.
    assert (
        "IKM minggu ini: belum cukup data (n = 2; IKM ditampilkan mulai 10 responden,"
        " target Krejcie-Morgan 80)"
    ) in text_id
    assert "IKM minggu lalu: belum cukup data (n = 1;" in text_id
    assert "Unsur terendah kuartal ini: Waktu Penyelesaian (2,50), Persyaratan (3,00)" in text_id
    assert "Petugas dengan pengaduan terbukti: Yohanes Ndun (1)" in text_id
    text_en = render_digest(data, "en")
    assert "Complaints: 2 new, 2 open, 2 overdue, 1 resolved" in text_en
    assert "IKM this quarter: not enough data (n = 4; the IKM is shown from 10" in text_en
    shown = build_digest_with(world, min_responses=1)
    assert "IKM minggu ini: 84,72 (B), 2 responden dari minimal 80" in render_digest(shown, "id")
    assert "IKM this quarter: 73.61 (C), 4 respondents of at least 80" in render_digest(shown, "en")
    for text in (text_id, text_en):
        assert str(REPORTER) not in text and world.officer.nip not in text
    png = render_chart(data, "id")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == CHART_SIZE


def build_digest_with(world: World, *, min_responses: int) -> DigestData:
    with Session(world.engine) as s:
        unit = s.get(Unit, world.unit.id)
        assert unit is not None
        return build_digest(
            s, unit, W46, WITA, 1000, actor=world.admin, min_responses=min_responses
        )


def test_a_week_not_over_counts_only_deadlines_already_passed(world: World) -> None:
    """Previewing the current week: a report filed this morning is open, not overdue."""
    with Session(world.engine) as s:
        citizen = telegram_citizen(s, REPORTER)
        draft = svc.ComplaintDraft(
            unit_id=world.unit.id or 0,
            category="pungli",
            description="Petugas meminta uang tambahan di loket.",
        )
        case = svc.file_complaint(s, citizen, draft, POLICY, now=wita(9))
        s.commit()
        assert case.due_at is not None and wita(9) < case.due_at < wita(15)
        unit = s.get(Unit, world.unit.id)
        assert unit is not None

        def figures(now: datetime | None) -> tuple[int, int, list[str]]:
            data = build_digest(s, unit, W46, WITA, 1000, actor=world.admin, now=now)
            return data.open, data.overdue, data.oldest_overdue

        assert figures(wita(9, 11)) == (1, 0, [])
        assert figures(case.due_at + timedelta(minutes=1)) == (1, 1, [case.reference])
        assert figures(None) == figures(wita(16, 7)) == (1, 1, [case.reference])


def test_nothing_to_report_is_one_line(world: World) -> None:
    """A quiet week: one line, then the quarter (tests/test_digest_quiet_week.py)."""
    with Session(world.engine) as s:
        unit = s.get(Unit, world.unit.id)
        assert unit is not None
        data = build_digest(s, unit, W46, WITA, 1000, actor=world.admin)
    assert data.nothing_new
    assert render_digest(data, "en").splitlines() == [
        "📊 Dinas Dukcapil, 2026-W46: no new complaints or surveys this week.",
        "",
        "IKM this quarter: no respondents yet",
    ]


def _digest_texts(engine: Engine) -> dict[int, str]:
    """The text message (not the chart) of each staff chat's digest."""
    with Session(engine) as s:
        rows = s.exec(
            select(OutboundMessage).where(
                OutboundMessage.address != str(REPORTER), col(OutboundMessage.photo).is_(None)
            )
        ).all()
        return {chat_of(m): json.loads(m.params)["text"] for m in rows}


def test_each_recipient_gets_the_figures_over_the_cases_they_may_open(world: World) -> None:
    refs = world.fixture_week()
    with Session(world.engine, expire_on_commit=False) as s:
        secret = svc.file_complaint(
            s,
            telegram_citizen(s, REPORTER),
            svc.ComplaintDraft(
                unit_id=world.unit.id or 0,
                officer_id=world.officer.id,
                category="pungli",
                privacy=Privacy.rahasia,
                description="Laporan rahasia: petugas meminta uang tambahan.",
            ),
            POLICY,
            now=wita(11),
        )
        svc.verify(s, secret, POLICY, actor=world.admin, now=wita(11, 11))
        svc.assign(s, secret, actor=world.admin, assignee_id=world.admin.user_id, now=wita(11, 12))
        svc.resolve(
            s, secret, CaseOutcome.substantiated, "Ditegur.", actor=world.admin, now=wita(12)
        )
        # The English-speaking head's account belongs to the officer every case names.
        head_en = s.get(AppUser, world.heads[1].id)
        assert head_en is not None
        head_en.officer_id = world.officer.id
        s.add(head_en)
        s.commit()
        unit = s.get(Unit, world.unit.id)
        assert unit is not None
        as_admin = render_digest(build_digest(s, unit, W46, WITA, 1000, actor=world.admin), "id")
    assert "Pengaduan: 3 baru, 2 terbuka, 2 terlambat, 2 selesai" in as_admin
    assert "Petugas dengan pengaduan terbukti: Yohanes Ndun (2)" in as_admin

    send_all_digests(world.engine, W46, WITA, 1000, "w", now=wita(16, 7))
    texts = _digest_texts(world.engine)
    head = texts[901]  # a unit head: never a rahasia case
    assert "Pengaduan: 2 baru, 2 terbuka, 2 terlambat, 1 selesai" in head
    assert "Petugas dengan pengaduan terbukti: Yohanes Ndun (1)" in head
    assert f"Terlambat paling lama: {refs['c']}, {refs['b']}" in head
    assert secret.reference not in head
    linked = texts[902]  # every case names their own officer: none counts for them
    assert "Complaints: 0 new, 0 open, 0 overdue, 0 resolved" in linked
    assert "Officers with substantiated complaints" not in linked
    assert refs["b"] not in linked and refs["c"] not in linked


def _messages(engine: Engine) -> dict[int, int]:
    """Outbox messages per staff chat (the reporter's case notifications left out)."""
    with Session(engine) as s:
        rows = s.exec(
            select(OutboundMessage.address, func.count())
            .where(OutboundMessage.address != str(REPORTER))
            .group_by(OutboundMessage.address)
        ).all()
        return {int(chat): int(n) for chat, n in rows}


def test_two_schedulers_firing_together_send_once(world: World) -> None:
    world.fixture_week()
    now = wita(16, 7)
    results = []

    def fire(name: str) -> None:
        results.append(send_all_digests(world.engine, W46, WITA, 1000, name, now=now))

    threads = [threading.Thread(target=fire, args=(f"worker-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _messages(world.engine) == {901: 2, 902: 2}  # chart + text, once per head
    assert sorted(r.units for r in results) == [0, 1]
    again = send_all_digests(world.engine, W46, WITA, 1000, "late-manual", now=now)
    assert (again.units, again.messages) == (0, 0)
    with Session(world.engine) as s:
        photo = s.exec(select(OutboundMessage).where(OutboundMessage.photo != None)).first()  # noqa: E711
        assert photo is not None and photo.photo is not None and photo.photo[:4] == b"\x89PNG"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at


def test_a_crash_after_half_the_heads_resumes_with_the_rest(world: World) -> None:
    world.fixture_week()
    clock = Clock(wita(16, 7))
    unit_id = world.unit.id or 0
    served: list[str] = []

    def crash_on_second(head: AppUser) -> None:
        served.append(head.username)
        if len(served) == 2:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        send_unit_digest(
            world.engine,
            unit_id,
            W46,
            WITA,
            1000,
            "w1",
            now=None,
            on_recipient=crash_on_second,
            clock=clock,
        )
    assert _messages(world.engine) == {901: 2}
    # Another worker right away finds a live claim and leaves it alone...
    assert send_unit_digest(world.engine, unit_id, W46, WITA, 1000, "w2", clock=clock) is None
    # ...and once the claim has been silent for 5 minutes takes it over and serves only who
    # is left.
    clock.at += timedelta(minutes=4)
    assert send_unit_digest(world.engine, unit_id, W46, WITA, 1000, "w2", clock=clock) is None
    clock.at += timedelta(minutes=2)
    assert send_unit_digest(world.engine, unit_id, W46, WITA, 1000, "w2", clock=clock) == 2
    assert _messages(world.engine) == {901: 2, 902: 2}
    with Session(world.engine) as s:
        run = s.exec(select(DigestRun)).one()
        assert (run.status, run.claimed_by) == ("done", "w2")


def test_a_claim_of_a_process_gone_from_this_host_is_taken_over_at_once(world: World) -> None:
    world.fixture_week()
    now = wita(16, 7)
    host = socket.gethostname()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    unit_id = world.unit.id or 0

    def crash(_: AppUser) -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):  # a worker claims the run and dies before any head
        send_unit_digest(world.engine, unit_id, W46, WITA, 1000, "w1", now=now, on_recipient=crash)
    for holder, taken in (
        (f"{host}:{os.getppid()}", False),  # alive on this host: its claim stands
        (f"other-host:{gone.pid}", False),  # elsewhere: cannot tell, wait 5 minutes
        (worker_name(), False),  # this very process, still at work
        (f"{host}:{gone.pid}", True),  # gone from this host: taken over at once
    ):
        with Session(world.engine) as s:
            s.execute(update(DigestRun).values(claimed_by=holder))
            s.commit()
        queued = send_unit_digest(world.engine, unit_id, W46, WITA, 1000, "w2", now=now)
        assert queued == (4 if taken else None), holder


def test_a_restarted_process_with_its_old_pid_knows_the_old_claim_is_not_its_own() -> None:
    host = socket.gethostname()
    assert worker_gone(f"{host}:{os.getpid()}:0ld11fe")  # pid 1 again in a restarted container
    assert worker_gone(f"{host}:{os.getpid()}")  # a claim written before names had a life
    assert not worker_gone(worker_name())


def test_worker_names_fit_the_claim_column_on_any_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "pod-" + "x" * 59)  # 63, the maximum
    name = worker_name()
    assert len(name) <= 64 and not worker_gone(name)


def _rival_before_902(world: World, minutes: Callable[[int], int]) -> tuple[int | None, int | None]:
    """Worker w1 sends the unit's digest; before each head its clock moves on `minutes(chat)`,
    and just before head 902 a worker w2 tries the same run. (w1's result, w2's result)"""
    unit_id = world.unit.id or 0
    clock = Clock(wita(16, 7))
    rival: list[int | None] = []

    def hook(head: AppUser) -> None:
        chat_id = HEAD_CHATS[head.username]
        clock.at += timedelta(minutes=minutes(chat_id))
        if chat_id == 902:
            rival.append(
                send_unit_digest(world.engine, unit_id, W46, WITA, 1000, "w2", clock=clock)
            )

    queued = send_unit_digest(
        world.engine, unit_id, W46, WITA, 1000, "w1", now=None, on_recipient=hook, clock=clock
    )
    [tried] = rival
    return queued, tried


def test_a_long_run_keeps_its_claim_alive(world: World) -> None:
    world.fixture_week()
    # Each head takes 4 minutes: w2 comes 8 minutes after the claim, 4 after the heartbeat
    # before head 901, and finds the claim alive.
    assert _rival_before_902(world, lambda chat: 4) == (4, None)
    assert _messages(world.engine) == {901: 2, 902: 2}


def test_a_run_whose_claim_was_taken_over_stops_without_a_duplicate(world: World) -> None:
    world.fixture_week()
    # w1 hangs 6 minutes before head 902: w2 finds the claim silent, takes it over and serves
    # 902; w1 then stops with only 901 served.
    assert _rival_before_902(world, lambda chat: 6 if chat == 902 else 0) == (2, 2)
    assert _messages(world.engine) == {901: 2, 902: 2}
    with Session(world.engine) as s:
        run = s.exec(select(DigestRun)).one()
        assert (run.status, run.claimed_by) == ("done", "w2")


def test_catch_up_after_a_missed_monday_and_not_twice(world: World, settings: Settings) -> None:
    world.fixture_week()
    tuesday = wita(17, 9)  # the scheduler was down on Monday 16 at 07:00
    assert due_digest_week(settings, tuesday) == W46
    assert due_digest_week(settings, wita(16, 6)) == W46.previous()  # before 07:00 Monday
    policies = build(settings, world.engine)
    report = catch_up(policies, tuesday)
    assert report is not None and report.units == 1
    assert catch_up(policies, tuesday + timedelta(hours=1)).units == 0  # type: ignore[union-attr]
    assert run_digests(policies, wita(16, 7)).units == 0  # the scheduled run too
    assert _messages(world.engine) == {901: 2, 902: 2}


def test_jobs_fire_at_the_configured_local_time(world: World, settings: Settings) -> None:
    scheduler = build_scheduler(build(settings, world.engine))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "weekly-digest", "sla-reminders", "autoclose", "close-unanswered", "prune-updates",
        "prune-outbox", "case-alerts", "public-figures",
    }  # fmt: skip
    friday = datetime(2026, 11, 13, 15, 0, tzinfo=WITA)
    digest = jobs["weekly-digest"].trigger.get_next_fire_time(None, friday)
    assert digest == datetime(2026, 11, 16, 7, 0, tzinfo=WITA)
    assert digest.astimezone(UTC) == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)
    reminders = jobs["sla-reminders"].trigger.get_next_fire_time(None, friday)
    assert reminders == datetime(2026, 11, 14, 8, 0, tzinfo=WITA)


def test_link_codes(world: World) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    with Session(world.engine) as s:
        head = s.exec(select(AppUser).where(AppUser.username == "head-id")).one()
        other = s.exec(select(AppUser).where(AppUser.username == "spv")).one()
        code, expires = create_link_code(s, head.id or 0, actor=world.admin, now=now)
        assert expires - now == timedelta(hours=24) and len(code) == 9
        with pytest.raises(LinkRefused) as unknown:
            redeem_link_code(s, "ZZZZ-ZZZZ", chat(555), now=now)
        assert unknown.value.reason == "unknown"
        with pytest.raises(LinkRefused) as expired:
            redeem_link_code(s, code, chat(555), now=now + timedelta(hours=25))
        assert expired.value.reason == "expired"
        with pytest.raises(LinkRefused) as taken:  # this chat belongs to another account
            redeem_link_code(s, code, chat(telegram_chat_of(s, other) or 0), now=now)
        assert taken.value.reason == "taken"
        user = redeem_link_code(s, code.lower().replace("-", " "), chat(555), "en", now=now)
        linked = (user.username, telegram_chat_of(s, user), user.language)
        assert linked == ("head-id", 555, "en")
        with pytest.raises(LinkRefused) as used:
            redeem_link_code(s, code, chat(556), now=now)
        assert used.value.reason == "used"


def test_reminders_once_a_day_for_what_is_due(world: World) -> None:
    refs = world.fixture_week()
    with Session(world.engine, expire_on_commit=False) as s:
        secret = svc.file_complaint(
            s,
            telegram_citizen(s, 1),
            svc.ComplaintDraft(
                unit_id=world.unit.id or 0,
                category="lainnya",
                privacy=Privacy.rahasia,
                description="Laporan rahasia tentang penyalahgunaan wewenang.",
            ),
            POLICY,
            now=wita(12),
        )
        s.commit()
    sla = POLICY.sla
    monday = wita(16, 8)
    assert send_reminders(world.engine, sla, now=monday) == 3  # two heads and the supervisor
    assert send_reminders(world.engine, sla, now=monday + timedelta(hours=2)) == 0
    with Session(world.engine) as s:
        texts = {
            chat_of(m): json.loads(m.params)["text"]
            for m in s.exec(select(OutboundMessage).where(OutboundMessage.template == "plain"))
        }
    assert refs["b"] in texts[901] and refs["c"] in texts[901] and refs["a"] not in texts[901]
    assert "terlambat sejak" in texts[901] and "overdue since" in texts[902]
    assert secret.reference not in texts[901]  # rahasia: unit heads never see it
    assert secret.reference in texts[903]  # the unit's supervisor does


@pytest.fixture
async def bot() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    fake = FakeTelegram()
    b = Bot("123456:TEST-TOKEN", request=fake, get_updates_request=fake)
    await b.initialize()
    yield fake, b
    await b.shutdown()


async def test_the_dispatcher_delivers_the_digest_with_its_chart(
    world: World, bot: tuple[FakeTelegram, Bot]
) -> None:
    fake, b = bot
    world.fixture_week()
    send_all_digests(world.engine, W46, WITA, 1000, "w", now=wita(16, 7))
    dispatcher = telegram_dispatcher(world.engine, b)
    while await dispatcher.run_once():
        pass
    photos = [p for m, p in fake.calls if m == "sendPhoto"]
    assert [int(p["chat_id"]) for p in photos] == [901, 902]
    assert photos[0]["caption"] == "📊 Ringkasan mingguan Dinas Dukcapil, 2026-W46"
    texts = [p["text"] for p in fake.sent_to(902, "sendMessage")]
    assert texts and texts[0].startswith("📊 Weekly digest for Dinas Dukcapil, 2026-W46")
