"""The supervisor: one loop that owns every unit, turns signals into events, and ends the group.

The group ends by itself when every unit is in a final state (and none is held stopped by an
operator), or when a critical unit fails for good (the others are then stopped).  Its exit
status is 0 when nothing failed for good; otherwise the status of the first unit that did.

`run` builds what a run needs on the OS (`wiring`), then serves the loop until the group ends.
What the control handlers ask by process name is in `operations`; running another plan (reload,
scale) in `replan`: both are parts of this class, apart because neither decides for the group.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from typing import TextIO

from supervisor.config import Plan
from supervisor.config.diff import ReloadRejected
from supervisor.control.daemonview import DaemonSubscriber
from supervisor.daemon.attach import Attachments
from supervisor.daemon.failures import FailureReporter, error_text
from supervisor.daemon.host import EventSink, ProcessHost, Timers
from supervisor.daemon.loop import Loop
from supervisor.daemon.notifysocket import NotifyListener
from supervisor.daemon.operations import Operations
from supervisor.daemon.replan import Replanning
from supervisor.daemon.scaling import Scaled
from supervisor.daemon.settle import SettleLoop
from supervisor.daemon.strategy import Strategies
from supervisor.daemon.unit import Unit, UnitContext
from supervisor.daemon.unitindex import UnitIndex
from supervisor.daemon.wiring import OsWiring
from supervisor.policy import group
from supervisor.policy.states import State
from supervisor.shared.exits import EXIT_INTERNAL_ERROR

STOP_PROGRESS_PERIOD = 5.0  # seconds between the stop's "still waiting for" lines


class Supervisor(Operations, Replanning):
    def __init__(
        self,
        plan: Plan,
        *,
        load_plan: Callable[..., Plan] | None = None,
        console: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        uniform: Callable[[float, float], float] = random.uniform,
        console_output: bool = True,
    ) -> None:
        """`console_output`: the processes' output on the console as well as in their logs.
        `load_plan()` reads the file for a reload; `load_plan(workers={service: N})` with the
        counts `scale` set."""
        self.plan = plan
        self._console_output = console_output
        self._load_plan = load_plan
        self._console = console or sys.stderr
        self.clock = clock
        self._uniform = uniform
        self.units: dict[str, Unit] = {}
        self._retiring: set[str] = set()  # removed by a reload, still stopping
        self._scaled: dict[str, Scaled] = {}  # `supervisor scale`, while the file agrees
        self.stopping = False
        self._stop_cause = ""
        self._forced_by: int | None = None
        self._failures = group.Failures()  # who failed for good and still stands failed
        self._ended = False
        self._settle_loop = SettleLoop(self._settle)
        self._strategies: Strategies | None = None  # `[groups]`, once attached
        self._index = UnitIndex()  # so that no change has to look at every unit
        self._subscribers: list[DaemonSubscriber] = []  # told of every settled change
        self._attachments: Attachments | None = None  # `supervisor attach`, on a real host
        self.started_at = clock()

    def run(self) -> int:
        """Supervise the plan until the group ends; its exit status. Raises AlreadyRunning
        when another supervisor holds the same state directory."""
        wiring = OsWiring(self, self._console, console_output=self._console_output)
        try:
            wiring.start()
            return self.finish(*self._serve(wiring.loop))
        finally:
            wiring.close()

    def lend_to(self, attachments: Attachments) -> None:
        """`supervisor attach` is served: processes may be lent to a terminal."""
        self._attachments = attachments
        self.subscribe(attachments)

    # -- building and ending, apart from the OS, so a virtual host can run the same group -------

    def attach(
        self, loop: Timers, events: EventSink, host: ProcessHost, notify_address: str
    ) -> None:
        """Take the loop, the event log and the process host every unit will use, and make the
        units: `run` attaches the OS's; the state-machine tests attach a virtual host."""
        self.events, self._loop = events, loop
        self._context = UnitContext(
            loop, events, host, notify_address, self._uniform, self._on_change
        )
        self._strategies = Strategies(self, events)
        self._context.judge_restart = self._strategies.judge
        self._context.state_dir = str(self.plan.state_dir)
        self.units = {p.name: Unit(p, self._context) for p in self.plan.processes}
        self._index.units_replaced()

    def boot(self) -> None:
        """Start every unit, from the loop, so that a start that raises is reported like any
        callback."""
        for unit in list(self.units.values()):
            if unit.plan.settings.autostart:
                start = functools.partial(self.start_unit, unit, "supervisor started")
                self._loop.call_later(0, start)
            else:
                unit.disable()  # at once: a client's first `wait` already sees it held

    def has_ended(self) -> bool:
        released = self._strategies.released if self._strategies else ()
        return group.has_ended(self.units.values(), stopping=self.stopping, released=released)

    def finish(self, status: int, cause: str) -> int:
        """The group has ended (or the loop failed): say so once, settle every waiting client."""
        assert not self._ended, "the group ends once"
        self._ended = True
        self.events.emit("group", action="exit", status=status, cause=cause)
        for subscriber in self._subscribers:
            subscriber.group_ended(status)
        return status

    @property
    def first_failure(self) -> group.Failure | None:
        """The first failure for good that still stands: the group's status, if it ended now."""
        return self._failures.first

    def outcome(self) -> tuple[int, str]:
        """The exit status and cause the group ends with, judged now."""
        first = self._failures.first
        return (
            group.exit_status(first, self._forced_by),
            group.end_cause(first, self._forced_by, self._stop_cause),
        )

    def _serve(self, loop: Loop) -> tuple[int, str]:
        """Run the loop until the group ends: its exit status and why it ended.

        An exception that leaves the loop means the supervisor's own bookkeeping can no longer
        be trusted: the group ends at once, and the sentinel kills every process on the way
        out, as it would after a crash."""
        failures = FailureReporter(self.events.emit, self.clock)
        try:
            loop.run(until=self.has_ended, on_error=failures.on_loop_error)
        except Exception as error:
            failures.report("the supervisor's loop", error)
            return EXIT_INTERNAL_ERROR, f"internal error, every process killed: {error_text(error)}"
        return self.outcome()

    # -- operations, for signals and the control socket ----------------------------------------

    def start_unit(self, unit: Unit, cause: str) -> None:
        """Start now if its dependencies are ready, else wait for them."""
        pending = self._pending_dependencies(unit)
        if pending:
            unit.wait_for_dependencies(f"waiting for {', '.join(pending)} to be ready")
        else:
            unit.start(cause)

    def begin_stop(self, cause: str, *, then: str | None = None) -> None:
        """Stop the group in dependency layers; `then` says what a second request would do
        (for the console of an operator who pressed Ctrl-C)."""
        if self.stopping:
            return
        self.stopping = True
        self._context.shutting_down = True
        self._stop_cause = cause
        self._index.stop_began()
        self.events.emit("group", action="stop", cause=cause, then=then)
        self._on_change(None)
        self._loop.call_later(STOP_PROGRESS_PERIOD, self._report_stop_progress)

    def _report_stop_progress(self) -> None:
        """While the stop lasts, say now and then whom it is waiting for and how long each may
        still take, as systemd's "A stop job is running for ..." does."""
        if self._ended or self.has_ended():
            return
        now = self.clock()
        waiting = [
            f"{unit.name} ({unit.state}, {unit.stop_deadline(now)})"
            for unit in self.units.values()
            if not unit.is_final
        ]
        self.events.emit("group", action="waiting", cause=self._stop_cause, waiting_for=waiting)
        self._loop.call_later(STOP_PROGRESS_PERIOD, self._report_stop_progress)

    @property
    def groups(self) -> list[dict[str, object]]:
        """The `[groups]` tables as `status` shows them (daemon/strategy.py)."""
        return [] if self._strategies is None else self._strategies.describe()

    def _restart(self, unit: Unit, cause: str) -> None:
        """Stop if running, then start again.  A unit still waiting for its dependencies keeps
        waiting: it starts, with whatever plan it has by then, once they are ready."""
        if unit.state is not State.WAITING:
            unit.restart(cause)

    # -- events from units, signals and children -----------------------------------------------

    def _on_change(self, unit: Unit | None) -> None:
        if unit is not None and self._failures.note(unit):
            self._check_backends(unit)
            cause = group.critical_failure(unit, critical=unit.plan.settings.critical)
            if cause is not None:
                self.begin_stop(cause)
        self._index.note(self.units, unit, stopping=self.stopping)
        if unit is not None and self._strategies is not None:
            self._strategies.changed(unit)
        # Transitions started from here report back here; settle them in a loop, not nested.
        self._settle_loop.changed()

    def _settle(self) -> None:
        for name in [n for n in self._retiring if self.units[n].is_final]:
            self._retiring.discard(name)
            del self.units[name]
            self._index.removed(name)
            self._failures.forget(name)
        if self.stopping:
            if self._index.take_stop_scan():
                self._advance_stop()
        else:
            self._release_waiting()
        if self._strategies is not None:
            self._strategies.settle()  # what a [groups] strategy does about these changes
        for subscriber in self._subscribers:
            subscriber.units_changed()

    def on_signal(self, signum: int) -> None:
        """SIGHUP reloads; a first SIGINT/SIGTERM stops the group, a second one forces it."""
        name = signal.Signals(signum).name
        self.events.emit("signal", signal=name)
        if signum == signal.SIGHUP:
            # A rejected reload is in the event log; the stack runs on unchanged.
            with contextlib.suppress(ReloadRejected):
                self.reload()
        elif not self.stopping:
            self.begin_stop(f"{name} received", then=f"a second {name} kills everything at once")
        else:
            self._force(signum)

    def on_notify(self, listener: NotifyListener) -> None:
        for pid, fields in listener.receive():
            if self._attachments is not None and self._attachments.on_notify(pid, fields):
                continue  # from a process run in a terminal by `supervisor attach`
            unit = self._unit_of(pid)
            if unit is not None:
                unit.on_notify(fields)

    def _unit_of(self, pid: int) -> Unit | None:
        """The unit whose main process, or any process of its group, sent a datagram."""
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            group = pid
        return next((unit for unit in self.units.values() if unit.pid in (pid, group)), None)

    def _check_backends(self, unit: Unit) -> None:
        """Cinder skips a backend that fails to start; when none started, it says so."""
        spec = unit.plan.spec
        if spec is None or spec.backend is None:
            return
        siblings = self.service_units(unit.service)
        if all(u.state is State.FATAL and not u.has_run for u in siblings):
            subtopic = unit.plan.resolution.subtopic if unit.plan.resolution else unit.service
            self.events.emit(
                "service",
                action="failed",
                service=unit.service,
                cause=f"No {subtopic} service(s) started successfully, terminating.",
            )

    # -- dependencies ----------------------------------------------------------------------------

    def service_units(self, service: str) -> list[Unit]:
        return self._index.service_units(self.units, service)

    def _pending_dependencies(self, unit: Unit) -> list[str]:
        return [
            dependency
            for dependency in unit.plan.settings.depends_on
            if not all(u.ready or u.completed for u in self.service_units(dependency))
        ]

    def _release_waiting(self) -> None:
        if not self._index.waiting:
            return
        for unit in [u for u in self.units.values() if u.name in self._index.waiting]:
            if unit.state is not State.WAITING:
                continue
            failed = next(
                (
                    dependency
                    for dependency in unit.plan.settings.depends_on
                    if any(u.failure_status is not None for u in self.service_units(dependency))
                ),
                None,
            )
            if failed is not None:
                unit.block(f"dependency {failed} failed for good")
            elif not self._pending_dependencies(unit):
                unit.start("dependencies ready")

    # -- ending the group ----------------------------------------------------------------------

    def _advance_stop(self) -> None:
        """Stop in dependency layers: dependants first, everything unrelated at once."""
        for unit in group.to_stop(self.plan.dependants, self.units.values()):
            unit.stop(self._stop_cause)

    def _force(self, signum: int) -> None:
        self._forced_by = signum
        for unit in list(self.units.values()):
            unit.kill(f"second {signal.Signals(signum).name}: killing everything at once")
