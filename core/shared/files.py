"""Files and folders that only the service's own user can read, whatever the umask.

The database and complaint photos hold personal data: they are created 0600 (files) and
0700 (folders). `mkdir(mode=...)` and `open(..., mode)` are both reduced by the umask and
`mkdir(parents=True)` ignores the mode for the parents, so every path created here gets
its mode set explicitly. Folders and files that already exist keep theirs: a folder we did
not create (say /tmp) is not ours to change.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dirs(path: Path) -> None:
    """Create `path` and its missing parents, each 0700."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # created meanwhile by another process: theirs to set
            continue
        os.chmod(folder, PRIVATE_DIR_MODE)


def create_private_file(path: Path) -> bool:
    """Create `path` empty and 0600 unless it exists; True when it was created here."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return True


def write_private_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` (0600) through a temporary file renamed over it, so a reader
    never sees half a file."""
    tmp = path.with_name(f"{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # a leftover temporary file may have had another mode
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)
    os.replace(tmp, path)
