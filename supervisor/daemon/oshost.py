"""The real `host.ProcessHost`: processes spawned and watched as the supervisor always has.

Each run is spawned (see `spawn`) with its output to the pump, registered with the orphan guard,
born in the unit's cgroup where the sentinel holds one, and watched through a pidfd on the
supervisor's loop.  A service's `user`/`group` apply to its runs and its exec probes alike.
Nothing here decides anything: the unit's state machine does.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Mapping

from supervisor.config.identity import RunAs
from supervisor.config.services import Probe, ServiceSettings
from supervisor.daemon.cgroup import UnitCgroup
from supervisor.daemon.host import EventSink
from supervisor.daemon.loop import Loop
from supervisor.daemon.output import OutputPump
from supervisor.daemon.preload.forked import ForkedChild
from supervisor.daemon.preload.pool import Preloader, preloads, title_of
from supervisor.daemon.probes.execcheck import ExecCheck
from supervisor.daemon.probes.logmatch import LogMatch, LogProbe
from supervisor.daemon.probes.netcheck import HttpCheck, TcpCheck
from supervisor.daemon.probes.runner import Check, ProbeRunner
from supervisor.daemon.sentinel import MARKER_VARIABLE as SENTINEL_MARKER
from supervisor.daemon.sentinel import Sentinel
from supervisor.daemon.spawn import signal_group, spawn


class OsChild:
    """A real process, watched through its pidfd on the supervisor's loop."""

    __slots__ = ("_cgroup", "_forget", "_loop", "_pidfd", "_process", "pid")

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        pidfd: int,
        cgroup: UnitCgroup | None,
        loop: Loop,
        forget: Callable[[int], None],
    ) -> None:
        self.pid = process.pid
        self._process = process
        self._pidfd = pidfd
        self._cgroup = cgroup
        self._loop = loop
        self._forget = forget

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
        self._forget(self.pid)
        return returncode


class OsHost:
    """Real processes: spawned with their output to the pump, registered with the orphan guard,
    each unit in its own cgroup where the sentinel holds one."""

    def __init__(
        self, loop: Loop, output: OutputPump, sentinel: Sentinel, events: EventSink | None = None
    ) -> None:
        self._loop = loop
        self._output = output
        self._sentinel = sentinel
        self._flush_due = False
        self._cgroups: dict[str, UnitCgroup | None] = {}  # None: process groups only
        # The current run's log-probe matcher, fed from its first line on, until the probe
        # takes it: started with the pipes, so no line can come before it listens.
        self._log_matches: dict[str, LogMatch] = {}
        # Who the unit's current run is (`user`/`group`), and so its exec probes: set by every
        # start, since probes only ever run while the run they check does.
        self._run_as: dict[str, tuple[RunAs, frozenset[str]]] = {}
        # Processes of services with `preload = true` are forked from a template (preload/).
        self.preloader = Preloader(
            loop,
            output,
            sentinel,
            events or _NoEvents(),
            {**os.environ, **self.environment()},
        )

    def _cgroup(self, unit: str) -> UnitCgroup | None:
        try:
            return self._cgroups[unit]
        except KeyError:
            cgroup = self._cgroups[unit] = self._sentinel.unit_cgroup(unit)
            return cgroup

    def _forget(self, pgid: int) -> None:
        """Tell the sentinel a group is gone, in one write per loop round for all of them."""
        self._sentinel.forget(pgid)
        if not self._flush_due:
            self._flush_due = True
            self._loop.call_later(0, self._flush_forgotten)

    def _flush_forgotten(self) -> None:
        self._flush_due = False
        self._sentinel.flush()

    def environment(self) -> Mapping[str, str]:
        return {SENTINEL_MARKER: self._sentinel.marker}

    def start(
        self,
        unit: str,
        argv: tuple[str, ...],
        env: dict[str, str],
        settings: ServiceSettings,
        on_exit: Callable[[], None],
    ) -> OsChild | ForkedChild:
        cgroup = self._cgroup(unit)
        self._drop_log_match(unit)
        run_as = settings.run_as
        if run_as is not None:
            own = frozenset(key for key, _ in settings.env)
            self._run_as[unit] = (run_as, own)
            env = run_as.environment(env, own)
        else:
            self._run_as.pop(unit, None)
        readiness = settings.readiness
        match = None
        if readiness is not None and readiness.log:
            match = self._log_matches[unit] = LogMatch(readiness.log)
        with self._output.attach(
            unit,
            max_bytes=settings.log_max_bytes,
            backups=settings.log_backups,
            separate_stderr=settings.stderr == "separate",
            on_lines=None if match is None else match.feed,
        ) as pipes:
            if run_as is None and preloads(argv, settings):
                return self.preloader.start(
                    argv, env, settings, title_of(env, unit), pipes, cgroup, on_exit, self._forget
                )
            process, pidfd = spawn(
                argv, env, settings.directory, pipes.stdout, pipes.stderr, cgroup, run_as
            )
        self._sentinel.watch(process.pid)
        self._loop.add_reader(pidfd, on_exit)
        return OsChild(process, pidfd, cgroup, self._loop, self._forget)

    def start_probe(
        self,
        unit: str,
        probe: Probe,
        env: dict[str, str],
        directory: str | None,
        on_pass: Callable[[], None],
        on_failure: Callable[[str], None],
    ) -> ProbeRunner | LogProbe:
        if probe.log:
            match = self._log_matches.pop(unit, None) or LogMatch(probe.log)
            log_probe = LogProbe(self._loop, match, on_pass)
            log_probe.start()
            return log_probe
        runner = ProbeRunner(
            self._loop, probe, self._check(unit, probe, env, directory), on_pass, on_failure
        )
        runner.start()
        return runner

    def _check(self, unit: str, probe: Probe, env: dict[str, str], directory: str | None) -> Check:
        if probe.http:
            return HttpCheck(self._loop, probe.http)
        if probe.tcp:
            return TcpCheck(self._loop, probe.tcp)
        run_as, own = self._run_as.get(unit, (None, frozenset()))
        return ExecCheck(
            self._loop,
            probe.exec,
            env=env if run_as is None else run_as.environment(env, own),
            directory=directory,
            watch=self._sentinel.watch,
            forget=self._forget,
            run_as=run_as,
        )

    def _drop_log_match(self, unit: str) -> None:
        match = self._log_matches.pop(unit, None)
        if match is not None:
            match.close()

    def unit_ended(self, unit: str) -> None:
        self._drop_log_match(unit)
        self._run_as.pop(unit, None)
        cgroup = self._cgroup(unit)
        if cgroup is not None:
            cgroup.remove()

    def lend_cgroup(self, unit: str) -> str | None:
        """The unit's cgroup directory, made, for a process `supervisor attach` runs outside
        the supervisor to join; None where there are no cgroups."""
        cgroup = self._cgroup(unit)
        fd = None if cgroup is None else cgroup.directory_fd()
        if cgroup is None or fd is None:
            return None
        os.close(fd)
        return str(cgroup.path)

    def usage(self, unit: str) -> tuple[int | None, float | None]:
        cgroup = self._cgroup(unit)
        if cgroup is None:
            return None, None
        return cgroup.memory(), cgroup.cpu()

    def close(self) -> None:
        """At the supervisor's exit: the templates end (the processes were stopped already)."""
        self.preloader.close()


class _NoEvents:
    def emit(self, event: str, **fields: object) -> None:
        pass
