"""The seam between a unit's state machine and the world: processes, signals, probes, timers.

`Unit` never forks, signals or reads a clock by itself.  It asks its `ProcessHost` to start a
process (and gets back a `ChildProcess` to signal, kill and reap), to run a health probe,
and to release what a unit holds once it has ended; it asks its `Timers` for the time and for
callbacks later.  `oshost.OsHost` is the real host: today's spawn, process-group signals, pidfd exit
watching, output pump, orphan guard and cgroups, in the same order and at the same cost as when
the unit called them itself.  `supervisor.tools.virtualhost` provides a virtual host and loop,
on which the policy simulator and the state-machine tests drive the very same `Unit` code with
no process and no sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from supervisor.config.services import Probe, ServiceSettings


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Timers(Protocol):
    """The loop as a unit sees it: the time, and callbacks after a delay."""

    def clock(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable: ...


class EventSink(Protocol):
    def emit(self, event: str, **fields: Any) -> None: ...


class ChildProcess(Protocol):
    """One started process, the leader of its own process group."""

    @property
    def pid(self) -> int: ...

    def signal(self, signum: int) -> None:
        """Signal the whole process group."""

    def signal_leader(self, signum: int) -> None:
        """Signal the main process alone."""

    def kill(self) -> None:
        """SIGKILL the process group and whatever else the unit holds (its cgroup)."""

    def reap(self) -> int | None:
        """After the exit notice: the return code (negative: the killing signal), once what the
        process left behind is killed and its resources released; None if it has not exited."""


class ProcessHost(Protocol):
    def environment(self) -> Mapping[str, str]:
        """What every child's environment carries for the host's own bookkeeping."""

    def start(
        self,
        unit: str,
        argv: tuple[str, ...],
        env: dict[str, str],
        settings: ServiceSettings,
        on_exit: Callable[[], None],
    ) -> ChildProcess:
        """Start one run of `unit`; `on_exit` is called from the loop once it may have exited.
        Raises OSError when it cannot be executed."""

    def start_probe(
        self,
        unit: str,
        probe: Probe,
        env: dict[str, str],
        directory: str | None,
        on_pass: Callable[[], None],
        on_failure: Callable[[str], None],
    ) -> Cancellable:
        """Run `probe` for the current run of `unit` until cancelled, reporting every run's
        result (see `probes.runner.ProbeRunner`); a log probe reports its match, once."""

    def unit_ended(self, unit: str) -> None:
        """The unit reached a final state: release what it holds between runs."""

    def usage(self, unit: str) -> tuple[int | None, float | None]:
        """Memory (bytes) and CPU (seconds) charged to the unit, where they are known."""
