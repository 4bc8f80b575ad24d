"""The orphan guard: a tiny forked process that outlives a SIGKILLed supervisor by a moment.

The supervisor tells it every process group it creates and every one it has finished with,
over a pipe.  When the pipe reaches end-of-file (the supervisor is gone, however it died), the
sentinel SIGKILLs every group still registered, grandchildren included.  Every child also
carries a marker in its environment, and the sentinel then kills whatever still carries it: that
covers a process spawned in the instant before its group was registered, and one that left its
group (setsid) but kept its environment.
"""

from __future__ import annotations

import os
import signal

import setproctitle

from supervisor.spawn import signal_group

MARKER_VARIABLE = "SUPERVISOR_SENTINEL"


class Sentinel:
    def __init__(self) -> None:
        # Unique per supervisor, so one stack's sentinel never touches another stack.
        self.marker = f"{os.getpid()}-{os.urandom(8).hex()}"
        read_end, self._write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._write_end)
            _guard(read_end, self.marker)
        os.close(read_end)

    def watch(self, pgid: int) -> None:
        os.write(self._write_end, f"+{pgid}\n".encode())

    def forget(self, pgid: int) -> None:
        os.write(self._write_end, f"-{pgid}\n".encode())

    def close(self) -> None:
        """The supervisor ends in order. Every group is gone, but a process that left its group
        may not be: the sentinel sweeps for the marker as it would after a crash. Nobody waits
        for that sweep, so it never delays the supervisor's exit."""
        os.close(self._write_end)


def _guard(read_end: int, marker: str) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    setproctitle.setproctitle("supervisor: sentinel")
    groups: set[int] = set()
    pending = b""
    while chunk := os.read(read_end, 4096):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            pgid = int(line[1:])
            if line.startswith(b"+"):
                groups.add(pgid)
            else:
                groups.discard(pgid)
    for pgid in groups:
        signal_group(pgid, signal.SIGKILL)
    _kill_marked(marker)
    os._exit(0)


def _kill_marked(marker: str) -> None:
    import psutil  # only a sentinel whose supervisor died pays for the import

    for process in psutil.process_iter():
        try:
            if process.environ().get(MARKER_VARIABLE) == marker:
                process.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
