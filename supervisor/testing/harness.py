"""Drive `supervisor run` as a real process and wait on what its event log says: the stack
driver `chaos` uses too, and the types of the project's own fixtures (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from supervisor.tools.stackdriver.running import (
    Event,
    EventTail,
    RunningStack,
    WaitTimeout,
    matches,
)

__all__ = [
    "Event",
    "EventTail",
    "RunStack",
    "RunningStack",
    "WaitTimeout",
    "WriteConfig",
    "matches",
]

# Write a services file; start `supervisor run` on one.
WriteConfig = Callable[[str], Path]
RunStack = Callable[..., RunningStack]
