"""A process forked from a template: a `host.ChildProcess` like an exec'd one.

It is the supervisor's own child (the template forks it with CLONE_PARENT), the leader of its
own process group, registered with the orphan guard and watched through a pidfd from the
moment its pid is known.  Until then (its template still importing) a signal the unit sends
withdraws the request and the run ends as if that signal had killed it, so a stop never waits
on an import; a template that cannot fork it ends the run with status 1 and says why.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from supervisor.daemon.cgroup import UnitCgroup
from supervisor.daemon.loop import Loop
from supervisor.daemon.spawn import signal_group


class ForkedChild:
    def __init__(
        self,
        loop: Loop,
        cgroup: UnitCgroup | None,
        on_exit: Callable[[], None],
        watch: Callable[[int], None],
        forget: Callable[[int], None],
    ) -> None:
        self.pid: int | None = None
        self.failure: str | None = None  # why the run ended without a process, for its cause
        self.note: str | None = None  # what the start did differently (a replaced template)
        self._loop = loop
        self._cgroup = cgroup
        self._on_exit = on_exit
        self._watch = watch
        self._forget = forget
        self._pidfd: int | None = None
        self._ended: int | None = None  # the status of a run that ended before its fork
        self.withdrawn = False

    @property
    def pending(self) -> bool:
        return self.pid is None and self._ended is None

    def born(self, pid: int) -> None:
        """The template forked it: watch it as the supervisor watches every child."""
        self._watch(pid)
        pidfd = os.pidfd_open(pid)
        if self.withdrawn:  # stopped before it was born: it never runs its service
            os.kill(pid, signal.SIGKILL)
            self._loop.add_reader(pidfd, lambda: _reap_stray(self._loop, pid, pidfd, self._forget))
            return
        self.pid, self._pidfd = pid, pidfd
        self._loop.add_reader(pidfd, self._on_exit)

    def fail(self, why: str, returncode: int = 1) -> None:
        """No process will come: the run ends with `returncode`, `why` in its cause."""
        if not self.pending:
            return
        self.failure = why
        self._ended = returncode
        self._loop.call_later(0, self._on_exit)

    def _withdraw(self, signum: int) -> None:
        self.withdrawn = True
        self._ended = -signum
        self._loop.call_later(0, self._on_exit)

    def signal(self, signum: int) -> None:
        if self.pid is None:
            if self.pending:
                self._withdraw(signum)
            return
        signal_group(self.pid, signum)

    def signal_leader(self, signum: int) -> None:
        if self.pid is None:
            if self.pending:
                self._withdraw(signum)
            return
        os.kill(self.pid, signum)

    def kill(self) -> None:
        if self.pid is None:
            if self.pending:
                self._withdraw(signal.SIGKILL)
            return
        signal_group(self.pid, signal.SIGKILL)
        if self._cgroup is not None:
            self._cgroup.kill()

    def reap(self) -> int | None:
        if self.pid is None:
            return self._ended
        signal_group(self.pid, signal.SIGKILL)  # what it left in its group (see OsChild.reap)
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return None
        if self._cgroup is not None:
            self._cgroup.kill_if_populated()
        assert self._pidfd is not None
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._forget(self.pid)
        return os.waitstatus_to_exitcode(status)


def _reap_stray(loop: Loop, pid: int, pidfd: int, forget: Callable[[int], None]) -> None:
    if os.waitpid(pid, os.WNOHANG)[0] == 0:
        return
    loop.remove_reader(pidfd)
    os.close(pidfd)
    forget(pid)
