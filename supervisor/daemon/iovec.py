"""Writing pieces of bytes to a file descriptor, whole and in order, without joining them:
`writev` in batches the kernel accepts, resumed where a short write (a full disk, a signal, a
pipe with little room) stopped.  The console and the log files both write this way."""

from __future__ import annotations

import os
import select
from collections.abc import Sequence

# Bytes and views of bytes only, which nobody can change once handed over.
Piece = bytes | memoryview
IOV_MAX = os.sysconf("SC_IOV_MAX") if "SC_IOV_MAX" in os.sysconf_names else 1024


def write_all(fd: int, pieces: Sequence[Piece]) -> None:
    """Write every piece, with as few `writev` calls as the kernel allows; OSError as writev
    raises it, once some of the pieces may be out."""
    for start in range(0, len(pieces), IOV_MAX):
        batch = list(pieces[start : start + IOV_MAX])
        while batch:
            try:
                written = os.writev(fd, batch)
            except BlockingIOError:  # someone else made the descriptor non-blocking
                select.select([], [fd], [])
                continue
            batch = _unwritten(batch, written)


def _unwritten(pieces: list[Piece], written: int) -> list[Piece]:
    """What is left of `pieces` once their first `written` bytes are out."""
    for index, piece in enumerate(pieces):
        if written < len(piece):
            return [memoryview(piece)[written:], *pieces[index + 1 :]]
        written -= len(piece)
    return []
