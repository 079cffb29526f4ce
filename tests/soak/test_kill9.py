"""Soak (run by `make soak`, not `make test`): the bot process is killed with SIGKILL at
random moments while scripted citizens run surveys through a local Bot API server, and is
restarted each time. Every survey whose thanks reached the citizen is stored exactly once,
and every citizen finishes (half-finished conversations resume at their step).

SOAK_CITIZENS (default 1000) and SOAK_KILLS (default 10) set the size.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

from sqlmodel import Session, func, select

from core.masterdata.models import Unit
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from core.surveys.models import SurveyResponse
from tests.bot_api_server import BotApiServer
from tests.botkit import survey_updates
from tests.processes import process_env, spawn

CITIZENS = int(os.environ.get("SOAK_CITIZENS", "1000"))
KILLS = int(os.environ.get("SOAK_KILLS", "10"))


def test_kill_9_at_random_moments(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/soak.db"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s:
        unit = Unit(code="aaa", name="AAA Soak Unit")
        s.add(unit)
        s.commit()
        unit_id = unit.id or 0
    server = BotApiServer().start()
    env = process_env(url, server)

    def start() -> subprocess.Popen[bytes]:
        return spawn(["bot"], env, tmp_path / "bot.log")

    rng = random.Random(9)
    # Interleave citizens: each pushes its next update in rounds, as real people would.
    scripts = [survey_updates(5_000_000 + c, unit_id) for c in range(CITIZENS)]
    bot = start()
    kills = 0
    try:
        next_id = iter(range(7_000_000, 8_000_000))
        for step in range(16):
            for script in scripts:  # Telegram numbers updates in the order they arrive
                server.push({**script[step], "update_id": next(next_id)})
            time.sleep(rng.uniform(0.2, 1.0))
            if kills < KILLS and rng.random() < 0.7:
                bot.send_signal(signal.SIGKILL)
                bot.wait(10)
                kills += 1
                bot = start()
        deadline = time.monotonic() + 300
        done = 0
        while time.monotonic() < deadline:
            with Session(engine) as s:
                done = int(s.exec(select(func.count()).select_from(SurveyResponse)).one())
            if done >= CITIZENS:
                break
            time.sleep(1)
        thanked = {
            chat
            for chat, msgs in server.state.chats.items()
            if any("Terima kasih" in m.text for m in msgs.values())
        }
        with Session(engine) as s:
            per_citizen = s.exec(
                select(SurveyResponse.citizen_id, func.count()).group_by(SurveyResponse.citizen_id)
            ).all()
        print(
            f"\nsoak: {CITIZENS} citizens, {kills} kill -9, {done} surveys stored, "
            f"{len(thanked)} thanked"
        )
        assert kills >= 1
        assert all(n == 1 for _, n in per_citizen)  # never twice
        assert done == CITIZENS  # everybody finished, across the kills
        assert len(thanked) <= done  # no thanks without a stored survey
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(30)
        server.stop()
        engine.dispose()
