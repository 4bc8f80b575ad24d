"""Waiting on something that gives no word when it changes: poll it, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT = 30.0  # a deadline, not a wait: generous, so a loaded machine only takes longer
POLL_INTERVAL = 0.01


def wait_until(look: Callable[[], T], what: str, timeout: float = TIMEOUT) -> T:
    """The first true value `look` returns; AssertionError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not (seen := look()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL_INTERVAL)
    return seen
