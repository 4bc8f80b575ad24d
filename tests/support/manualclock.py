"""A clock a test moves by hand, for code that takes its time through an injected clock."""

from __future__ import annotations

import threading


class ManualClock:
    """Time stands still until someone waits; a wait that nothing interrupts takes no time."""

    def __init__(self) -> None:
        self.time = 0.0

    def now(self) -> float:
        return self.time

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if not event.is_set():
            self.time += timeout
        return event.is_set()

    def advance(self, seconds: float) -> None:
        self.time += seconds
