"""The real `host.ProcessHost`: processes spawned and watched as the supervisor always has.

Each run is spawned (see `spawn`) with its output to the pump, registered with the orphan guard,
born in the unit's cgroup where the sentinel holds one, and watched through a pidfd on the
supervisor's loop.  Nothing here decides anything: the unit's state machine does.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Mapping

from supervisor.config.services import Readiness, ServiceSettings
from supervisor.daemon.cgroup import UnitCgroup
from supervisor.daemon.loop import Loop
from supervisor.daemon.output import OutputPump
from supervisor.daemon.probe import ExecProbe
from supervisor.daemon.sentinel import MARKER_VARIABLE as SENTINEL_MARKER
from supervisor.daemon.sentinel import Sentinel
from supervisor.daemon.spawn import signal_group, spawn


class OsChild:
    """A real process, watched through its pidfd on the supervisor's loop."""

    __slots__ = ("_cgroup", "_loop", "_pidfd", "_process", "_sentinel", "pid")

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        pidfd: int,
        cgroup: UnitCgroup | None,
        loop: Loop,
        sentinel: Sentinel,
    ) -> None:
        self.pid = process.pid
        self._process = process
        self._pidfd = pidfd
        self._cgroup = cgroup
        self._loop = loop
        self._sentinel = sentinel

    def signal(self, signum: int) -> None:
        signal_group(self.pid, signum)

    def signal_leader(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        signal_group(self.pid, signal.SIGKILL)
        if self._cgroup is not None:
            self._cgroup.kill()

    def reap(self) -> int | None:
        # Until it is reaped the leader keeps its group id reserved, so this reaches only the
        # processes it left behind, never an unrelated group that reused the number.
        signal_group(self.pid, signal.SIGKILL)
        returncode = self._process.poll()
        if returncode is None:
            return None
        if self._cgroup is not None:
            self._cgroup.kill()  # and what left the group (setsid) but not the cgroup
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._sentinel.forget(self.pid)
        return returncode


class OsHost:
    """Real processes: spawned with their output to the pump, registered with the orphan guard,
    each unit in its own cgroup where the sentinel holds one."""

    def __init__(self, loop: Loop, output: OutputPump, sentinel: Sentinel) -> None:
        self._loop = loop
        self._output = output
        self._sentinel = sentinel
        self._cgroups: dict[str, UnitCgroup | None] = {}  # None: process groups only

    def _cgroup(self, unit: str) -> UnitCgroup | None:
        try:
            return self._cgroups[unit]
        except KeyError:
            cgroup = self._cgroups[unit] = self._sentinel.unit_cgroup(unit)
            return cgroup

    def environment(self) -> Mapping[str, str]:
        return {SENTINEL_MARKER: self._sentinel.marker}

    def start(
        self,
        unit: str,
        argv: tuple[str, ...],
        env: dict[str, str],
        settings: ServiceSettings,
        on_exit: Callable[[], None],
    ) -> OsChild:
        cgroup = self._cgroup(unit)
        with self._output.attach(
            unit,
            max_bytes=settings.log_max_bytes,
            backups=settings.log_backups,
            separate_stderr=settings.stderr == "separate",
        ) as pipes:
            process, pidfd = spawn(
                argv, env, settings.directory, pipes.stdout, pipes.stderr, cgroup
            )
        self._sentinel.watch(process.pid)
        self._loop.add_reader(pidfd, on_exit)
        return OsChild(process, pidfd, cgroup, self._loop, self._sentinel)

    def start_probe(
        self,
        unit: str,
        readiness: Readiness,
        env: dict[str, str],
        directory: str | None,
        on_pass: Callable[[], None],
        on_failure: Callable[[str], None],
    ) -> ExecProbe:
        probe = ExecProbe(
            self._loop,
            readiness,
            env=env,
            directory=directory,
            on_pass=on_pass,
            on_failure=on_failure,
            watch=self._sentinel.watch,
            forget=self._sentinel.forget,
        )
        probe.start()
        return probe

    def unit_ended(self, unit: str) -> None:
        cgroup = self._cgroup(unit)
        if cgroup is not None:
            cgroup.remove()

    def usage(self, unit: str) -> tuple[int | None, float | None]:
        cgroup = self._cgroup(unit)
        if cgroup is None:
            return None, None
        return cgroup.memory(), cgroup.cpu()
