"""Who holds a claim: "host:pid", and whether that process is gone (killed, crashed)."""

from __future__ import annotations

import os
import socket


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_gone(name: str) -> bool:
    """True when `name` is a process on this host that no longer runs.

    A claim by a process on another host, or one whose pid is alive (even if reused), is
    not known to be gone: it is left to expire instead."""
    host, _, pid = name.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
