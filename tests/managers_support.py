"""What the manager tests share: service processes awaited until ready, and waiting on files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from runtime_support import TIMEOUT, Child, Children, Inbox, binary_argv

from supervisor.shared.servicespec import ServiceSpec

T = TypeVar("T")

POLL_INTERVAL = 0.01


class ServiceProcesses:
    """Service processes a test starts, each awaited until ready; all killed by `close`."""

    def __init__(self, log_dir: Path) -> None:
        self._notify = Inbox()
        self._children = Children(log_dir)

    def start(self, spec: ServiceSpec) -> Child:
        child = self._children.start(binary_argv(spec.binary), spec=spec, notify=self._notify)
        self._notify.expect("READY=1")
        return child

    def close(self) -> None:
        self._children.kill_all()
        self._notify.close()


def wait_until(look: Callable[[], T | None], what: str, timeout: float = TIMEOUT) -> T:
    """What `look` returns once it is not None; files give no word when they change, so poll."""
    deadline = time.monotonic() + timeout
    while (seen := look()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout}s")
        time.sleep(POLL_INTERVAL)
    return seen
