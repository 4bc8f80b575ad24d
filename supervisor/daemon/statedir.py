"""Putting back what an operator removed from the state directory while the supervisor runs.

The kernel tells the supervisor when an entry of the directory is removed or replaced, or the
directory itself is (see `dirwatch`); once that has been quiet for `SETTLE_DELAY` (an `rm -rf`
still at work must finish first, or the directory it is removing would not be empty), the lock
file, the control socket, the logs directory and the event log are checked, and whatever is
missing is created again and announced with a `state_dir` event.  An idle supervisor so makes
no system call for this.  Only where inotify cannot be had, or while the directory cannot be
repaired, is the directory looked at once every `CHECK_INTERVAL` instead.

The lock comes first: the socket is only put back by the process that holds the lock, so a
supervisor started right after an `rm -rf` (which finds no lock and takes a new one) wins the
directory, and this one is told through `lost` and stops its stack.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from supervisor.control.address import SOCKET_NAME
from supervisor.control.server import ControlServer
from supervisor.daemon.dirwatch import DirectoryWatch
from supervisor.daemon.events import EventLog
from supervisor.daemon.loop import Loop, Timer
from supervisor.daemon.output import LOGS_DIR
from supervisor.daemon.statelock import LOCK_NAME, AlreadyRunning, StateLock

CHECK_INTERVAL = 1.0  # looking without being told: no inotify, or a repair that failed
SETTLE_DELAY = 0.3  # after the last removal reported, before repairing


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
        self._watch: DirectoryWatch | None = None
        self._last_failure = ""

    def start(self) -> None:
        try:
            self._watch = DirectoryWatch.open(self._state_dir)
        except OSError:
            self._check_in(CHECK_INTERVAL)  # look every second instead
        else:
            self._loop.add_reader(self._watch.fd, self._changed)

    def stop(self) -> None:
        self._cancel_timer()
        if self._watch is not None:
            self._loop.remove_reader(self._watch.fd)
            self._watch.close()
            self._watch = None

    def _changed(self) -> None:
        assert self._watch is not None
        self._watch.drain()
        self._check_in(SETTLE_DELAY)  # from the latest report: removals come in bursts

    def _check_in(self, delay: float) -> None:
        self._cancel_timer()
        self._timer = self._loop.call_later(delay, self._check)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        self._timer = None
        try:
            self._heal()
            if self._watch is not None:
                self._watch.rewatch()  # the directory may be a new one
        except AlreadyRunning as error:
            self.stop()
            self._lost(f"lost {self._state_dir} to another supervisor: {error}")
            return
        except OSError as error:
            self._check_in(CHECK_INTERVAL)  # try again until it can be repaired
            # Say it once, not every second, until something changes.
            failure = f"{type(error).__name__}: {error}"
            if failure != self._last_failure:
                self._last_failure = failure
                self._events.emit("state_dir", action="unrepairable", error=failure)
            return
        self._last_failure = ""
        if self._watch is None:
            self._check_in(CHECK_INTERVAL)

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
