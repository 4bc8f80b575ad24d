"""The console of `supervisor run`: every service's lines under its name, and never a stall.

A terminal can stop reading (Ctrl-S, a paused pager, a pipe whose reader is busy) and a blocking
write to it would then stop whoever makes it.  So nothing but a dedicated writer thread ever
writes service output to the console: everyone else hands lines to a bounded buffer and returns
at once.  When the buffer is full, new output is dropped and counted, and once the console takes
data again a `[supervisor: N bytes of output dropped ...]` line marks the gap.  Dropping the
newest output keeps what was shown contiguous up to the gap; the log files always get
everything.  The console's own file flags are left alone: it is usually shared with the shell
and with the supervisor's event lines, which must not start failing with EAGAIN.
"""

from __future__ import annotations

import io
import os
import select
import threading
from collections.abc import Callable
from typing import BinaryIO, TextIO

from supervisor.shared.logfiles import colour_wanted

# A file descriptor, or a stream: one without a descriptor must be a text stream.
Console = TextIO | BinaryIO | int
DEFAULT_BUFFER_BYTES = 1024 * 1024


def prefixed(prefix: bytes, lines: bytes) -> tuple[bytes, memoryview]:
    """`lines` (which must end with a newline) with `prefix` at the start of every line, as two
    pieces: the first line's prefix, then the rest.  One `bytes.replace` and no joining: each
    large temporary costs the pump more than the replace itself."""
    rest = lines.replace(b"\n", b"\n" + prefix)
    return prefix, memoryview(rest)[: len(rest) - len(prefix)]


def wants_colour(console: Console) -> bool:
    try:
        return colour_wanted(_fileno(console))
    except (OSError, ValueError):
        return False


class ConsoleWriter:
    """Writes to the console from its own thread; `write` never blocks for the console."""

    def __init__(self, console: Console, buffer_bytes: int = DEFAULT_BUFFER_BYTES) -> None:
        self._emit = _emitter(console)
        self._limit = buffer_bytes
        self._pending = bytearray()
        self._dropped = 0
        self._closed = False
        self._changed = threading.Condition()
        # A daemon: a console that never drains again must not keep the supervisor from exiting.
        self._thread = threading.Thread(target=self._run, name="console-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def write(self, *pieces: bytes | memoryview) -> None:
        """Queue whole lines, given in pieces, for the console, or count them as dropped if it
        is full."""
        size = sum(map(len, pieces))
        with self._changed:
            if self._closed or len(self._pending) + size > self._limit:
                self._dropped += size
                return
            self._mark_drops()
            for piece in pieces:
                self._pending += piece
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
            self._pending += (
                f"[supervisor: {self._dropped} bytes of output dropped: "
                "the console was not keeping up; the log files have everything]\n"
            ).encode()
            self._dropped = 0

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait()
                if not self._pending:
                    return
                data = bytes(self._pending)
                self._pending.clear()
            try:
                self._emit(data)
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


def _emitter(console: Console) -> Callable[[bytes], None]:
    try:
        fd = _fileno(console)
    except (OSError, ValueError):  # an in-memory text stream, as tests and embedders pass
        text: TextIO = console  # type: ignore[assignment]
        return lambda data: _write_text(text, data)
    return lambda data: _write_fd(fd, data)


def _write_text(console: TextIO, data: bytes) -> None:
    console.write(data.decode("utf-8", "replace"))
    console.flush()


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:  # someone else made the console non-blocking
            select.select([], [fd], [])
