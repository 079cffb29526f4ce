"""A port that is taken: `serve` and `api` say which port and how to choose another, exit
non-zero, and print the console's and the docs' URLs only once they answer."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.shared.migrate import upgrade
from tests.processes import free_port, process_env, spawn
from tests.waiting import eventually


@pytest.fixture(scope="module")
def port_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file: which port is taken has nothing to do with the engine."""
    url = f"sqlite:///{tmp_path_factory.mktemp('port') / 'port.db'}"
    upgrade(url)
    return url


@pytest.fixture
def taken() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def _run(
    args: list[str], port_db: str, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=tmp_path,
        env=process_env(port_db, API_HOST="127.0.0.1", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", ["serve", "api"])
def test_a_taken_port_is_named_with_how_to_choose_another(
    command: str, taken: int, port_db: str, tmp_path: Path
) -> None:
    proc = _run([command, "--port", str(taken)], port_db, tmp_path)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"Error: port {taken} on 127.0.0.1 is taken"), lines[0]
    assert "--port " in lines[0] and "API_PORT=" in lines[0]
    assert "Errno" not in proc.stderr and "Traceback" not in proc.stderr
    # No URL that leads nowhere.
    assert "/api/docs" not in proc.stdout and "/staff/" not in proc.stdout


def test_a_taken_api_port_from_the_settings_is_named_too(
    taken: int, port_db: str, tmp_path: Path
) -> None:
    proc = _run(["serve"], port_db, tmp_path, API_PORT=str(taken))
    assert proc.returncode == 1
    assert f"port {taken} on 127.0.0.1 is taken" in proc.stderr
    assert f"API_PORT={taken}" not in proc.stderr  # it suggests another one
    assert "/api/docs" not in proc.stdout


def test_a_taken_staff_port_names_staff_port(taken: int, port_db: str, tmp_path: Path) -> None:
    proc = _run(["serve", "--port", str(free_port())], port_db, tmp_path, STAFF_PORT=str(taken))
    assert proc.returncode == 1, proc.stderr
    line = proc.stderr.strip()
    assert line.startswith(f"Error: STAFF_PORT {taken} on 127.0.0.1 is taken"), line
    assert "STAFF_PORT=" in line and "0: the staff console on the public port" in line
    assert "--port" not in line  # --port chooses the public port, not this one
    assert "/api/docs" not in proc.stdout


def test_a_taken_webhook_port_names_bot_port(taken: int, port_db: str, tmp_path: Path) -> None:
    proc = _run(
        ["bot"],
        port_db,
        tmp_path,
        TELEGRAM_BOT_TOKEN="123456:TEST-TOKEN",
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9",  # never reached: the port comes first
        TELEGRAM_WEBHOOK_URL="https://bot.example.go.id/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET="s" * 32,
        BOT_HOST="127.0.0.1",
        BOT_PORT=str(taken),
    )
    assert proc.returncode == 1, proc.stderr
    line = proc.stderr.strip()
    assert line.startswith(f"Error: BOT_PORT {taken} on 127.0.0.1 is taken"), line
    assert "BOT_PORT=" in line and "Traceback" not in proc.stderr


def test_the_docs_url_appears_once_it_answers(port_db: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    proc = spawn(["serve", "--port", str(port)], process_env(port_db, API_HOST="127.0.0.1"), log)
    try:

        def docs_url() -> str | None:
            assert proc.poll() is None, log.read_text()
            for line in log.read_text().splitlines():
                if "/api/docs" in line:
                    return line.split()[2]
            return None

        url = eventually(docs_url, "serve to print the docs URL")
        assert url == f"http://127.0.0.1:{port}/api/docs"
        # Printed only once the server listens: the very first request is answered.
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "swagger" in page.text.lower()
        assert httpx.get(f"http://127.0.0.1:{port}/staff/login", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
