"""Where the control socket lives, and how a path too long for an AF_UNIX address is reached.

Known to both ends: the server binds this name in the state directory, the client connects to it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

SOCKET_NAME = "control.sock"
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
