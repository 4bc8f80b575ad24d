"""How a client finds the supervisor of a state directory, known to both ends.

The supervisor listens on `SOCKET_NAME` in its state directory and writes its pid into the lock
file `LOCK_NAME` there (`daemon/statelock.py` takes the lock).  The pid is what lets a client
tell a supervisor that is putting back a removed socket from one that is gone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

SOCKET_NAME = "control.sock"
LOCK_NAME = "supervisor.lock"
# sun_path holds 108 bytes; longer paths are reached through the directory's /proc fd link.
_SUN_PATH_MAX = 107


@contextlib.contextmanager
def reachable(path: Path) -> Iterator[str]:
    """A name for `path` that fits in sun_path."""
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        yield str(path)
        return
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{directory}/{path.name}"
    finally:
        os.close(directory)


def owner_pid(state_dir: Path) -> int | None:
    """The pid written in the lock file, whether or not that process still lives."""
    try:
        text = (state_dir / LOCK_NAME).read_text()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.strip().isdigit() else None


def owner_alive(state_dir: Path) -> bool:
    """Whether the pid in the lock file is a live process: a supervisor that may be re-creating
    its socket.  Only a hint (the pid may have been reused); it never takes the lock, so asking
    cannot make a starting supervisor believe another one runs."""
    pid = owner_pid(state_dir)
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
