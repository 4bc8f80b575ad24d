"""Reading a process's log file: its last lines, and following it as it grows.

What `supervisor logs NAME [-n N] [-f]` shows.  Lines are returned without their newline.
Following survives the writer's rotation (the file is renamed to `.1` and a new one created):
the old file stays open until it has been read to its end, so no line written before the
rename is lost, and reading then goes on from the start of the new file.  A file truncated in
place is read again from its start.  Only a file rotated twice between two looks is missed in
between, which takes writing `2 * max_bytes` within one polling interval.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

_BLOCK_BYTES = 64 * 1024
DEFAULT_INTERVAL = 0.1


def tail_lines(path: Path, n: int) -> list[str]:
    """The last `n` lines of the file at `path`, read from its end."""
    with path.open("rb") as file:
        return _last_lines(file, os.fstat(file.fileno()).st_size, n)


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
    stop = stop or threading.Event()
    try:
        file = path.open("rb")
        end = os.fstat(file.fileno()).st_size
    except FileNotFoundError:
        waited_for = _open_when_there(path, stop, interval)
        if waited_for is None:
            return
        file, end = waited_for, 0  # all of a file that appeared while we waited is new
    try:
        yield from _last_lines(file, end, last)
        file.seek(end)
        partial = b""
        while not stop.is_set():
            data = file.read()
            if data:
                *lines, partial = (partial + data).split(b"\n")
                yield from _decoded(lines)
                continue
            replacement = _replacement(path, file)
            if replacement is not None:
                # The old file is complete, because the writer renames it before it creates the
                # new one: read what was added since the last look, then switch.
                rest = _whole_lines(partial + file.read())
                partial = b""
                file.close()
                file = replacement
                yield from _decoded(rest)
            elif os.fstat(file.fileno()).st_size < file.tell():
                file.seek(0)  # truncated in place: what is there now is all new
                partial = b""
            elif stop.wait(interval):
                return
    finally:
        file.close()


def _open_when_there(path: Path, stop: threading.Event, interval: float) -> BinaryIO | None:
    while True:
        try:
            return path.open("rb")
        except FileNotFoundError:
            if stop.wait(interval):
                return None


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
