"""One process's log file: append-only, rotated by size, and always cut between two lines.

Rotation renames `x.log` to `x.log.1`, `x.log.1` to `x.log.2` and so on, dropping whatever was
`x.log.<backups>`, then starts a fresh `x.log`.  The rename happens before the new file is
created and nothing is written to the old file after it, so a reader that still holds the old
file open can read it to its end and then move on to the new one without losing a line.
"""

from __future__ import annotations

import os
from pathlib import Path

from supervisor.daemon.iovec import write_all

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC


def check_rotation(max_bytes: int, backups: int) -> None:
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be at least 1, not {max_bytes}")
    if backups < 0:
        raise ValueError(f"backups must be 0 or more, not {backups}")


class RotatingLog:
    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        check_rotation(max_bytes, backups)
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._fd = -1
        self._size = 0

    def write(self, *pieces: bytes | memoryview) -> None:
        """Append whole lines, given in pieces that join into them, rotating first whenever the
        next line would not fit.

        A single line longer than `max_bytes` gets a file of its own rather than being cut.
        The file is opened on first use and again after a failure, so a log directory that was
        missing or full for a while heals by itself; and again when it was removed while open
        (an operator cleaning up), so that lines never go on into a file nobody can read.
        """
        if self._fd >= 0 and os.fstat(self._fd).st_nlink == 0:
            self.close()
        if self._fd < 0:
            self._open()
        size = sum(map(len, pieces))
        if self._size + size <= self.max_bytes:
            self._append(*pieces)  # the usual case: no need to join the pieces to cut them
            return
        # Cut at offsets into one joined copy: slicing it at each cut would copy it again.
        lines = b"".join(pieces)
        view, start = memoryview(lines), 0
        while self._size + len(lines) - start > self.max_bytes:
            room = max(0, self.max_bytes - self._size)
            cut = lines.rfind(b"\n", start, start + room) + 1 or start
            if cut == start and not self._size:
                cut = lines.find(b"\n", start) + 1 or len(lines)
            self._append(view[start:cut])
            self._rotate()
            start = cut
        self._append(view[start:])

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _open(self) -> None:
        self._fd = os.open(self.path, _FLAGS, 0o644)
        self._size = os.fstat(self._fd).st_size  # a restart appends to what is there

    def _append(self, *pieces: bytes | memoryview) -> None:
        try:
            write_all(self._fd, pieces)
        except OSError:
            self._size = os.fstat(self._fd).st_size  # what a failed write did get out
            raise
        self._size += sum(map(len, pieces))

    def _rotate(self) -> None:
        # The oldest backup goes first, and every rename is then onto a free name: a rename over
        # an existing file makes ext4 (auto_da_alloc) start writing the renamed file's data out
        # at once, which held the pump about 10 ms per rename under a flood.
        if self.backups:
            self._backup(self.backups).unlink(missing_ok=True)
        for index in range(self.backups - 1, 0, -1):
            older = self._backup(index)
            if older.exists():
                older.rename(self._backup(index + 1))
        if self.backups:
            self.path.rename(self._backup(1))
        else:
            self.path.unlink(missing_ok=True)
        self.close()
        self._open()

    def _backup(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")
