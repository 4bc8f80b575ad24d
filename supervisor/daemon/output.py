"""The output pump: every service's stdout and stderr to its log file and to the console.

The supervisor's loop must react to a crash at once even while a service writes megabytes a
second, so it does no output work at all.  One thread with its own selector reads every child's
pipes (non-blocking, one read per ready pipe per round so that a noisy service cannot starve a
quiet one), cuts the data into whole lines, and writes them to the process's rotating log file
and to the console writer, which never blocks it (see `console`).

What a read costs is mostly fixed (a round of the selector, the read, the stamp, two writes), so
a busy pipe is read in large chunks: a pipe that a read finds full (`READ_BYTES`, the kernel's
default capacity) is widened to `BUSY_PIPE_BYTES` and read that much at a time from then on.  A
quiet pipe keeps the default, and each round still reads every ready pipe once.  The pump's
thread runs at the lowest CPU priority (`PUMP_NICENESS`): copying output yields to everything
else, and a full pipe makes a writer wait rather than the supervisor's loop.

Both streams of a process go to `<log_dir>/<process>.log`, or stderr to `<process>.err.log` when
the process is attached with `separate_stderr`.  Each stream keeps its unfinished last line until
its newline comes, so lines of stdout and stderr never interleave mid-line, and console prefixes
and the log files' timestamps (see `shared.logstamp`) land at line starts.  One timestamp is
made per read, for every line that read completes (none with `timestamps=False`): the pump
does no work per line beyond one `bytes.replace` per read for the file (none without stamps)
and one for the console (none when the console discards everything, as /dev/null does), and no
copy beyond those: a read's lines reach `writev` as views of what was read, with the unfinished
line of the read before as a piece of its own.  An unfinished line is written out (with a
newline) when its pipe closes, and cut into lines of `MAX_LINE_BYTES` when it grows beyond that.
A pipe is read until end-of-file, which comes when every process holding its write end (the
child and whatever it started) has exited.

The supervisor calls `attach` and `close` from its own thread; everything else happens on the
pump's thread, which alone touches the selector, the streams and the log files.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import queue
import selectors
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from supervisor.config import DEFAULT_LOG_BACKUPS, DEFAULT_LOG_MAX_BYTES
from supervisor.daemon.console import Console, ConsoleWriter, LineStream, prefixed, wants_colour
from supervisor.daemon.libc import libc
from supervisor.daemon.logfile import RotatingLog, check_rotation
from supervisor.shared.logfiles import LOG_SUFFIX, STDERR_LOG_SUFFIX, Prefixes
from supervisor.shared.logfiles import LOGS_DIR as LOGS_DIR  # where the supervisor keeps them
from supervisor.shared.logstamp import Stamper

READ_BYTES = 64 * 1024  # a pipe's default capacity on Linux, and what a quiet pipe is read by
BUSY_PIPE_BYTES = 1024 * 1024  # a busy pipe's capacity and read size (fs.pipe-max-size's default)
MAX_LINE_BYTES = 64 * 1024
PUMP_NICENESS = 19  # the pump thread's nice value (Linux: a thread's own)
# glibc's mallopt: a busy read and its stamped copy (each over a MiB) come from a heap that stays.
MALLOC_MMAP_BYTES = 4 * 1024 * 1024
MALLOC_TRIM_BYTES = 16 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
DEFAULT_CLOSE_TIMEOUT = 5.0
# Hears every chunk of whole lines a run writes, on the pump's thread (a log probe's matcher).
LineHook = Callable[[bytes], None]


class ChildPipes:
    """The write ends of one process's fresh stdout and stderr pipes.

    Hand `stdout` and `stderr` to `Popen`, then close the parent's copies: until they are closed
    the pump never sees end-of-file.  Used as a context manager, it closes them on the way out,
    whether the spawn worked or not:

        with pump.attach(name) as pipes:
            Popen(argv, stdout=pipes.stdout, stderr=pipes.stderr, ...)
    """

    def __init__(self, stdout: int, stderr: int) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self._open = True

    def close_child_ends(self) -> None:
        if self._open:
            self._open = False
            os.close(self.stdout)
            os.close(self.stderr)

    def __enter__(self) -> ChildPipes:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close_child_ends()


@dataclass
class _Attach:
    name: str
    read_fds: tuple[int, int]
    max_bytes: int
    backups: int
    separate_stderr: bool
    on_lines: LineHook | None


@dataclass
class _Close:
    deadline: float


@dataclass
class _Stream:
    fd: int
    name: str
    log: RotatingLog
    partial: bytes = b""
    on_lines: LineHook | None = None
    read_bytes: int = READ_BYTES
    widened: bool = False  # asked once: a refused widening is not asked again at every read


class OutputPump:
    def __init__(
        self,
        log_dir: Path,
        console: Console,
        max_bytes: int = DEFAULT_LOG_MAX_BYTES,
        backups: int = DEFAULT_LOG_BACKUPS,
        *,
        names: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
        timestamps: bool = True,
        console_output: bool = True,
    ) -> None:
        """`names`: every process that will be attached, so prefixes line up from the start.
        `console_output`: whether the processes' lines go to the console too (else only to
        their log files; the console keeps the supervisor's own event lines).
        `clock`: the wall clock the log files' timestamps are read from.  `timestamps`: whether
        log file lines start with one (`[supervisor] log_timestamps`); without, the file gets
        the views of what was read as they are, with no per-line work at all."""
        check_rotation(max_bytes, backups)
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log_dir = log_dir
        self._max_bytes = max_bytes
        self._backups = backups
        self._console = ConsoleWriter(console)
        self._console_shown = console_output and not self._console.discards
        self._prefixes = Prefixes(names, colour=wants_colour(console))
        self._requests: queue.SimpleQueue[_Attach | _Close] = queue.SimpleQueue()
        self._wake_read, self._wake_write = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._streams: dict[int, _Stream] = {}
        self._logs: dict[str, RotatingLog] = {}  # by file name
        self._failing_logs: set[str] = set()
        self._stamper = Stamper(clock) if timestamps else None
        self._deadline: float | None = None
        self._thread = threading.Thread(target=self._run, name="output-pump", daemon=True)
        self._closing = False

    # -- the supervisor's side -----------------------------------------------------------------

    def start(self) -> None:
        self._console.start()
        self._thread.start()

    def console_stream(self) -> LineStream:
        """A text stream for other writers of the console, queued behind the same writer."""
        return LineStream(self._console, self._prefixes.colour)

    def attach(
        self,
        name: str,
        *,
        max_bytes: int | None = None,
        backups: int | None = None,
        separate_stderr: bool = False,
        on_lines: LineHook | None = None,
    ) -> ChildPipes:
        """Fresh pipes for one run of process `name`; its output is appended to `<name>.log`,
        and its stderr to `<name>.err.log` instead when `separate_stderr` is set.

        `max_bytes` and `backups` override the pump's rotation settings for this process.
        `on_lines` is handed each chunk of this run's lines, on the pump's thread; it must be
        quick and must not raise.
        """
        if self._closing:
            raise RuntimeError("the output pump is closed")
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"not usable as a log file name: {name!r}")
        max_bytes = self._max_bytes if max_bytes is None else max_bytes
        backups = self._backups if backups is None else backups
        check_rotation(max_bytes, backups)
        out_read, out_write = os.pipe2(os.O_CLOEXEC)
        err_read, err_write = os.pipe2(os.O_CLOEXEC)
        for fd in (out_read, err_read):
            os.set_blocking(fd, False)  # only the pump's end: the child's end stays blocking
        self._request(
            _Attach(name, (out_read, err_read), max_bytes, backups, separate_stderr, on_lines)
        )
        return ChildPipes(out_write, err_write)

    def close(self, timeout: float = DEFAULT_CLOSE_TIMEOUT) -> None:
        """Read every pipe to its end, waiting at most `timeout` seconds for the last of them.

        After the timeout (a process that still holds a pipe open), whatever is already in the
        pipes is still written.  The console gets the rest of the time to show what is queued.
        """
        if self._closing:
            return
        self._closing = True
        deadline = time.monotonic() + timeout
        self._request(_Close(deadline))
        if self._thread.ident is None:
            self.start()  # never started: the thread still has to drain and close the pipes
        self._thread.join()
        # Only now: the caller may still write a wake-up until the pump thread is gone.
        self._selector.close()
        os.close(self._wake_read)
        os.close(self._wake_write)
        self._console.close(max(0.0, deadline - time.monotonic()))

    def _request(self, request: _Attach | _Close) -> None:
        self._requests.put(request)
        # A full wake-up pipe means the pump is due to look at the queue anyway.
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_write, b"\0")

    # -- the pump's thread ---------------------------------------------------------------------

    def _run(self) -> None:
        # The lowest priority, for this thread only: a flood then takes the CPU the supervisor's
        # loop and the services do not want (an unrelated restart beside two floods was 1.5 ms
        # slower at p50 without it), and a logging service waits on its pipe only while other
        # work holds every core; even then a sliver of a core moves megabytes a second.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PUMP_NICENESS)
        try:
            while self._deadline is None or (self._streams and time.monotonic() < self._deadline):
                timeout = None if self._deadline is None else self._deadline - time.monotonic()
                for key, _ in self._selector.select(timeout):
                    if key.fd == self._wake_read:
                        self._take_requests()
                    else:
                        self._read(self._streams[key.fd])
            for stream in list(self._streams.values()):
                # One last read empties a pipe of the default size that nobody will close.
                self._read(stream)
                if stream.fd in self._streams:
                    self._finish(stream)
        finally:
            for log in self._logs.values():
                log.close()

    def _take_requests(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass  # every wake-up is read; the requests themselves are in the queue
        while not self._requests.empty():
            request = self._requests.get()
            if isinstance(request, _Close):
                self._deadline = request.deadline
                continue
            err_suffix = STDERR_LOG_SUFFIX if request.separate_stderr else LOG_SUFFIX
            for fd, suffix in zip(request.read_fds, (LOG_SUFFIX, err_suffix), strict=True):
                log = self._log(request.name + suffix, request)
                self._streams[fd] = _Stream(fd, request.name, log, on_lines=request.on_lines)
                self._selector.register(fd, selectors.EVENT_READ)

    def _log(self, file_name: str, request: _Attach) -> RotatingLog:
        log = self._logs.get(file_name)
        if log is None:
            path = self._log_dir / file_name
            log = self._logs[file_name] = RotatingLog(path, request.max_bytes, request.backups)
        log.max_bytes, log.backups = request.max_bytes, request.backups
        return log

    def _read(self, stream: _Stream) -> None:
        try:
            data = os.read(stream.fd, stream.read_bytes)
        except BlockingIOError:
            return
        if not data:
            self._finish(stream)
            return
        if len(data) == stream.read_bytes and not stream.widened:
            _widen(stream)  # the pipe was full: its writer is busy
        head = stream.partial
        end = data.rfind(b"\n") + 1
        if not end:  # no line ends here; a line is seldom this long, so copying is fine
            stream.partial = head + data
        else:
            stream.partial = data[end:]
            self._emit(stream, data, head, len(data) - end)
        if len(stream.partial) > MAX_LINE_BYTES:
            self._cut(stream)

    def _cut(self, stream: _Stream) -> None:
        """Write out a line longer than `MAX_LINE_BYTES` as lines of that length; what is left
        (shorter) waits for the rest of its line."""
        partial = stream.partial
        cut = len(partial) - len(partial) % MAX_LINE_BYTES
        stream.partial = partial[cut:]
        pieces = [
            partial[start : start + MAX_LINE_BYTES] for start in range(0, cut, MAX_LINE_BYTES)
        ]
        self._emit(stream, b"\n".join(pieces) + b"\n")

    def _finish(self, stream: _Stream) -> None:
        if stream.partial:
            self._emit(stream, stream.partial + b"\n")
        self._selector.unregister(stream.fd)
        os.close(stream.fd)
        del self._streams[stream.fd]

    def _emit(self, stream: _Stream, data: bytes, head: bytes = b"", tail: int = 0) -> None:
        """Write the lines `head + data[: len(data) - tail]` (see `console.prefixed`)."""
        if stream.on_lines is not None:
            stream.on_lines(head + data[: len(data) - tail] if head or tail else data)
        path = stream.log.path
        try:
            if self._stamper is None:
                stream.log.write(head, memoryview(data)[: len(data) - tail])
            else:
                stream.log.write(*prefixed(self._stamper.stamp(), data, head, tail))
        except OSError as error:
            if path.name not in self._failing_logs:
                self._failing_logs.add(path.name)
                self._console.write(
                    f"[supervisor: cannot write {path}: {error.strerror}]\n".encode()
                )
        else:
            self._failing_logs.discard(path.name)
        if self._console_shown:
            self._console.write(*prefixed(self._prefixes(stream.name), data, head, tail))


@functools.cache
def _keep_freed_memory() -> None:
    """Let glibc keep what a busy read frees for the next one (once per process), instead of
    handing it back to the kernel (madvise) and faulting it in again page by page: that churn
    cost about a quarter of the pump's CPU under a flood.  Blocks up to `MALLOC_MMAP_BYTES`
    come from the heap (so the dynamic threshold no longer moves), and up to
    `MALLOC_TRIM_BYTES` of free heap top is kept; nothing happens where the C library has no
    mallopt (musl) or ctypes cannot load it."""
    try:
        mallopt = libc().mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_BYTES)
    mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_BYTES)


def _widen(stream: _Stream) -> None:
    """Give a busy pipe `BUSY_PIPE_BYTES` of room and read it by as much: fewer, larger reads.
    The kernel may refuse (an unprivileged user past fs.pipe-user-pages-soft): then the pipe
    keeps its size and is read as before."""
    stream.widened = True
    _keep_freed_memory()  # from the first busy pipe on: a quiet stack never loads ctypes
    with contextlib.suppress(OSError):
        stream.read_bytes = fcntl.fcntl(stream.fd, fcntl.F_SETPIPE_SZ, BUSY_PIPE_BYTES)
