"""Who holds a claim: "host:pid:life", and whether that process is gone (killed, crashed).

`life` is drawn once per process, so a restarted process that gets its old pid back (pid 1
in a restarted container) still knows the old claim is not its own."""

from __future__ import annotations

import os
import secrets
import socket

NAME_MAX = 64  # the width of the claimed_by columns
_LIFE = secrets.token_hex(4)


def _host() -> str:
    return socket.gethostname()[: NAME_MAX - 20]  # room for ":<pid>:<life>"


def worker_name() -> str:
    return f"{_host()}:{os.getpid()}:{_LIFE}"


def worker_gone(name: str) -> bool:
    """True when `name` is a process on this host that no longer runs.

    A claim by a process on another host, or one whose pid is alive (even if reused), is
    not known to be gone: it is left to expire instead."""
    parts = name.rsplit(":", 2)
    if len(parts) < 2 or parts[0] != _host() or not parts[1].isdigit():
        return False
    pid, life = int(parts[1]), parts[2] if len(parts) == 3 else ""
    if pid == os.getpid():
        return life != _LIFE  # this pid in an earlier life of the process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
