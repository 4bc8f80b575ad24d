"""Readiness probes: a program run beside a starting service until it says the service answers.

A service that does not speak sd_notify (RabbitMQ, a web server, a database) is "running" after
a timer at best.  With `[services.NAME.readiness] exec = [...]` the unit stays `starting` until
the probe exits 0: it runs every `period` seconds, each run SIGKILLed (with its process group)
after `timeout`.  Runs never overlap, and the next one is scheduled only when the previous has
ended, so a slow probe slows the checks down rather than piling them up.  Each run is a child of
the supervisor started like a service (own process group, no preexec_fn) and watched through a
pidfd on the supervisor's loop: no thread, no polling.  A probe that cannot be executed counts
as a failed run; the unit's start timeout bounds the whole wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable

from supervisor.config.services import Readiness
from supervisor.daemon.loop import Loop, Timer
from supervisor.daemon.spawn import signal_group, spawn


class ExecProbe:
    """Runs `readiness.exec` until it succeeds once, then calls `on_pass`.

    `on_failure` hears why each failed run failed (e.g. "exit status 69"), for the unit's cause.
    `watch`/`forget` register each run's process group with the orphan guard.
    """

    def __init__(
        self,
        loop: Loop,
        readiness: Readiness,
        *,
        env: dict[str, str],
        directory: str | None,
        on_pass: Callable[[], None],
        on_failure: Callable[[str], None],
        watch: Callable[[int], None],
        forget: Callable[[int], None],
    ) -> None:
        self._loop = loop
        self._readiness = readiness
        self._env = env
        self._directory = directory
        self._on_pass = on_pass
        self._on_failure = on_failure
        self._watch = watch
        self._forget = forget
        self._process: subprocess.Popen[bytes] | None = None
        self._pidfd: int | None = None
        self._timer: Timer | None = None
        self._timed_out = False
        self.runs = 0

    def start(self) -> None:
        self._run()

    def cancel(self) -> None:
        """Stop probing: no further run, and the one in progress is killed and reaped."""
        self._cancel_timer()
        if self._process is not None:
            signal_group(self._process.pid, signal.SIGKILL)
            self._process.wait()
            self._release()

    def _run(self) -> None:
        self._timer = None
        self._timed_out = False
        self.runs += 1
        try:
            self._process, self._pidfd = spawn(
                self._readiness.exec,
                self._env,
                self._directory,
                subprocess.DEVNULL,
                subprocess.DEVNULL,
            )
        except OSError as error:
            self._failed(f"cannot execute {self._readiness.exec[0]}: {error.strerror}")
            return
        self._watch(self._process.pid)
        self._loop.add_reader(self._pidfd, self._on_exit)
        self._timer = self._loop.call_later(self._readiness.timeout, self._on_timeout)

    def _on_timeout(self) -> None:
        self._timer = None
        if self._process is not None:
            self._timed_out = True
            signal_group(self._process.pid, signal.SIGKILL)

    def _on_exit(self) -> None:
        assert self._process is not None
        # The leftovers of a run (a probe that forked) go with it, as a service's do.
        signal_group(self._process.pid, signal.SIGKILL)
        returncode = self._process.poll()
        if returncode is None:
            return
        self._cancel_timer()
        self._release()
        if returncode == 0:
            self._on_pass()
        elif self._timed_out:
            self._failed(f"no answer within {self._readiness.timeout:g}s")
        elif returncode < 0:
            self._failed(f"killed by {signal.Signals(-returncode).name}")
        else:
            self._failed(f"exit status {returncode}")

    def _failed(self, why: str) -> None:
        self._on_failure(why)
        self._timer = self._loop.call_later(self._readiness.period, self._run)

    def _release(self) -> None:
        assert self._process is not None and self._pidfd is not None
        self._loop.remove_reader(self._pidfd)
        with contextlib.suppress(OSError):
            os.close(self._pidfd)
        self._forget(self._process.pid)
        self._process = None
        self._pidfd = None

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
