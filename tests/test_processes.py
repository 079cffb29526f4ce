"""Real processes: `asn-feedback bot` killed with SIGTERM in the middle of a burst loses no
acknowledged update; API (two workers), bot and scheduler as processes sharing only the
database."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
from sqlmodel import Session, func, select

from core.cases import service as svc
from core.chat.models import ConversationState, ProcessedMessage
from core.people.models import Role
from core.shared.config import load_settings
from core.shared.db import make_engine
from core.shared.migrate import upgrade
from tests.bot_api_server import BotApiServer
from tests.botkit import start_update
from tests.contacts import telegram_citizen
from tests.factories import PASSWORD, make_unit, make_user
from tests.processes import free_port, process_env, spawn, wait_http
from tests.waiting import TIMEOUT, eventually

SECRET = "process-test-secret-0123456789"


def children(pid: int) -> list[int]:
    """Live child processes of `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def stop(proc: subprocess.Popen[bytes], timeout: float = TIMEOUT) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout)


def test_sigterm_during_a_burst_loses_no_acknowledged_update(
    fresh_db_url: str, bot_api: BotApiServer, tmp_path: Path
) -> None:
    upgrade(fresh_db_url)
    port = free_port()
    env = process_env(fresh_db_url, bot_api, JWT_SECRET="j" * 48)
    env.update(
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        BOT_PORT=str(port),
    )
    log = tmp_path / "bot.log"
    bot = spawn(["bot"], env, log)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc=bot)
    acknowledged: list[int] = []
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        for i in range(400):
            if i == 60:
                bot.send_signal(signal.SIGTERM)
            try:
                r = client.post(
                    "/telegram/webhook", json=start_update(5000 + i, 60_000 + i), headers=headers
                )
            except httpx.TransportError:
                break
            if r.status_code == 200:
                acknowledged.append(5000 + i)
    assert bot.wait(TIMEOUT) == 0, log.read_text()[-2000:]
    assert len(acknowledged) >= 60

    bot = spawn(["bot"], env, log)  # the restart replays what was stored but not handled
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=bot)
        engine = make_engine(fresh_db_url)

        def lost() -> list[int]:
            with Session(engine) as s:
                handled = {int(i) for i in s.exec(select(ProcessedMessage.message_id)).all()}
            return sorted(set(acknowledged) - handled)

        eventually(
            lambda: not lost(),
            lambda: f"every acknowledged update handled; missing {lost()[:10]} ({len(lost())})",
        )
        with Session(engine) as s:
            states = s.exec(select(func.count()).select_from(ConversationState)).one()
        assert states == len(acknowledged)  # each handled exactly once
        engine.dispose()
    finally:
        assert stop(bot) == 0


def test_api_bot_and_scheduler_as_separate_processes(
    fresh_db_url: str, bot_api: BotApiServer, tmp_path: Path
) -> None:
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    settings = load_settings(database_url=fresh_db_url, environment="test", _env_file=None)
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "kec-oebobo", "Kecamatan Oebobo")
        spv = make_user(s, "spv", Role.supervisor, [unit])
        citizen = telegram_citizen(s, 7100)
        case = svc.file_complaint(
            s,
            citizen,
            svc.ComplaintDraft(
                unit_id=unit.id or 0,
                category="lainnya",
                description="Surat keterangan tidak selesai dua minggu.",
            ),
            svc.CasePolicy.from_settings(settings),
        )
        s.commit()
    engine.dispose()
    port = free_port()
    env = process_env(fresh_db_url, bot_api, JWT_SECRET="j" * 48)
    procs = [
        spawn(["api", "--port", str(port), "--workers", "2"], env, tmp_path / "api.log"),
        spawn(["bot"], env, tmp_path / "bot.log"),
        spawn(["scheduler"], env, tmp_path / "scheduler.log"),
    ]
    try:
        api = f"http://127.0.0.1:{port}"
        wait_http(f"{api}/healthz", proc=procs[0])
        token = httpx.post(f"{api}/api/auth/token", data={"username": "spv", "password": PASSWORD})
        h = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for step, body in (
            ("verify", None),
            ("assign", {"assignee_id": spv.id}),
            ("resolve", {"outcome": "partly", "resolution": "Surat sudah jadi."}),
        ):
            r = httpx.post(f"{api}/api/cases/{case.id}/{step}", headers=h, json=body)
            assert r.status_code == 200, r.text

        def texts() -> list[str]:
            return [m.text for m in bot_api.state.chats.get(7100, {}).values()]

        bot_api.wait_until(
            lambda: any("telah diselesaikan" in t for t in texts()),
            lambda: f"the resolution in the citizen's chat; it has {texts()}",
        )
        assert any("Surat sudah jadi." in t for t in texts()), texts()
        assert procs[2].poll() is None  # the scheduler is running beside them
        workers = [c for c in children(procs[0].pid) if b"spawn_main" in cmdline(c)]
        assert len(workers) == 2  # two API worker processes (uvicorn spawns them)
        for _ in range(5):  # failures are counted in the database, whichever worker answers
            bad = httpx.post(
                f"{api}/api/auth/token", data={"username": "spv", "password": "x" * 12}
            )
            assert bad.status_code == 401
        late = httpx.post(f"{api}/api/auth/token", data={"username": "spv", "password": PASSWORD})
        assert late.status_code == 429 and int(late.headers["Retry-After"]) > 0
    finally:
        codes = [stop(p) for p in procs]
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the API may report -15.
    assert codes[0] in (0, -signal.SIGTERM) and codes[1:] == [0, 0], [
        (p.args, (tmp_path / n).read_text()[-500:])
        for p, n in zip(procs, ("api.log", "bot.log", "scheduler.log"), strict=True)
    ]
