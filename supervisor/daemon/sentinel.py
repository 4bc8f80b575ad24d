"""The orphan guard: a tiny forked process that outlives a SIGKILLed supervisor by a moment.

The supervisor tells it every process group it creates and every one it has finished with,
over a pipe.  When the pipe reaches end-of-file (the supervisor is gone, however it died), the
sentinel SIGKILLs every group still registered, grandchildren included.  Every child also
carries a marker in its environment, and the sentinel then kills whatever still carries it: that
covers a process spawned in the instant before its group was registered, and one that left its
group (setsid) but kept its environment.

Where cgroup v2 is writable the sentinel also holds the stack's cgroup (see cgroup.py), told to
it over the same pipe: on end-of-file it writes `cgroup.kill` there first, which reaches even a
process that left its group and cleared its environment, then removes the cgroups.  The guard
itself was forked before the cgroup existed, so it stays outside what it kills.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from supervisor.daemon.cgroup import CGROUP, PROCESS_GROUP, CgroupStack, UnitCgroup, remove_tree
from supervisor.daemon.spawn import signal_group

MARKER_VARIABLE = "SUPERVISOR_SENTINEL"
# "process-group" keeps the services out of cgroups even where cgroup v2 is writable.
CONTAINMENT_VARIABLE = "SUPERVISOR_CONTAINMENT"


class Sentinel:
    def __init__(self) -> None:
        # Unique per supervisor, so one stack's sentinel never touches another stack.
        self.marker = f"{os.getpid()}-{os.urandom(8).hex()}"
        self._pending: list[bytes] = []  # lines for the sentinel, in order
        read_end, self._write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._write_end)
            _guard(read_end, self.marker)
        os.close(read_end)
        self.cgroups = (
            CgroupStack.create(f"supervisor-{self.marker}")
            if os.environ.get(CONTAINMENT_VARIABLE) != PROCESS_GROUP
            else None
        )
        if self.cgroups is not None:
            os.write(self._write_end, f"c{self.cgroups.path}\n".encode())

    @property
    def containment(self) -> str:
        """What holds the services: "cgroup", or "process-group" (groups and the marker)."""
        return CGROUP if self.cgroups is not None else PROCESS_GROUP

    def unit_cgroup(self, unit: str) -> UnitCgroup | None:
        return self.cgroups.unit(unit) if self.cgroups is not None else None

    def watch(self, pgid: int) -> None:
        """At once, behind every forget still held: a group must be known before its process
        runs, and a number forgotten and reused (a new pid) must be forgotten first."""
        self._pending.append(f"+{pgid}\n".encode())
        self.flush()

    def forget(self, pgid: int) -> None:
        """Held until `flush` (or the next `watch`): a stop of 1,000 processes woke the
        sentinel 1,000 times, one write each; the supervisor flushes once per loop round."""
        self._pending.append(f"-{pgid}\n".encode())

    def flush(self) -> None:
        if self._pending:
            os.write(self._write_end, b"".join(self._pending))
            self._pending.clear()

    def close(self) -> None:
        """The supervisor ends in order. Every group is gone, but a process that left its group
        may not be: the sentinel sweeps for the marker as it would after a crash. Nobody waits
        for that sweep, so it never delays the supervisor's exit.  The cgroups are removed here,
        before the sentinel is dismissed, so it finds nothing left to do there."""
        self.flush()
        if self.cgroups is not None:
            self.cgroups.close()
        os.close(self._write_end)


def _guard(read_end: int, marker: str) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    # Imported here, in the forked sentinel: setproctitle brings `logging`, which the
    # supervisor itself never needs.
    import setproctitle

    setproctitle.setproctitle("supervisor: sentinel")
    groups: set[int] = set()
    cgroup: Path | None = None
    pending = b""
    while chunk := os.read(read_end, 4096):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if line.startswith(b"c"):
                cgroup = Path(os.fsdecode(line[1:]))
            elif line.startswith(b"+"):
                groups.add(int(line[1:]))
            else:
                groups.discard(int(line[1:]))
    for pgid in groups:
        signal_group(pgid, signal.SIGKILL)
    if cgroup is not None:
        # One write kills every unit at once, even a process that left its group and cleared
        # its environment; then the sentinel waits for them to go and removes the cgroups.
        remove_tree(cgroup, timeout=10.0)
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
