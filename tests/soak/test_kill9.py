"""Soak (run by `make soak`, not `make test`): the bot process is killed with SIGKILL at
random moments while scripted citizens run surveys through a local Bot API server, and is
restarted each time. Every survey whose thanks reached the citizen is stored exactly once,
and every citizen finishes (half-finished conversations resume at their step).

SOAK_CITIZENS (default 1000) and SOAK_KILLS (default 10) set the size. The test waits for
the work to be done (every survey stored), bounded by SOAK_SECONDS_PER_SURVEY (default 0.5)
per survey plus a start-up allowance per restart; a failure reports how far it got.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select

from core.chat.models import ProcessedMessage
from core.masterdata.models import Unit
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from core.surveys.models import SurveyResponse
from tests.bot_api_server import BotApiServer
from tests.botkit import survey_updates
from tests.processes import process_env, spawn
from tests.waiting import TIMEOUT, eventually

CITIZENS = int(os.environ.get("SOAK_CITIZENS", "1000"))
KILLS = int(os.environ.get("SOAK_KILLS", "10"))
# The bound on the wait for the work: generous, so only a bot that stalls runs out of it.
SECONDS_PER_SURVEY = float(os.environ.get("SOAK_SECONDS_PER_SURVEY", "0.5"))
SECONDS_PER_START = 30.0  # each restart: imports, getMe, replaying what was stored


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
    log = tmp_path / "bot.log"

    def start() -> subprocess.Popen[bytes]:
        return spawn(["bot"], env, log)

    def count(model: Any) -> int:
        with Session(engine) as s:
            return int(s.exec(select(func.count()).select_from(model)).one())

    def calls() -> int:
        with server.cond:
            return len(server.state.calls)

    rng = random.Random(9)
    # Interleave citizens: each pushes its next update in rounds, as real people would.
    scripts = [survey_updates(5_000_000 + c, unit_id) for c in range(CITIZENS)]
    bot = start()
    kills = pushed = 0
    began = time.monotonic()

    def progress() -> str:
        state = "running" if bot.poll() is None else f"ended with {bot.returncode}"
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        return (
            f"{count(SurveyResponse)} of {CITIZENS} surveys stored, {count(ProcessedMessage)} "
            f"of {pushed} updates handled, {calls()} Bot API calls, {kills} kill -9 in "
            f"{time.monotonic() - began:.0f} s; the bot is {state}; its log ends:\n{tail}"
        )

    def alive() -> None:
        assert bot.poll() is None, progress()  # only this test stops the bot

    def worked(calls_wanted: int) -> bool:
        """The bot made that many Bot API calls, or handled all that was pushed."""
        alive()
        return calls() >= calls_wanted or count(ProcessedMessage) >= pushed

    try:
        next_id = iter(range(7_000_000, 8_000_000))
        for step in range(16):
            before = calls()
            for script in scripts:  # Telegram numbers updates in the order they arrive
                server.push({**script[step], "update_id": next(next_id)})
            pushed += len(scripts)
            # Kill after a random share of this round's work (not after a random time):
            # the bot is in the middle of it however fast the machine is.
            eventually(
                partial(worked, before + rng.randint(1, CITIZENS)),
                progress,
                timeout=SECONDS_PER_START + CITIZENS * SECONDS_PER_SURVEY / 16,
            )
            if kills < KILLS and rng.random() < 0.7:
                bot.send_signal(signal.SIGKILL)
                bot.wait(TIMEOUT)
                kills += 1
                bot = start()

        def finished() -> bool:
            alive()
            return count(SurveyResponse) >= CITIZENS

        eventually(
            finished,
            progress,
            timeout=SECONDS_PER_START * (kills + 1) + CITIZENS * SECONDS_PER_SURVEY,
        )
        done = count(SurveyResponse)
        with server.cond:
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
            f"{len(thanked)} thanked, {time.monotonic() - began:.0f} s"
        )
        assert kills >= 1
        assert all(n == 1 for _, n in per_citizen)  # never twice
        assert done == CITIZENS  # everybody finished, across the kills
        assert len(thanked) <= done  # no thanks without a stored survey
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(TIMEOUT)
        server.stop()
        engine.dispose()
