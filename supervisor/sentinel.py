"""The orphan guard: a tiny forked process that outlives a SIGKILLed supervisor by a moment.

The supervisor tells it every process group it creates and every one it has finished with,
over a pipe.  When the pipe reaches end-of-file (the supervisor is gone, however it died), the
sentinel SIGKILLs every group still registered, grandchildren included, and exits.  Children
also get PR_SET_PDEATHSIG, which covers the instant between fork and registration.
"""

from __future__ import annotations

import os
import signal

import setproctitle

from supervisor.spawn import signal_group


class Sentinel:
    def __init__(self) -> None:
        read_end, self._write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._write_end)
            _guard(read_end)
        os.close(read_end)

    def watch(self, pgid: int) -> None:
        os.write(self._write_end, f"+{pgid}\n".encode())

    def forget(self, pgid: int) -> None:
        os.write(self._write_end, f"-{pgid}\n".encode())

    def close(self) -> None:
        os.close(self._write_end)
        os.waitpid(self.pid, 0)


def _guard(read_end: int) -> None:
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
    os._exit(0)
