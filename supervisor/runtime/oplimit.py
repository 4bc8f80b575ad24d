"""A limit on concurrent operations, shared by processes that have no common parent.

Cinder's backup workers share a semaphore that their parent created before forking them.  Our
workers are exec'd one by one, so the limit lives in the file system instead: `limit` slot files
in one directory, each held through an exclusive `flock` for as long as an operation runs.  The
kernel drops a lock when the last descriptor of it is closed, so a worker that crashes or is
killed frees its slot without anyone cleaning up after it.

Taking a slot never blocks: a caller that finds every slot taken leaves its work queued and tries
again later, so no thread is ever stuck waiting for a slot when its process is asked to stop.
A held slot file names its holder (`describe`), for whoever wants to see who runs what.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

SLOT_PREFIX = "slot-"


class Slot:
    """One operation's share of the limit; `release` gives it back (closing the lock)."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd  # None: the limit is off, there is nothing to hold

    def describe(self, holder: str) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{holder}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        # Emptied first, so a free slot never names a holder that has moved on.
        os.ftruncate(fd, 0)
        os.close(fd)


class OperationLimit:
    """At most `limit` slots held at once across every process using `directory`; 0: no limit."""

    def __init__(self, directory: Path, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"operation limit must be 0 (unlimited) or more, got {limit}")
        self.directory = directory
        self.limit = limit

    def slot_paths(self) -> list[Path]:
        return [self.directory / f"{SLOT_PREFIX}{number}" for number in range(1, self.limit + 1)]

    def try_acquire(self) -> Slot | None:
        """A free slot, now held by the caller; None when every slot is taken."""
        if self.limit == 0:
            return Slot(None)
        self.directory.mkdir(parents=True, exist_ok=True)
        for path in self.slot_paths():
            # Each attempt opens the file anew: flock belongs to an open file description, so
            # two threads of one process compete for a slot just as two processes do.  The
            # descriptor is not inherited (Python's default), so a program the holder runs
            # cannot keep the slot after the holder is gone.
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return Slot(fd)
        return None
