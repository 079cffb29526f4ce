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
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from datetime import time as dtime
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
from tests.factories import make_user
from tests.processes import process_env, spawn

UNITS = 120
CHATS = 300
PER_CHAT = 2
BOT_KILLS = 4


def _count(engine: Engine, stmt: SelectOfScalar[int]) -> int:
    with Session(engine) as s:
        return int(s.exec(stmt).one())


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
            head.telegram_chat_id = 700_000 + i
            s.add(head)
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
    proc = start()
    try:
        deadline = time.monotonic() + 120
        at_kill = 0
        while time.monotonic() < deadline:
            at_kill = _count(engine, served)
            if at_kill >= 10:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        after_kill = _count(engine, served)
        proc = start()
        done = select(func.count()).select_from(DigestRun).where(DigestRun.status == "done")
        while time.monotonic() < deadline and _count(engine, done) < UNITS:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    with Session(engine) as s:
        per_chat = Counter(s.exec(select(OutboundMessage.chat_id)).all())
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
                    OutboundMessage(
                        chat_id=800_000 + c,
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
    try:
        deadline = time.monotonic() + 240
        while kills < BOT_KILLS and time.monotonic() < deadline:
            target = len(sent()) + rng.randint(20, 80)
            while len(sent()) < target and time.monotonic() < deadline:
                time.sleep(0.01)
            bot.send_signal(signal.SIGKILL)
            bot.wait(10)
            kills += 1
            bot = start()
        while time.monotonic() < deadline and _count(engine, pending) > 0:
            time.sleep(0.2)
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(30)
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
