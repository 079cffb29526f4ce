"""Soak (`make soak`): SIGKILL the scheduler during a digest run and the bot during a burst
of notifications, restart them, and count what reached people.

Bounds proven here:
- Digests: each unit head's digest is queued exactly once. Every head's outbox rows and its
  DigestRecipient row are one transaction, and a restarted scheduler takes over the dead
  process's claim at once (same host, pid gone) and serves only the heads not yet served.
- Notifications: every outbox message is delivered, in order per chat, with at most one
  duplicate per kill. The dispatcher sends one message at a time and marks it sent right
  after Telegram accepts it, so only the message in flight at the kill can go out twice.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from datetime import time as dtime
from functools import partial
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from sqlmodel.sql.expression import SelectOfScalar

from app.scheduler import due_digest_week
from core.digests.models import DigestRecipient, DigestRun
from core.masterdata.models import Unit
from core.outbox.models import OutboundMessage
from core.people.models import Role
from core.shared.clock import utcnow
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from core.surveys.models import SurveyResponse
from tests.bot_api_server import BotApiServer
from tests.contacts import link_telegram, outbound
from tests.factories import make_user
from tests.processes import process_env, spawn
from tests.waiting import TIMEOUT, eventually

UNITS = 120
CHATS = 300
PER_CHAT = 2
BOT_KILLS = 4
# Bounds on the waits for the work, which scale with it: generous, so only a process that
# stalls runs out of them.
SECONDS_PER_START = 30.0  # a restarted process: imports, start-up, taking over claims
SECONDS_PER_DIGEST = 1.0
SECONDS_PER_MESSAGE = 0.2


def _count(engine: Engine, stmt: SelectOfScalar[int]) -> int:
    with Session(engine) as s:
        return int(s.exec(stmt).one())


def _state(proc: subprocess.Popen[bytes]) -> str:
    return "running" if proc.poll() is None else f"ended with {proc.returncode}"


def _tail(log: Path) -> str:
    return f"{log.name} ends:\n{log.read_text(errors='replace')[-1500:]}" if log.exists() else ""


def test_scheduler_killed_mid_digest_run_queues_each_digest_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/digest.db"
    upgrade(url)
    engine = make_engine(url)
    settings = load_settings(database_url=url, environment="test", _env_file=None)
    week = due_digest_week(settings, utcnow())
    assert week is not None
    # One answer per unit on the Wednesday of the reported week: each digest has a chart.
    answered = datetime.combine(week.monday() + timedelta(days=2), dtime(12), settings.tz)
    with Session(engine) as s:
        for i in range(UNITS):
            unit = Unit(code=f"u{i:03d}", name=f"Unit {i:03d}")
            s.add(unit)
            s.flush()
            head = make_user(s, f"head{i:03d}", Role.unit_head, [unit])
            link_telegram(s, head, 700_000 + i)
            s.add(
                SurveyResponse(
                    unit_id=unit.id or 0,
                    **{f"q{k}": 3 for k in range(1, 10)},
                    local_date=answered.date(),
                    created_at=answered,
                )
            )
        s.commit()

    def start() -> subprocess.Popen[bytes]:
        return spawn(["scheduler"], process_env(url), tmp_path / "scheduler.log")

    served = select(func.count()).select_from(DigestRecipient)
    done = select(func.count()).select_from(DigestRun).where(DigestRun.status == "done")

    def progress() -> str:
        return (
            f"{_count(engine, served)} of {UNITS} heads served, {_count(engine, done)} digest "
            f"runs done; the scheduler is {_state(proc)}; {_tail(tmp_path / 'scheduler.log')}"
        )

    proc = start()
    try:
        eventually(
            lambda: _count(engine, served) >= 10,
            progress,
            SECONDS_PER_START + 10 * SECONDS_PER_DIGEST,
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(TIMEOUT)
        after_kill = _count(engine, served)
        proc = start()
        eventually(
            lambda: _count(engine, done) >= UNITS,
            progress,
            SECONDS_PER_START + UNITS * SECONDS_PER_DIGEST,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(TIMEOUT)
    with Session(engine) as s:
        per_chat = Counter(s.exec(select(OutboundMessage.address)).all())
        recipients = s.exec(select(DigestRecipient.user_id)).all()
    print(
        f"\nscheduler soak: {UNITS} unit heads, killed after {after_kill} were served, "
        f"{len(recipients)} served after restart, outbox rows per head {set(per_chat.values())}"
    )
    assert after_kill < UNITS  # the kill fell inside the run
    assert len(recipients) == len(set(recipients)) == UNITS
    assert len(per_chat) == UNITS
    assert set(per_chat.values()) == {2}  # a chart and the text: once each, no more
    engine.dispose()


def test_bot_killed_during_a_burst_delivers_all_with_one_duplicate_per_kill_at_most(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/outbox.db"
    upgrade(url)
    engine = make_engine(url)
    now = utcnow()
    with Session(engine) as s:
        for n in range(PER_CHAT):
            for c in range(CHATS):
                text = f"msg {c} {n}"
                s.add(
                    outbound(
                        800_000 + c,
                        template="plain",
                        params=json.dumps({"text": text}),
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        s.commit()
    server = BotApiServer().start()
    env = process_env(url, server, OUTBOX_LEASE_SECONDS="5")

    def start() -> subprocess.Popen[bytes]:
        return spawn(["bot"], env, tmp_path / "bot.log")

    def sent() -> list[dict[str, object]]:
        with server.cond:
            return [p for m, p in server.state.calls if m == "sendMessage"]

    rng = random.Random(7)
    total = CHATS * PER_CHAT
    pending = (
        select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status == "pending")
    )
    bot = start()
    kills = 0

    def progress() -> str:
        return (
            f"{len(sent())} of {total} messages sent, {_count(engine, pending)} pending, "
            f"{kills} kill -9; the bot is {_state(bot)}; {_tail(tmp_path / 'bot.log')}"
        )

    def sent_at_least(n: int) -> bool:
        return len(sent()) >= n

    try:
        while kills < BOT_KILLS:
            more = rng.randint(20, 80)
            # Kill after some messages went out (not after some time), on any machine.
            eventually(
                partial(sent_at_least, len(sent()) + more),
                progress,
                SECONDS_PER_START + more * SECONDS_PER_MESSAGE,
            )
            bot.send_signal(signal.SIGKILL)
            bot.wait(TIMEOUT)
            kills += 1
            bot = start()
        eventually(
            lambda: _count(engine, pending) == 0,
            progress,
            SECONDS_PER_START * (kills + 1) + total * SECONDS_PER_MESSAGE,
        )
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(TIMEOUT)
        server.stop()
    texts = [str(p["text"]) for p in sent()]
    counts = Counter(texts)
    duplicates = len(texts) - len(counts)
    first_seen: dict[int, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for t in texts:
        if t not in seen:
            seen.add(t)
            _, chat, n = t.split()
            first_seen[int(chat)].append(int(n))
    print(
        f"\noutbox soak: {total} messages to {CHATS} chats, {kills} kill -9, "
        f"{len(texts)} sendMessage calls, {len(counts)} distinct, {duplicates} duplicates"
    )
    assert kills == BOT_KILLS
    assert len(counts) == total  # every message delivered
    assert duplicates <= kills  # at most the one in flight at each kill
    assert all(order == sorted(order) for order in first_seen.values())  # in order per chat
    assert _count(engine, pending) == 0
    engine.dispose()
