"""Putting back what an operator removed from the state directory while the supervisor runs.

Once a second, on the loop's own timer (a few `stat` calls, nothing more), the directory, the
lock file, the control socket, the logs directory and the event log are checked; whatever is
missing is created again and announced with a `state_dir` event.  The lock comes first: the
socket is only put back by the process that holds the lock, so a supervisor started in the
second after an `rm -rf` (which finds no lock and takes a new one) wins the directory, and this
one is told through `lost` and stops its stack.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from supervisor.control.address import SOCKET_NAME
from supervisor.control.server import ControlServer
from supervisor.daemon.events import EventLog
from supervisor.daemon.loop import Loop, Timer
from supervisor.daemon.output import LOGS_DIR
from supervisor.daemon.statelock import LOCK_NAME, AlreadyRunning, StateLock

CHECK_INTERVAL = 1.0


class StateDirHealer:
    def __init__(
        self,
        state_dir: Path,
        loop: Loop,
        lock: StateLock,
        control: ControlServer,
        events: EventLog,
        lost: Callable[[str], None],
    ) -> None:
        self._state_dir = state_dir
        self._loop = loop
        self._lock = lock
        self._control = control
        self._events = events
        self._lost = lost
        self._timer: Timer | None = None
        self._last_failure = ""

    def start(self) -> None:
        self._timer = self._loop.call_later(CHECK_INTERVAL, self._check)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        self.start()  # first, so that no failure below ends the checking
        try:
            self._heal()
        except AlreadyRunning as error:
            self.stop()
            self._lost(f"lost {self._state_dir} to another supervisor: {error}")
        except OSError as error:
            # Say it once, not every second, until something changes.
            failure = f"{type(error).__name__}: {error}"
            if failure != self._last_failure:
                self._last_failure = failure
                self._events.emit("state_dir", action="unrepairable", error=failure)
        else:
            self._last_failure = ""

    def _heal(self) -> None:
        self._events.check()  # re-creates the directory and the log, with its own event
        if not self._lock.intact():
            self._state_dir.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
            self._recreated(LOCK_NAME)
        if self._control.rebind_if_gone():
            self._recreated(SOCKET_NAME)
        logs = self._state_dir / LOGS_DIR
        if not logs.is_dir():
            logs.mkdir(parents=True, exist_ok=True)
            self._recreated(LOGS_DIR)

    def _recreated(self, name: str) -> None:
        self._events.emit("state_dir", action="recreated", file=name, cause="removed while running")
