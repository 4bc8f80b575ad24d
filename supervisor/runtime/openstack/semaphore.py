"""Cinder's backup semaphore, shared by workers that the supervisor exec'd one by one.

Cinder's `cinder-backup` forks its workers after creating one multiprocessing semaphore that
limits memory-heavy operations (`backup_max_operations`) across all of them.  Exec'd workers
share no memory, so the limit lives in flock'd slot files (`runtime.oplimit`), which the kernel
frees when a worker dies.  Waiting for a slot retries on a short sleep: under eventlet that sleep
is green, so the worker's other green threads (heartbeats, RPC) go on meanwhile.  Each worker
logs when it waits for a slot, takes one and gives it back: its log shows whose turn it was.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from types import TracebackType

from supervisor.runtime.oplimit import OperationLimit, Slot

SLOTS_DIRECTORY = "backup-operations"
RETRY_SECONDS = 0.2
LOG = logging.getLogger(__name__)


class SharedSemaphore:
    """A context manager like Cinder's `utils.Semaphore`, held across processes."""

    def __init__(self, limit: OperationLimit, *, holder: str = "") -> None:
        self._limit = limit
        self._holder = holder
        self._held: dict[int, Slot] = {}  # by (green) thread: operations interleave

    @classmethod
    def for_backups(
        cls, state_dir: str | Path, limit: int, *, holder: str = ""
    ) -> SharedSemaphore | contextlib.nullcontext[None]:
        if not limit:
            return contextlib.nullcontext()  # Cinder's "0 means unlimited"
        return cls(OperationLimit(Path(state_dir) / SLOTS_DIRECTORY, limit), holder=holder)

    def __enter__(self) -> SharedSemaphore:
        limit = self._limit.limit
        if (slot := self._limit.try_acquire()) is None:
            LOG.info("backup operation slots: all %d taken, %s waits", limit, self._holder)
            while (slot := self._limit.try_acquire()) is None:
                time.sleep(RETRY_SECONDS)
        slot.describe(self._holder)
        self._held[threading.get_ident()] = slot
        LOG.info("backup operation slots: %s took one of %d", self._holder, limit)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._held.pop(threading.get_ident()).release()
        LOG.info("backup operation slots: %s gave one back", self._holder)
