"""What `Supervisor.run` puts together on the OS before it serves, and takes apart after.

From the plan: the sentinel (forked first, while this process holds nothing it could inherit:
not even the state lock, which it would keep while it cleans up after a killed supervisor), the
state directory's lock, the output pump and event log, the loop, the notify socket, the process
host, the control socket with its handlers and event stream, the state directory's healer, the
registry entry, and the signal wakeup.  `close` takes them apart in the order that lets each
one's end be seen: the socket before the host, the lock last.  A virtual host (the state-machine
tests, the simulator) builds none of this: it attaches its own (`Supervisor.attach`).
"""

from __future__ import annotations

import os
import resource
import signal
import socket
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from supervisor.config import Plan
from supervisor.control import registry
from supervisor.control.handlers import CommandHandler
from supervisor.control.server import ControlServer
from supervisor.control.stream import EventStream
from supervisor.daemon.attach import Attachments
from supervisor.daemon.events import EventLog
from supervisor.daemon.loop import Loop
from supervisor.daemon.notifysocket import NotifyListener
from supervisor.daemon.oshost import OsHost
from supervisor.daemon.output import LOGS_DIR, OutputPump
from supervisor.daemon.sentinel import Sentinel
from supervisor.daemon.statedir import StateDirHealer
from supervisor.daemon.statelock import StateLock

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_HANDLED_SIGNALS = (*_STOP_SIGNALS, signal.SIGHUP)


class Supervised(Protocol):
    """What of the supervisor (`arbiter.Supervisor`) the wiring builds around and starts; the
    handlers and the attachments take it as their own views of it."""

    plan: Plan
    clock: Callable[[], float]
    containment: str
    units: Any

    def lend_to(self, attachments: Attachments) -> None: ...

    def begin_stop(self, cause: str) -> None: ...

    def attach(self, loop: Loop, events: EventLog, host: OsHost, notify_address: str) -> None: ...

    def boot(self) -> None: ...

    def on_notify(self, listener: NotifyListener) -> None: ...

    def on_signal(self, signum: int) -> None: ...


class OsWiring:
    def __init__(self, supervisor: Supervised, console: TextIO, *, console_output: bool) -> None:
        """Build everything; AlreadyRunning when another supervisor holds the state directory."""
        plan = supervisor.plan
        self._supervisor = supervisor
        self.open_files = _raise_open_file_limit()
        self.sentinel = Sentinel()
        self.lock = StateLock(plan.state_dir)
        try:
            self.lock.acquire()
        except BaseException:
            self.sentinel.close()
            raise
        self.output = OutputPump(
            plan.state_dir / LOGS_DIR,
            console,
            plan.logs.max_bytes,
            plan.logs.backups,
            names=[process.name for process in plan.processes],
            timestamps=plan.logs.timestamps,
            console_output=console_output,
        )
        self.output.start()
        self.events = EventLog(plan.state_dir, self.output.console_stream())
        self.loop = Loop(supervisor.clock)
        self.listener = NotifyListener()
        self.host = OsHost(self.loop, self.output, self.sentinel, self.events)
        stream = EventStream(self.events.emit)  # `subscribe` clients: every event as written
        self.events.add_listener(stream.publish)
        supervisor.containment = self.sentinel.containment  # for status
        supervisor.lend_to(
            Attachments(supervisor, self.loop, self.events.emit, self.host.lend_cgroup)
        )
        commands = CommandHandler(supervisor, stream)  # subscribes itself to the changes
        self.control = ControlServer(plan.state_dir, commands.handle, self.loop, self.events.emit)
        self.healer = StateDirHealer(
            plan.state_dir, self.loop, self.lock, self.control, self.events, supervisor.begin_stop
        )
        # So that a client whose file's state_dir was edited meanwhile still finds this one.
        self.registration = registry.record(plan.path, plan.state_dir)
        self.wakeup_read, self.wakeup_write = socket.socketpair()
        self.wakeup_write.setblocking(False)
        self.previous_handlers = {sig: signal.signal(sig, _ignore) for sig in _HANDLED_SIGNALS}
        signal.set_wakeup_fd(self.wakeup_write.fileno(), warn_on_full_buffer=False)

    def start(self) -> None:
        """Hand the supervisor its units' loop, host and sockets, and start every unit."""
        supervisor, loop, listener = self._supervisor, self.loop, self.listener
        loop.add_reader(listener.sock.fileno(), lambda: supervisor.on_notify(listener))
        loop.add_reader(self.wakeup_read.fileno(), self._on_signals)
        supervisor.attach(loop, self.events, self.host, listener.address)
        self.host.preloader.prepare(supervisor.plan.processes)  # imports overlap every wait
        self.events.emit(
            "supervisor",
            action="start",
            pid=os.getpid(),
            config=str(supervisor.plan.path),
            processes=len(supervisor.units),
            open_files=self.open_files,
        )
        supervisor.boot()
        loop.call_later(0, self.healer.start)  # after the first spawns: nothing waits on it

    def _on_signals(self) -> None:
        for signum in self.wakeup_read.recv(512):
            self._supervisor.on_signal(signum)

    def close(self) -> None:
        self.healer.stop()
        signal.set_wakeup_fd(-1)
        for sig, handler in self.previous_handlers.items():
            signal.signal(sig, handler)
        closables = (self.control, self.wakeup_read, self.wakeup_write, self.listener, self.host)
        closables += (self.loop, self.events, self.registration)
        for closable in closables:
            closable.close()
        self.sentinel.close()
        self.output.close()
        self.lock.release(remove=True)


def _raise_open_file_limit() -> int:
    """Raise the soft limit on open files to the hard one, so that many clients or processes
    do not run the supervisor out of descriptors; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # the soft limit stays; running out is handled where it happens
    return soft


def _ignore(signum: int, frame: object) -> None:
    """Python must have a handler for the wakeup fd to see the signal; the loop does the work."""
