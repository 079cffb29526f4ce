"""Login burst: the API's memory, and a write's latency, while 100 bogus logins arrive at once.

Production argon2 (64 MiB and ~0.15 s of CPU a check). For each engine, `asn-feedback api`
runs as its own process behind a "proxy" (TRUSTED_PROXIES=127.0.0.1), and 100 logins with
wrong passwords arrive at once, each from its own X-Forwarded-For address and for its own
username (a botnet: none is throttled, every password is checked). Meanwhile an admin creates
services one after another. Printed: the growth of the API process's resident memory (peak,
VmHWM, over the level before the burst), the slowest write during the burst, and how long the
logins took. The bar: < 400 MB of growth and no write slower than 1 s.

Variants: PASSWORD_CHECKS_AT_ONCE=2 (the default) and =64 (every login checked at once, as
before the bound); `--before-src DIR` also runs the API from another checkout (e.g. the commit
before this change: `git archive <commit> | tar -x -C DIR`), with its own migrations.

    python bench/login_bench.py [--logins N] [--engine sqlite|postgres|both] [--before-src DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import postgres_database
from sqlalchemy import create_engine, text

from core.people.passwords import hash_password
from core.shared.config import CHEAP_ARGON2_ENV

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.processes import free_port, process_env, spawn, wait_http

ADMIN_PASSWORD = "benchmark-admin-password"  # noqa: S105 (a local test account)


@dataclass(frozen=True)
class Variant:
    label: str
    checks_at_once: int
    src: Path | None = None  # another checkout to run the API from


@dataclass
class Burst:
    login_codes: Counter[int | str] = field(default_factory=Counter)
    login_seconds: list[float] = field(default_factory=list)
    write_seconds: list[float] = field(default_factory=list)
    write_errors: Counter[int | str] = field(default_factory=Counter)
    elapsed: float = 0.0


def status_kib(pid: int, key: str) -> int:
    """VmRSS or VmHWM of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


class RssSampler:
    """The largest VmRSS seen while it runs (VmHWM also covers what happened before)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, status_kib(self.pid, "VmRSS"))
            self._stop.wait(0.01)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def seed(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO unit (code, name, active, created_at) "
                "VALUES ('bench', 'Bench Unit', true, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO app_user (username, password_hash, role, active, created_at) "
                "VALUES ('admin', :h, 'admin', true, CURRENT_TIMESTAMP)"
            ),
            {"h": hash_password(ADMIN_PASSWORD)},
        )
    engine.dispose()


async def burst(base: str, token: str, logins: int) -> Burst:
    result = Burst()
    done = asyncio.Event()
    limits = httpx.Limits(max_connections=logins + 10, max_keepalive_connections=logins + 10)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as c:

        async def bogus(i: int) -> None:
            t0 = time.perf_counter()
            try:
                r = await c.post(
                    "/auth/token",
                    data={"username": f"bogus{i:03d}", "password": "wrong-password-123"},
                    headers={"X-Forwarded-For": f"198.18.{i // 250}.{i % 250 + 1}"},
                )
                result.login_codes[r.status_code] += 1
            except httpx.TransportError as exc:
                result.login_codes[type(exc).__name__] += 1
            result.login_seconds.append(time.perf_counter() - t0)

        async def writer() -> None:
            n = 0
            while not done.is_set():
                n += 1
                t0 = time.perf_counter()
                try:
                    r = await c.post(
                        "/services",
                        json={"unit_code": "bench", "name": f"Layanan {time.time_ns()}"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    if r.status_code != 201:
                        result.write_errors[r.status_code] += 1
                except httpx.TransportError as exc:
                    result.write_errors[type(exc).__name__] += 1
                result.write_seconds.append(time.perf_counter() - t0)
                await asyncio.sleep(0.05)

        t0 = time.perf_counter()
        writing = asyncio.create_task(writer())
        await asyncio.gather(*(bogus(i) for i in range(logins)))
        result.elapsed = time.perf_counter() - t0
        done.set()
        await writing
    return result


@contextmanager
def database(engine: str, tmp: Path, name: str) -> Iterator[str]:
    if engine == "postgres":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp / name}.db"


def run(engine: str, variant: Variant, logins: int, tmp: Path) -> None:
    log = tmp / f"{engine}-{variant.checks_at_once}-{variant.src is not None}.log"
    with database(engine, tmp, variant.label) as url:
        env = process_env(
            url,
            JWT_SECRET="b" * 48,
            TRUSTED_PROXIES="127.0.0.1",
            PASSWORD_CHECKS_AT_ONCE=str(variant.checks_at_once),
        )
        env.pop(CHEAP_ARGON2_ENV, None)
        if variant.src is not None:
            env["PYTHONPATH"] = str(variant.src)
        assert spawn(["db", "upgrade"], env, log).wait(120) == 0, log.read_text()[-2000:]
        seed(url)
        port = free_port()
        api = spawn(["api", "--port", str(port)], env, log)
        try:
            base = f"http://127.0.0.1:{port}/api"
            wait_http(f"http://127.0.0.1:{port}/healthz")
            r = httpx.post(
                f"{base}/auth/token",
                data={"username": "admin", "password": ADMIN_PASSWORD},
                headers={"X-Forwarded-For": "203.0.113.1"},
                timeout=30,
            )
            token = r.json()["access_token"]
            asyncio.run(burst(base, token, 3))  # warm up: argon2 loaded, dummy hash made
            before = status_kib(api.pid, "VmRSS")
            with RssSampler(api.pid) as sampler:
                result = asyncio.run(burst(base, token, logins))
            hwm = status_kib(api.pid, "VmHWM")
        finally:
            api.send_signal(signal.SIGTERM)
            api.wait(30)
    growth = (max(hwm, sampler.peak) - before) / 1024
    writes = sorted(result.write_seconds)
    first_write = result.write_seconds[0] * 1000
    waits = sorted(result.login_seconds)
    errors = sum(result.write_errors.values())
    print(
        f"  {variant.label:<28} memory +{growth:,.0f} MB (from {before / 1024:,.0f} MB); "
        f"writes during the burst: {len(writes)}, p50 {writes[len(writes) // 2] * 1000:,.0f} ms, "
        f"max {writes[-1] * 1000:,.0f} ms (first {first_write:,.0f} ms), errors {errors} "
        f"{dict(result.write_errors) or ''}; logins answered in {result.elapsed:.1f} s "
        f"(p50 {waits[len(waits) // 2]:.1f} s) {dict(result.login_codes)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=100)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--before-src", type=Path, default=None)
    args = parser.parse_args()
    os.environ.pop(CHEAP_ARGON2_ENV, None)  # production argon2 here and in the API process
    variants = [
        Variant("PASSWORD_CHECKS_AT_ONCE=2", 2),
        Variant("PASSWORD_CHECKS_AT_ONCE=64", 64),
    ]
    if args.before_src is not None:
        variants.append(Variant(f"before ({args.before_src})", 2, args.before_src.resolve()))
    engines = ("sqlite", "postgres") if args.engine == "both" else (args.engine,)
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            print(f"{engine}: {args.logins} bogus logins at once (argon2 64 MiB), admin writing:")
            for variant in variants:
                run(engine, variant, args.logins, Path(tmp))


if __name__ == "__main__":
    main()
