"""The supervisor: one loop that owns every unit, turns signals into events, and ends the group.

The group ends by itself when every unit is in a final state, or when a critical unit goes
fatal (the others are then stopped).  Its exit status is 0 when nothing failed for good;
otherwise the status of the first unit that did (its exit code, or 128 + signal).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import TextIO

from supervisor.config import Plan
from supervisor.events import EventLog
from supervisor.loop import Loop
from supervisor.notify import NotifyListener
from supervisor.sentinel import Sentinel
from supervisor.unit import Unit, UnitContext

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_HANDLED_SIGNALS = (*_STOP_SIGNALS, signal.SIGHUP)


class Supervisor:
    def __init__(
        self,
        plan: Plan,
        *,
        console: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.plan = plan
        self._console = console or sys.stderr
        self._clock = clock
        self._uniform = uniform
        self.units: list[Unit] = []
        self._stopping = False
        self._stop_cause = ""
        self._forced_by: int | None = None
        self._first_failure: Unit | None = None

    def run(self) -> int:
        # The sentinel is forked first, while this process holds nothing it could inherit.
        sentinel = Sentinel()
        events = EventLog(self.plan.state_dir, self._console)
        loop = Loop(self._clock)
        listener = NotifyListener()
        wakeup_read, wakeup_write = socket.socketpair()
        wakeup_write.setblocking(False)
        previous_handlers = {sig: signal.signal(sig, _ignore) for sig in _HANDLED_SIGNALS}
        signal.set_wakeup_fd(wakeup_write.fileno(), warn_on_full_buffer=False)
        self._events, self._loop = events, loop
        try:
            loop.add_reader(listener.sock.fileno(), lambda: self._on_notify(listener))
            loop.add_reader(wakeup_read.fileno(), lambda: self._on_signals(wakeup_read))
            context = UnitContext(
                loop, events, sentinel, listener.address, self._uniform, self._on_change
            )
            self._context = context
            self.units = [Unit(process, context) for process in self.plan.processes]
            events.emit(
                "supervisor",
                action="start",
                pid=os.getpid(),
                config=str(self.plan.path),
                processes=len(self.units),
            )
            for unit in self.units:
                unit.start("supervisor started")
            if self.units and not self._all_final():
                loop.run()
            status = self._exit_status()
            events.emit("group", action="exit", status=status, cause=self._end_cause())
            return status
        finally:
            signal.set_wakeup_fd(-1)
            for sig, handler in previous_handlers.items():
                signal.signal(sig, handler)
            for closable in (wakeup_read, wakeup_write, listener, loop, events):
                closable.close()
            sentinel.close()

    # -- events from units, signals and children -----------------------------------------------

    def _on_change(self, unit: Unit) -> None:
        if unit.is_final and unit.failure_status is not None and self._first_failure is None:
            self._first_failure = unit
        critical_failed = unit.plan.settings.critical and unit.failure_status is not None
        if critical_failed and unit.is_final and not self._stopping:
            self._begin_stop(f"critical unit {unit.name} failed for good")
        if self._stopping:
            self._advance_stop()
        if self._all_final():
            self._loop.stop()

    def _on_signals(self, wakeup: socket.socket) -> None:
        for signum in wakeup.recv(512):
            name = signal.Signals(signum).name
            self._events.emit("signal", signal=name)
            if signum == signal.SIGHUP:
                for unit in self.units:
                    if unit.plan.spec is not None:
                        unit.send(signal.SIGHUP)  # the manager's reset(), as Cinder's mutate
            elif not self._stopping:
                self._begin_stop(f"{name} received")
            else:
                self._force(signum)

    def _on_notify(self, listener: NotifyListener) -> None:
        for pid, fields in listener.receive():
            unit = self._unit_of(pid)
            if unit is not None:
                unit.on_notify(fields)

    def _unit_of(self, pid: int) -> Unit | None:
        """The unit whose main process, or any process of its group, sent a datagram."""
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            group = pid
        return next((unit for unit in self.units if unit.pid in (pid, group)), None)

    # -- ending the group ----------------------------------------------------------------------

    def _all_final(self) -> bool:
        return all(unit.is_final for unit in self.units)

    def _begin_stop(self, cause: str) -> None:
        self._stopping = True
        self._context.shutting_down = True
        self._stop_cause = cause
        self._events.emit("group", action="stop", cause=cause)
        self._advance_stop()

    def _advance_stop(self) -> None:
        """Stop services in reverse start order, each only once the later ones are down."""
        for service in reversed(self.plan.services):
            running = [u for u in self.units if u.service == service and not u.is_final]
            if running:
                for unit in running:
                    unit.stop(self._stop_cause)
                return

    def _force(self, signum: int) -> None:
        self._forced_by = signum
        for unit in self.units:
            unit.kill(f"second {signal.Signals(signum).name}: killing everything at once")

    def _exit_status(self) -> int:
        if self._forced_by is not None:
            return 128 + self._forced_by
        if self._first_failure is not None:
            assert self._first_failure.failure_status is not None
            return self._first_failure.failure_status
        return 0

    def _end_cause(self) -> str:
        if self._forced_by is not None:
            return f"killed on a second {signal.Signals(self._forced_by).name}"
        if self._first_failure is not None:
            return f"{self._first_failure.name} failed: {self._first_failure.cause}"
        return self._stop_cause or "every unit ended"


def _ignore(signum: int, frame: object) -> None:
    """Python must have a handler for the wakeup fd to see the signal; the loop does the work."""
