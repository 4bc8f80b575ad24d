"""Reading a process's log file: its last lines, and following it (or several) as it grows.

What `supervisor logs` reads (see `cli.logs`).  Lines are returned without their newline.
Following survives the writer's rotation (the file is renamed to `.1` and a new one created):
the old file stays open until it has been read to its end, so no line written before the
rename is lost, and reading then goes on from the start of the new file.  A file truncated in
place is read again from its start.  Only a file rotated twice between two looks is missed in
between, which takes writing `2 * max_bytes` within one polling interval.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

_BLOCK_BYTES = 64 * 1024
DEFAULT_INTERVAL = 0.1


def tail_lines(path: Path, n: int) -> list[str]:
    """The last `n` lines of the file at `path`, read from its end."""
    with path.open("rb") as file:
        return _last_lines(file, os.fstat(file.fileno()).st_size, n)


def all_lines(path: Path) -> list[str]:
    """Every line of the file at `path`."""
    data = path.read_bytes()
    return _decoded(_whole_lines(data)) if data else []


def follow(
    path: Path,
    *,
    last: int = 0,
    stop: threading.Event | None = None,
    interval: float = DEFAULT_INTERVAL,
) -> Iterator[str]:
    """Yield the last `last` lines of `path`, then every line appended to it, until `stop` is set.

    A file that does not exist yet is waited for, then followed from its start.  New data is
    looked for every `interval` seconds; setting `stop` ends the wait at once.
    """
    follower = FileFollower(path)
    try:
        yield from follower.last_lines(last)
        for _, line in follow_all([follower], stop=stop, interval=interval):
            yield line
    finally:
        follower.close()


def follow_all(
    followers: Sequence[FileFollower],
    *,
    stop: threading.Event | None = None,
    interval: float = DEFAULT_INTERVAL,
) -> Iterator[tuple[int, str]]:
    """Yield `(index, line)` for every line appended to any of the files, in the order they are
    seen, until `stop` is set: one thread looks at each file in turn, and waits `interval`
    seconds only when none of them had anything new."""
    stop = stop or threading.Event()
    while not stop.is_set():
        quiet = True
        for index, follower in enumerate(followers):
            lines = follower.new_lines()
            if lines:
                quiet = False
                for line in lines:
                    yield index, line
        if quiet and stop.wait(interval):
            return


class FileFollower:
    """One followed file: what it held when it was opened, then what is added to it.

    Opening notes where the file ends; `last_lines` and `opened` read up to there, and
    `new_lines` everything after, so that nothing is shown twice or missed in between.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._partial = b""
        self.skipped = 0  # bytes passed over by `new_lines(at_most=...)`
        self._file: BinaryIO | None
        try:
            self._file = path.open("rb")
            self.end = os.fstat(self._file.fileno()).st_size
        except FileNotFoundError:
            self._file, self.end = None, 0  # all of a file that appears later is new
        if self._file is not None:
            self._file.seek(self.end)

    @property
    def opened(self) -> BinaryIO | None:
        """The file as it was opened (None if it did not exist): read it up to `end` only."""
        return self._file

    def last_lines(self, n: int) -> list[str]:
        """The last `n` lines the file held when it was opened."""
        if self._file is None:
            return []
        lines = _last_lines(self._file, self.end, n)
        self._file.seek(self.end)
        return lines

    def lines_so_far(self) -> list[str]:
        """Every line the file held when it was opened."""
        if self._file is None:
            return []
        self._file.seek(0)
        lines = _decoded(_whole_lines(self._file.read(self.end))) if self.end else []
        self._file.seek(self.end)
        return lines

    def new_lines(self, at_most: int | None = None) -> list[str]:
        """Whole lines added since the last look; [] when there are none (never waits).

        With `at_most`, a reader that fell further behind than that many bytes skips to the
        file's last `at_most` (from the next whole line), adding what it skipped to
        `skipped`: a screen that shows the last lines need not read a flood's every byte."""
        if self._file is None:
            try:
                self._file = self.path.open("rb")
            except FileNotFoundError:
                return []
        cut = False
        if at_most is not None:
            behind = os.fstat(self._file.fileno()).st_size - self._file.tell()
            if behind > at_most:
                self._file.seek(-at_most, os.SEEK_END)
                self.skipped += behind - at_most + len(self._partial)
                self._partial, cut = b"", True
        data = self._file.read()
        if data:
            *lines, self._partial = (self._partial + data).split(b"\n")
            if cut and lines:
                self.skipped += len(lines[0]) + 1
                del lines[0]  # the end of a line whose start was skipped
            return _decoded(lines)
        replacement = _replacement(self.path, self._file)
        if replacement is not None:
            # The old file is complete, because the writer renames it before it creates the
            # new one: read what was added since the last look, then switch.
            rest = _whole_lines(self._partial + self._file.read())
            self._partial = b""
            self._file.close()
            self._file = replacement
            return _decoded(rest)
        if os.fstat(self._file.fileno()).st_size < self._file.tell():
            self._file.seek(0)  # truncated in place: what is there now is all new
            self._partial = b""
            return self.new_lines()
        return []

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _replacement(path: Path, current: BinaryIO) -> BinaryIO | None:
    """The file now at `path` if it is no longer `current` (a rotation), else None.

    Between a rotation's rename and the new file's creation there is no file at `path`: that
    is not a replacement yet.
    """
    try:
        if _identity(path.stat()) == _identity(os.fstat(current.fileno())):
            return None
        return path.open("rb")
    except FileNotFoundError:
        return None


def _identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


def _whole_lines(data: bytes) -> list[bytes]:
    """Every line of `data`, the last one even without its newline."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # a final newline ends the last line, it starts none
    return lines


def _last_lines(file: BinaryIO, end: int, n: int) -> list[str]:
    """The last `n` lines of the first `end` bytes of `file`, reading backwards in blocks."""
    if n <= 0:
        return []
    blocks: list[bytes] = []
    newlines = 0
    position = end
    # n lines need n + 1 newlines to be known whole: the one that ends the last line (if the
    # file has it) and the one before the first line.
    while position > 0 and newlines <= n:
        size = min(_BLOCK_BYTES, position)
        position -= size
        file.seek(position)
        block = file.read(size)
        blocks.append(block)
        newlines += block.count(b"\n")
    return _decoded(_whole_lines(b"".join(reversed(blocks)))[-n:])


def _decoded(lines: Iterable[bytes]) -> list[str]:
    return [line.decode("utf-8", "replace") for line in lines]
