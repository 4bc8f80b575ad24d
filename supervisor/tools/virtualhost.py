"""A virtual loop and a virtual process host: a unit's state machine with no process, no sleep.

`VirtualLoop` is what a unit needs of the supervisor's loop (`daemon.host.Timers`), on a clock
that jumps from one due callback to the next, so an hour takes as long as its events do.  At one
moment it serves what the real loop learns from file descriptors before its due timers, as
`daemon.loop.Loop` does: a process's exit first, then what a process sends (READY=1, a probe's
answer), then timers; each kind in the order it was scheduled.

`VirtualHost` is a `daemon.host.ProcessHost` whose processes live until their driver ends them
(`VirtualProcess.exit`, `exit_at`) or until a signal that ends a process reaches them.  Either
way the unit hears of the exit through the loop at that same moment, as it would through a
pidfd.  The policy simulator drives them from a crash schedule; the state-machine tests drive
them by hand.

`VirtualProbe` stands for a probe of any kind (exec, http, tcp, log), readiness or liveness:
it answers only what its driver says (`succeed`, `fail`), with no period, timeout or initial
delay of its own.  The simulator answers every probe with a pass `ready_after` the start, so
readiness gates as it would with a service that answers then, and liveness never fails there
(liveness is ignored by simulations); the state-machine tests fail liveness probes by hand.
"""

from __future__ import annotations

import heapq
import itertools
import math
import signal
from collections.abc import Callable, Mapping
from enum import IntEnum

from supervisor.config.services import Probe, ServiceSettings
from supervisor.policy.restart import ExitStatus

# Signals whose default action leaves a process running; SIGHUP is the managers' reset().
_HARMLESS_SIGNALS = frozenset(
    {signal.SIGSTOP, signal.SIGCONT, signal.SIGCHLD, signal.SIGWINCH, signal.SIGURG}
)
DEFAULT_IGNORED = frozenset({signal.SIGHUP})
FIRST_PID = 1000


class Priority(IntEnum):
    """What goes first among callbacks due at the same moment."""

    EXIT = 0  # a child's pidfd turned readable
    MESSAGE = 1  # a datagram on the notify socket, a probe's exit
    TIMER = 2


class VirtualTimer:
    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualLoop:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._due: list[tuple[float, Priority, int, VirtualTimer]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> VirtualTimer:
        return self.at(self.now + delay, callback)

    def at(
        self, when: float, callback: Callable[[], None], priority: Priority = Priority.TIMER
    ) -> VirtualTimer:
        timer = VirtualTimer(max(when, self.now), callback)
        heapq.heappush(self._due, (timer.when, priority, next(self._order), timer))
        return timer

    def next_due(self) -> float | None:
        while self._due and self._due[0][3].cancelled:
            heapq.heappop(self._due)
        return self._due[0][0] if self._due else None

    def run(self, until: Callable[[], bool] = lambda: False, deadline: float = math.inf) -> str:
        """Serve due callbacks in order until `until()` holds (judged after each): "until";
        nothing is left to do: "idle"; the next is due after `deadline`, which the clock
        then shows: "deadline"."""
        while not until():
            due = self.next_due()
            if due is None:
                return "idle"
            if due > deadline:
                self.now = max(self.now, deadline)
                return "deadline"
            _, _, _, timer = heapq.heappop(self._due)
            self.now = timer.when
            timer.callback()
        return "until"

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass, serving everything due meanwhile; the clock ends there."""
        deadline = self.now + seconds
        self.run(deadline=deadline)
        self.now = deadline


class VirtualProcess:
    """One run of a unit.  `signals` is every signal it received, in order."""

    def __init__(
        self,
        host: VirtualHost,
        unit: str,
        pid: int,
        argv: tuple[str, ...],
        env: dict[str, str],
        on_exit: Callable[[], None],
    ) -> None:
        self._host = host
        self._loop = host.loop
        self.unit = unit
        self.pid = pid
        self.argv = argv
        self.env = env
        self._on_exit = on_exit
        self.started_at = self._loop.now
        self.signals: list[int] = []
        self.ignored: set[int] = set(DEFAULT_IGNORED)  # signals it handles and lives on
        self.returncode: int | None = None
        self.ended_at: float | None = None
        self.ended_as_planned = False  # by `exit`/`exit_at`, not by a signal
        self._pending: list[VirtualTimer] = []

    @property
    def alive(self) -> bool:
        return self.returncode is None

    # -- what the unit does to it (daemon.host.ChildProcess) ----------------------------------

    def signal(self, signum: int) -> None:
        self.signals.append(signum)
        if signum not in self.ignored and signum not in _HARMLESS_SIGNALS:
            self._end(-signum, planned=False)

    def signal_leader(self, signum: int) -> None:
        self.signal(signum)

    def kill(self) -> None:
        self.signals.append(signal.SIGKILL)
        self._end(-signal.SIGKILL, planned=False)

    def reap(self) -> int | None:
        return self.returncode

    # -- what its driver makes it do ----------------------------------------------------------

    def exit(self, status: ExitStatus | int = 0) -> None:
        """End now with an exit code (an int) or an `ExitStatus` (a code or a killing signal)."""
        if isinstance(status, int):
            status = ExitStatus(code=status)
        self._end(status.code if status.code is not None else -(status.signal or 0), planned=True)

    def exit_at(self, when: float, status: ExitStatus | int = 0) -> None:
        self._later(when, Priority.EXIT, lambda: self.exit(status))

    def send(self, fields: Mapping[str, str], after: float = 0.0) -> None:
        """A notify datagram (READY=1, STATUS=..., WATCHDOG=1) `after` seconds from now."""
        message = dict(fields)
        self._later(
            self._loop.now + after, Priority.MESSAGE, lambda: self._host.deliver(self, message)
        )

    def _later(self, when: float, priority: Priority, callback: Callable[[], None]) -> None:
        self._pending.append(self._loop.at(when, callback, priority))

    def _end(self, returncode: int, *, planned: bool) -> None:
        if not self.alive:
            return
        self.returncode = returncode
        self.ended_at = self._loop.now
        self.ended_as_planned = planned
        for timer in self._pending:
            timer.cancel()  # a dead process sends nothing and exits once
        self._loop.at(self._loop.now, self._on_exit, Priority.EXIT)


class VirtualProbe:
    """A probe whose answers its driver decides: `succeed` or `fail`, as many as it likes."""

    def __init__(
        self,
        loop: VirtualLoop,
        unit: str,
        probe: Probe,
        on_pass: Callable[[], None],
        on_failure: Callable[[str], None],
    ) -> None:
        self._loop = loop
        self.unit = unit
        self.probe = probe
        self._on_pass = on_pass
        self._on_failure = on_failure
        self.cancelled = False
        self._pending: list[VirtualTimer] = []

    def succeed(self, after: float = 0.0) -> None:
        self._answer(after, self._on_pass)

    def fail(self, why: str, after: float = 0.0) -> None:
        self._answer(after, lambda: self._on_failure(why))

    def cancel(self) -> None:
        self.cancelled = True
        for timer in self._pending:
            timer.cancel()

    def _answer(self, after: float, answer: Callable[[], None]) -> None:
        self._pending.append(self._loop.at(self._loop.now + after, answer, Priority.MESSAGE))


class VirtualHost:
    """Starts `VirtualProcess`es; `runs[unit]` is every run of a unit, the last one current.

    `on_start` and `on_probe` let a driver script each run and probe as it starts; `on_message`
    receives what processes send (the supervisor would route it to the unit by pid).  A start
    fails with the OSError queued in `refusals[unit]`, as an exec that cannot happen.
    """

    def __init__(
        self,
        loop: VirtualLoop,
        *,
        on_start: Callable[[VirtualProcess], None] | None = None,
        on_probe: Callable[[VirtualProbe], None] | None = None,
        on_message: Callable[[str, dict[str, str]], None] | None = None,
    ) -> None:
        self.loop = loop
        self._on_start = on_start
        self._on_probe = on_probe
        self._on_message = on_message
        self._pids = itertools.count(FIRST_PID)
        self.runs: dict[str, list[VirtualProcess]] = {}
        self.probes: dict[str, list[VirtualProbe]] = {}
        self.refusals: dict[str, OSError] = {}
        self.ended: list[str] = []  # units that reached a final state, each time they did

    def current(self, unit: str) -> VirtualProcess:
        return self.runs[unit][-1]

    def deliver(self, process: VirtualProcess, fields: dict[str, str]) -> None:
        if process.alive and self._on_message is not None:
            self._on_message(process.unit, fields)

    # -- daemon.host.ProcessHost --------------------------------------------------------------

    def environment(self) -> Mapping[str, str]:
        return {}

    def start(
        self,
        unit: str,
        argv: tuple[str, ...],
        env: dict[str, str],
        settings: ServiceSettings,
        on_exit: Callable[[], None],
    ) -> VirtualProcess:
        if unit in self.refusals:
            raise self.refusals.pop(unit)
        process = VirtualProcess(self, unit, next(self._pids), argv, env, on_exit)
        self.runs.setdefault(unit, []).append(process)
        if self._on_start is not None:
            self._on_start(process)
        return process

    def start_probe(
        self,
        unit: str,
        probe: Probe,
        env: dict[str, str],
        directory: str | None,
        on_pass: Callable[[], None],
        on_failure: Callable[[str], None],
    ) -> VirtualProbe:
        probe = VirtualProbe(self.loop, unit, probe, on_pass, on_failure)
        self.probes.setdefault(unit, []).append(probe)
        if self._on_probe is not None:
            self._on_probe(probe)
        return probe

    def unit_ended(self, unit: str) -> None:
        self.ended.append(unit)

    def usage(self, unit: str) -> tuple[int | None, float | None]:
        return None, None
