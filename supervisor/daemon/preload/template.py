"""One template process as the supervisor holds it: started, asked to fork, watched, replaced.

The template is exec'd like a service (its own process group, registered with the orphan
guard, in a cgroup of its own where cgroups are in use, its output to `<name>.log`), with one
end of a SOCK_SEQPACKET pair.  A fork request carries the process's argv, environment,
directory and title, and its stdin, stdout, stderr and cgroup directory as SCM_RIGHTS.  While
the template is ready a request is answered at once (the loop waits for that reply, a fork's
few milliseconds, so the unit gets its pid as from an exec); while it still imports, replies
come later through the loop.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from supervisor.daemon.cgroup import UnitCgroup
from supervisor.daemon.host import EventSink
from supervisor.daemon.loop import Loop
from supervisor.daemon.output import OutputPump
from supervisor.daemon.preload.forked import ForkedChild
from supervisor.daemon.sentinel import Sentinel
from supervisor.daemon.spawn import signal_group
from supervisor.shared import preloadwire

TEMPLATE_MODULE = "supervisor.runtime.template"
_instances = itertools.count(1)
REPLY_TIMEOUT = 10.0  # a ready template that does not answer a fork by then is replaced


@dataclass(frozen=True)
class TemplateSpec:
    """What a template is made of: processes whose spec differ only in these share one."""

    name: str
    runtime: str
    python: str
    env: tuple[tuple[str, str], ...]
    directory: str | None
    binaries: tuple[str, ...]
    managers: tuple[str, ...]


@dataclass
class _Request:
    child: ForkedChild
    message: dict[str, Any]
    fds: list[int]  # the daemon's own copies, kept until answered (a successor may need them)


class Template:
    def __init__(
        self,
        spec: TemplateSpec,
        loop: Loop,
        output: OutputPump,
        sentinel: Sentinel,
        events: EventSink,
        on_gone: Callable[[Template, str], None],
    ) -> None:
        self.spec = spec
        self._loop = loop
        self._output = output
        self._sentinel = sentinel
        self._events = events
        self._on_gone = on_gone
        self.state = "starting"  # → ready | broken | gone
        self.error: str | None = None
        self.modules: int | None = None  # imported, once ready
        self.forks = 0
        self._pending: dict[int, _Request] = {}
        self._next_id = 0
        self._reaped = False
        # A cgroup of its own instance: a successor starts while this one is still being
        # reaped, and the reaping kills and removes this one's cgroup.
        self.cgroup: UnitCgroup | None = sentinel.unit_cgroup(f"{spec.name}@{next(_instances)}")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = ours
        env = dict(spec.env)
        env[preloadwire.CONFIG_ENV] = json.dumps(
            {
                "name": spec.name,
                "runtime": spec.runtime,
                "binaries": spec.binaries,
                "managers": spec.managers,
            }
        )
        env[preloadwire.SOCKET_FD_ENV] = str(theirs.fileno())
        self.started_at = time.monotonic()
        try:
            with self._output.attach(spec.name) as pipes:
                hosting = self.cgroup.hosting() if self.cgroup is not None else _nothing()
                with hosting:
                    self._process = subprocess.Popen(
                        (spec.python, "-m", TEMPLATE_MODULE),
                        env=env,
                        cwd=spec.directory,
                        stdin=subprocess.DEVNULL,
                        stdout=pipes.stdout,
                        stderr=pipes.stderr,
                        process_group=0,
                        pass_fds=(theirs.fileno(),),
                    )
        finally:
            theirs.close()
        self.pid = self._process.pid
        self._sentinel.watch(self.pid)
        self._pidfd = os.pidfd_open(self.pid)
        self._loop.add_reader(self._pidfd, self._on_exit)
        self._sock.setblocking(False)
        self._loop.add_reader(self._sock.fileno(), self._on_readable)
        self._events.emit("preload", template=spec.name, action="start", pid=self.pid)

    # -- forking ------------------------------------------------------------------------------

    def fork(self, child: ForkedChild, message: dict[str, Any], fds: list[int]) -> None:
        """Ask for one process; `child` learns its pid (or its failure) from the reply."""
        self._next_id += 1
        message = {**message, "op": "fork", "id": self._next_id}
        request = _Request(child, message, fds)
        self._pending[self._next_id] = request
        try:
            preloadwire.send(self._sock, message, fds)
        except OSError as error:
            self._pending.pop(self._next_id)
            child.fail(f"preload {self.spec.name}: cannot reach the template: {error}")
            self._close_fds(request)
            return
        if self.state == "ready":
            self._wait_for(self._next_id)

    def take_pending(self) -> list[_Request]:
        """The requests not answered yet, for the template that replaces this one."""
        pending = []
        for request in self._pending.values():
            if request.child.pending:
                pending.append(request)
            else:
                self._close_fds(request)
        self._pending.clear()
        return pending

    def _close_fds(self, request: _Request) -> None:
        for fd in request.fds:
            os.close(fd)
        request.fds = []

    def _wait_for(self, request_id: int) -> None:
        deadline = time.monotonic() + REPLY_TIMEOUT
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        while request_id in self._pending and self.state == "ready":
            left = deadline - time.monotonic()
            if left <= 0:
                self._events.emit(
                    "preload", template=self.spec.name, action="replace", cause="no reply"
                )
                self.stop()
                self._on_gone(self, f"no reply to a fork within {REPLY_TIMEOUT:g}s")
                return
            if poller.poll(left * 1000):
                self._on_readable()
            else:
                continue

    # -- what the template says ----------------------------------------------------------------

    def _on_readable(self) -> None:
        while True:
            try:
                message, fds = preloadwire.receive(self._sock)
            except BlockingIOError:
                return
            except OSError:
                message, fds = None, []
            for fd in fds:
                os.close(fd)
            if message is None:
                self._loop.remove_reader(self._sock.fileno())
                return
            self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "ready":
            self.state = "ready"
            self.modules = message.get("modules")
            self._events.emit(
                "preload",
                template=self.spec.name,
                action="ready",
                pid=self.pid,
                modules=message.get("modules"),
                seconds=message.get("seconds"),
            )
            for manager, error in (message.get("errors") or {}).items():
                self._events.emit(
                    "preload", template=self.spec.name, action="import-error",
                    manager=manager, cause=error,
                )  # fmt: skip
            return
        if op == "broken":
            self.state = "broken"
            self.error = f"preload {self.spec.name} failed: {message.get('error')}"
            self._events.emit("preload", template=self.spec.name, action="broken", cause=self.error)
            return
        request = self._pending.pop(int(message.get("id", -1)), None)
        if request is None:
            return
        child = request.child
        if op != "stale":
            self._close_fds(request)
        if op == "forked":
            child.born(int(message["pid"]))
            self.forks += 1
            if message.get("error"):
                child.failure = f"preload {self.spec.name}: {message['error']}"
            self._events.emit(
                "preload",
                template=self.spec.name,
                action="forked",
                pid=message["pid"],
                clone=message.get("clone"),
            )
        elif op == "stale":
            # Not forked: put back, for the template that replaces this one.
            self._pending[request.message["id"]] = request
            cause = str(message.get("cause"))
            self._events.emit("preload", template=self.spec.name, action="replace", cause=cause)
            child.note = f"forked from a fresh template: {cause}"
            self.stop()
            self._on_gone(self, cause)
        else:
            child.fail(f"preload {self.spec.name}: {message.get('error')}")

    def describe(self) -> dict[str, Any]:
        """The template as `status --json` shows it."""
        return {
            "name": self.spec.name,
            "pid": self.pid,
            "state": self.state,
            "modules": self.modules,
            "forks": self.forks,
            "binaries": list(self.spec.binaries),
            "error": self.error,
        }

    # -- its end -------------------------------------------------------------------------------

    def _on_exit(self) -> None:
        returncode = self._process.poll()
        if returncode is None or self._reaped:
            return
        self._reaped = True
        signal_group(self.pid, signal.SIGKILL)
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._sentinel.forget(self.pid)
        self._sentinel.flush()
        if self.cgroup is not None:
            with contextlib.suppress(FileNotFoundError):  # already gone: nothing to clean
                self.cgroup.kill()
                self.cgroup.remove()
        was = self.state
        self.state = "gone" if was != "broken" else was
        self._close_socket()
        why = self.error or f"preload {self.spec.name} exited with status {returncode}"
        for request in self._pending.values():
            self._close_fds(request)
            request.child.fail(why)
        self._pending.clear()
        self._events.emit(
            "preload", template=self.spec.name, action="exit", pid=self.pid, status=returncode
        )
        if was == "ready":
            self._on_gone(self, f"the template exited with status {returncode}")

    def stop(self) -> None:
        """End it: its forked processes are the supervisor's and go on."""
        if self.state in ("gone", "stopping"):
            return
        self.state = "stopping"
        self._close_socket()
        signal_group(self.pid, signal.SIGKILL)

    def _close_socket(self) -> None:
        if self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()

    def close(self) -> None:
        """At the supervisor's exit: killed and reaped, before the output pump closes."""
        self.stop()
        if self._process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(5.0)
        self._on_exit()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
