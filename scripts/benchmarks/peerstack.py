"""One running daemon of one peer, launched in a fresh directory and watched through its pidfd
and the FIFO its children write to.

Not the project's own stack driver (`supervisor.testing.harness`): that one runs only
`supervisor run` and reads its event log, while this one runs any peer's daemon, with
posix_spawn in a session of its own, and learns of each child from the child itself."""

from __future__ import annotations

import contextlib
import math
import os
import select
import signal
import time
from pathlib import Path

import psutil

from benchmarks.peers import Peer
from benchmarks.processes import (
    MARKER_ENV,
    close_all,
    is_alive,
    kill_descendants,
    live_descendants,
    open_pidfds,
    reap_exited,
    reaped,
    wait_readable,
)
from benchmarks.settings import BenchError
from benchmarks.workload import LineListener

BRINGUP_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0


class Stack:
    """A peer's daemon supervising `count` children (and `floods` flood processes), launched in
    a fresh directory; its own stdout and stderr go to `console`, by default a file there."""

    def __init__(
        self,
        peer: Peer,
        run_dir: Path,
        count: int,
        run_id: str,
        *,
        grandchild: bool = False,
        floods: int = 0,
        console: Path | None = None,
    ) -> None:
        self.peer = peer
        self.count = count
        run_dir.mkdir(parents=True)
        self.run_dir = run_dir
        self.log_path = console or run_dir / "daemon.log"
        fifo = run_dir / "lines"
        self.listener = LineListener(fifo)
        argv = peer.command(run_dir, count, fifo, grandchild=grandchild, floods=floods)
        env = dict(os.environ, **{MARKER_ENV: run_id})
        with open(self.log_path, "wb") as out:
            actions = [
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, out.fileno(), 2),
            ]
            self.launched = time.monotonic()
            # A session of its own: a Ctrl-C on the bench's terminal reaches only the bench.
            self.pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
        self.pidfd = os.pidfd_open(self.pid)
        self.poller = select.poll()
        self.poller.register(self.listener.fd, select.POLLIN)
        self.poller.register(self.pidfd, select.POLLIN)
        self.stopped = False

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def daemon_exited(self) -> bool:
        return wait_readable([self.pidfd], time.monotonic())

    def failure(self, what: str) -> BenchError:
        reap_exited()
        status = reaped.get(self.pid)
        state = (
            f"daemon exited with status {os.waitstatus_to_exitcode(status)}"
            if status is not None
            else ("daemon exited" if self.daemon_exited() else "daemon still running")
        )
        try:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
        except OSError:
            tail = []
        detail = (" | log: " + " / ".join(line.strip() for line in tail)) if tail else ""
        return BenchError(f"{what}: {state}{detail}")

    def pump(self, timeout: float) -> list[int]:
        """Wait up to timeout for lines; returns new child pids. The daemon must stay alive."""
        for fd, _event in self.poller.poll(math.ceil(max(timeout, 0.0) * 1000)):
            if fd == self.pidfd:
                raise self.failure("daemon died unexpectedly")
        return self.listener.read()

    def pump_until(self, moment: float) -> list[int]:
        new: list[int] = []
        while (remaining := moment - time.monotonic()) > 0:
            new += self.pump(remaining)
        return new + self.pump(0)

    def wait_children(self, count: int, timeout: float = BRINGUP_TIMEOUT) -> float:
        """Wait until `count` distinct children wrote their line; returns when the last did."""
        deadline = time.monotonic() + timeout
        while len(self.listener.started) < count:
            if time.monotonic() > deadline:
                raise self.failure(
                    f"only {len(self.listener.started)} of {count} children came up in {timeout} s"
                )
            self.pump(min(deadline - time.monotonic(), 1.0))
        return max(self.listener.started.values())

    def service_pids(self) -> set[int]:
        return set(self.listener.started) | set(self.listener.grandchildren.values())

    def helpers(self) -> list[psutil.Process]:
        """Processes of the supervision tree that are not children: sentinels, s6-supervise."""
        services = self.service_pids()
        return [proc for proc in live_descendants(self.pid) if proc.pid not in services]

    def stop(self, timeout: float = STOP_TIMEOUT) -> float:
        """SIGTERM the daemon; seconds until it has exited and every child is gone."""
        running = [pid for pid in self.service_pids() if is_alive(pid)]
        fds = open_pidfds(running)
        try:
            started = time.monotonic()
            os.kill(self.pid, signal.SIGTERM)
            if not wait_readable([self.pidfd, *fds], started + timeout):
                raise self.failure(f"stop did not finish within {timeout} s")
            elapsed = time.monotonic() - started
        finally:
            close_all(fds)
        self.stopped = True
        reap_exited()
        return elapsed

    def leftovers_after_stop(self, grace: float = 1.0) -> int:
        """Processes still below the bench `grace` seconds after a graceful stop."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            reap_exited()
            if not live_descendants():
                return 0
            time.sleep(0.02)
        return len(live_descendants())

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        kill_descendants()
        self.listener.close()
        close_all([self.pidfd])
