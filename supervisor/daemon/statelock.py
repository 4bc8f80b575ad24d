"""One supervisor per state directory: an exclusive `flock` on `<state_dir>/supervisor.lock`.

The lock is taken before anything starts and held for the supervisor's life; the kernel drops
it the moment its holder dies, however it died, so a killed supervisor never blocks the next
one and two started at the same instant cannot both win.  The file holds the owner's pid, for
people and for clients deciding whether a missing socket is about to come back
(`control.address`, where the file's name lives).

The sentinel must be forked before the lock is taken: a forked child shares the lock, and would
keep it for the moment it spends cleaning up after a killed supervisor.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from supervisor.control.address import LOCK_NAME


class AlreadyRunning(RuntimeError):
    """Another supervisor holds this state directory's lock."""


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


class StateLock:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / LOCK_NAME
        self._fd = -1
        self._identity: tuple[int, int] | None = None

    def acquire(self) -> None:
        """Take the lock, creating the directory and the file; AlreadyRunning if it is held."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise AlreadyRunning(
                    f"a supervisor is already running for {self.state_dir} (pid {pid})"
                ) from None
            # The file may have been removed (by its previous owner's exit) between open and
            # flock: then the lock is on a name nobody else will open, so take the new file.
            identity = _identity(os.fstat(fd))
            with contextlib.suppress(FileNotFoundError):
                if _identity(os.stat(self.path)) == identity:
                    break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.release()
        self._fd, self._identity = fd, identity

    def intact(self) -> bool:
        """The lock file at the path is still the one this process holds."""
        try:
            return _identity(os.stat(self.path)) == self._identity
        except OSError:
            return False

    def release(self, remove: bool = False) -> None:
        """Let go; with `remove`, delete the file first if it is still this process's."""
        if self._fd < 0:
            return
        if remove and self.intact():
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd, self._identity = -1, None
