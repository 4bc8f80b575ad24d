"""What every peer supervises: the child, a shell one-liner that writes one line to a FIFO the
bench listens on and then sleeps under the same pid, and the flood, a service that writes to
stdout as fast as its supervisor reads; and how the bench reads each of them back."""

from __future__ import annotations

import inspect
import os
import re
import shlex
import sys
import time
from pathlib import Path

from benchmarks.processes import close_all
from benchmarks.settings import MIB

# The flood test: rotation of every flood log and the output's shape.
FLOOD_LOG_MAX_BYTES = 10 * MIB
FLOOD_LOG_BACKUPS = 2
FLOOD_BLOCK = 64 * 1024
FLOOD_LINE = 128
FLOOD_DIGITS = 20
FLOOD_MARK = re.compile(
    rb"(?<![0-9])([0-9]{%d})-{%d}\n" % (FLOOD_DIGITS, FLOOD_LINE - FLOOD_DIGITS - 1)
)


# The flood: a service that writes to stdout as fast as its supervisor reads.  It runs as a
# script of its own (`flood_command`), so every peer can start it from a one-line command.


def flood_writer(block: int, line: int, digits: int) -> None:
    """Write `block`-byte blocks of `line`-byte lines to stdout, forever, as fast as it goes.

    Each block opens with a marker line holding the block's number, so the bench can tell from
    the tail of a log file how many bytes have reached the log so far, whatever was rotated away.
    """
    import sys

    out = sys.stdout.buffer
    filler = (b"x" * (line - 1) + b"\n") * (block // line - 1)
    dashes = b"-" * (line - digits - 1)
    number = 0
    while True:
        out.write(b"%0*d%s\n" % (digits, number, dashes) + filler)
        number += 1


def flood_command(run_dir: Path) -> list[str]:
    """Write the flood script into run_dir; returns the argv that runs it."""
    script = run_dir / "flood.py"
    call = f"flood_writer({FLOOD_BLOCK}, {FLOOD_LINE}, {FLOOD_DIGITS})"
    script.write_text(inspect.getsource(flood_writer) + f"\n\n{call}\n")
    return [sys.executable, "-I", str(script)]


def flood_landed(log: Path) -> int:
    """Bytes of flood output in a log so far, counted to the end of the newest block whose marker
    is in the log's tail or, just after a rotation, in its first backup's; 0 before the first."""
    for path in (log, log.with_name(f"{log.name}.1")):
        try:
            with open(path, "rb") as file:
                file.seek(max(os.fstat(file.fileno()).st_size - 2 * FLOOD_BLOCK, 0))
                marks = FLOOD_MARK.findall(file.read())
        except FileNotFoundError:
            continue
        if marks:
            return (int(marks[-1]) + 1) * FLOOD_BLOCK
    return 0


# The FIFO every child writes its line to.


class LineListener:
    """Reads `up PID [GRANDCHILD_PID]` lines and stamps the first line of each child pid."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        # O_RDWR keeps a writer open, so the FIFO never reports EOF between children.
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self.buffer = b""
        self.started: dict[int, float] = {}
        self.grandchildren: dict[int, int] = {}

    def read(self) -> list[int]:
        """Drain what is there; returns the pids of children seen for the first time."""
        new: list[int] = []
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.buffer += chunk
        stamp = time.monotonic()
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            words = line.split()
            if len(words) < 2 or words[0] != b"up":
                continue
            pid = int(words[1])
            if len(words) > 2:
                self.grandchildren[pid] = int(words[2])
            if pid not in self.started:
                self.started[pid] = stamp
                new.append(pid)
        return new

    def close(self) -> None:
        close_all([self.fd])


def child_script(fifo: Path, *, grandchild: bool = False, ready_fd: int | None = None) -> str:
    """The shell text every peer runs: one line to the FIFO, then sleep under the same pid."""
    spawn = "sleep 3600 & echo up $$ $!" if grandchild else "echo up $$"
    ready = f"; echo >&{ready_fd}" if ready_fd is not None else ""
    return f"{spawn} > {shlex.quote(str(fifo))}{ready}; exec sleep 3600"
