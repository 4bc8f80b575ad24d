"""What the supervisor writes and `supervisor logs` reads: where the log files are, what they
are called, and the `name | ` prefix that tells the lines of several processes apart.

Both ends use these, so that `logs` finds and shows the files exactly as the supervisor's
console would, with or without a supervisor running.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

LOGS_DIR = "logs"  # under the state directory
LOG_SUFFIX = ".log"  # <process>.log: stdout, and stderr unless it is kept apart
STDERR_LOG_SUFFIX = ".err.log"  # <process>.err.log: stderr, with stderr = "separate"

# ANSI foreground colours that read well on dark and light backgrounds; red is kept for errors.
_PALETTE = (36, 33, 32, 35, 34, 96, 93, 92, 95, 94)


class Prefixes:
    """`name | ` prefixes padded to a common width, coloured per process when asked to."""

    def __init__(self, names: Iterable[str] = (), *, colour: bool = False) -> None:
        self.colour = colour
        self._order: dict[str, int] = {}
        self._width = 0
        self._cache: dict[str, bytes] = {}
        for name in names:
            self.add(name)

    def add(self, name: str) -> None:
        self._order.setdefault(name, len(self._order))
        if len(name) > self._width:
            self._width = len(name)
            self._cache.clear()  # every prefix made so far is now too narrow

    def __call__(self, name: str) -> bytes:
        prefix = self._cache.get(name)
        if prefix is None:
            self.add(name)
            text = f"{name:<{self._width}} |"
            if self.colour:
                code = _PALETTE[self._order[name] % len(_PALETTE)]
                text = f"\x1b[{code}m{text}\x1b[0m"
            prefix = self._cache[name] = (text + " ").encode()
        return prefix


def colour_refused() -> bool:
    """NO_COLOR set to a non-empty value (https://no-color.org: an empty one does not count)."""
    return bool(os.environ.get("NO_COLOR"))


def colour_wanted(fd: int) -> bool:
    """Colour on a terminal, unless NO_COLOR refuses it."""
    if colour_refused():
        return False
    try:
        return os.isatty(fd)
    except OSError:
        return False
