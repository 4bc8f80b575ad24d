"""The console of `supervisor run`: every service's lines under its name, and never a stall.

A terminal can stop reading (Ctrl-S, a paused pager, a pipe whose reader is busy) and a blocking
write to it would then stop whoever makes it.  So nothing but a dedicated writer thread ever
writes service output to the console: everyone else hands lines to a bounded queue and returns
at once.  When the queue is full, new output is dropped and counted, and once the console takes
data again a `[supervisor: N bytes of output dropped ...]` line marks the gap.  Dropping the
newest output keeps what was shown contiguous up to the gap; the log files always get
everything.  The console's own file flags are left alone: it is usually shared with the shell
and with the supervisor's event lines, which must not start failing with EAGAIN.

The queue holds the pieces it is given, never a copy: the output pump hands over the prefixed
lines of a whole read as a few immutable pieces and the writer sends them with one `writev`, so
the console costs the pump one `bytes.replace` per read and nothing per byte beyond it.  A
console that is /dev/null shows nothing to anyone: its writer discards everything without a
thread, and the pump, which asks `discards`, does not even prefix the lines for it.
"""

from __future__ import annotations

import io
import os
import stat
import threading
from collections.abc import Callable, Sequence
from typing import BinaryIO, TextIO

from supervisor.daemon.iovec import Piece, write_all
from supervisor.shared.logfiles import colour_wanted

# A file descriptor, or a stream: one without a descriptor must be a text stream.
Console = TextIO | BinaryIO | int
DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024  # several of the pump's largest reads


def prefixed(prefix: bytes, data: bytes, head: bytes = b"", tail: int = 0) -> tuple[Piece, ...]:
    """The lines `head + data[: len(data) - tail]` with `prefix` at the start of every line, as
    pieces that join into them.  `head` (the unfinished line of an earlier read) and the last
    `tail` bytes of `data` (the start of a line still unfinished) hold no newline; the lines end
    with one.  One `bytes.replace` and no joining or slicing copy: each large temporary costs
    the pump more than the replace itself."""
    rest = data.replace(b"\n", b"\n" + prefix)
    lines = memoryview(rest)[: len(rest) - len(prefix) - tail]
    return (prefix, head, lines) if head else (prefix, lines)


def is_null_device(console: Console) -> bool:
    """Whether the console is /dev/null, where whatever is written goes unseen."""
    try:
        mode = os.fstat(_fileno(console))
        null = os.stat(os.devnull)
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode.st_mode) and mode.st_rdev == null.st_rdev


def wants_colour(console: Console) -> bool:
    try:
        return colour_wanted(_fileno(console))
    except (OSError, ValueError):
        return False


class ConsoleWriter:
    """Writes to the console from its own thread; `write` never blocks for the console."""

    def __init__(self, console: Console, buffer_bytes: int = DEFAULT_BUFFER_BYTES) -> None:
        self._emit = _emitter(console)
        # Nothing to show and nobody to block: no thread, and every write returns at once.
        self.discards = is_null_device(console)
        self._limit = buffer_bytes
        self._pending: list[Piece] = []
        self._pending_bytes = 0
        self._dropped = 0
        self._closed = False
        self._changed = threading.Condition()
        # A daemon: a console that never drains again must not keep the supervisor from exiting.
        self._thread = threading.Thread(target=self._run, name="console-writer", daemon=True)

    def start(self) -> None:
        if not self.discards:
            self._thread.start()

    def write(self, *pieces: Piece) -> None:
        """Queue whole lines, given in pieces, for the console, or count them as dropped if it
        is full.  The pieces are kept as they are, not copied."""
        if self.discards:
            return
        size = sum(map(len, pieces))
        with self._changed:
            if self._closed or self._pending_bytes + size > self._limit:
                self._dropped += size
                return
            self._mark_drops()
            self._pending.extend(pieces)
            self._pending_bytes += size
            self._changed.notify()

    def close(self, timeout: float) -> None:
        """Let the writer finish what is queued, waiting at most `timeout` seconds for it."""
        with self._changed:
            if self._closed:
                return
            self._mark_drops()
            self._closed = True
            self._changed.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _mark_drops(self) -> None:
        if self._dropped:
            marker = (
                f"[supervisor: {self._dropped} bytes of output dropped: "
                "the console was not keeping up; the log files have everything]\n"
            ).encode()
            self._pending.append(marker)
            self._pending_bytes += len(marker)
            self._dropped = 0

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait()
                if not self._pending:
                    return
                # Take the whole queue as it is: the lock is held for no copy.
                pieces, self._pending, self._pending_bytes = self._pending, [], 0
            try:
                self._emit(pieces)
            except OSError:
                return  # the console is gone (EPIPE, EIO): nothing more can be shown


class LineStream(io.TextIOBase):
    """A text stream that hands whole lines to a `ConsoleWriter`: the supervisor's own event
    lines share the console with the services' output without ever blocking the loop."""

    def __init__(self, writer: ConsoleWriter, tty: bool) -> None:
        self._writer = writer
        self._tty = tty
        self._partial = ""

    def write(self, text: str) -> int:
        complete, newline, self._partial = (self._partial + text).rpartition("\n")
        if newline:
            self._writer.write((complete + newline).encode())
        return len(text)

    def isatty(self) -> bool:
        return self._tty


def _fileno(console: Console) -> int:
    return console if isinstance(console, int) else console.fileno()


def _emitter(console: Console) -> Callable[[Sequence[Piece]], None]:
    try:
        fd = _fileno(console)
    except (OSError, ValueError):  # an in-memory text stream, as tests and embedders pass
        text: TextIO = console  # type: ignore[assignment]
        return lambda pieces: _write_text(text, pieces)
    return lambda pieces: write_all(fd, pieces)


def _write_text(console: TextIO, pieces: Sequence[Piece]) -> None:
    console.write(b"".join(pieces).decode("utf-8", "replace"))
    console.flush()
