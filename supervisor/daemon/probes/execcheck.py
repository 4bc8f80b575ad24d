"""An `exec` probe run: a program started like a service, healthy when it exits 0.

Each run is a child of the supervisor in its own process group (no preexec_fn), watched through
a pidfd on the loop: no thread, no polling.  What a run leaves behind (a probe that forked) is
killed with it, and an aborted run (its timeout) is SIGKILLed with its group and reaped at once,
so no probe process outlives its run.  A program that cannot be executed is a failed run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable

from supervisor.config.identity import RunAs
from supervisor.daemon.loop import Loop
from supervisor.daemon.probes.runner import Done
from supervisor.daemon.spawn import signal_group, spawn


class ExecCheck:
    """`watch`/`forget` register each run's process group with the orphan guard."""

    def __init__(
        self,
        loop: Loop,
        argv: tuple[str, ...],
        *,
        env: dict[str, str],
        directory: str | None,
        watch: Callable[[int], None],
        forget: Callable[[int], None],
        run_as: RunAs | None = None,
    ) -> None:
        self._loop = loop
        self._run_as = run_as  # the service's `user`/`group`: a probe runs as its process does
        self._argv = argv
        self._env = env
        self._directory = directory
        self._watch = watch
        self._forget = forget
        self._process: subprocess.Popen[bytes] | None = None
        self._pidfd: int | None = None
        self._done: Done | None = None

    def begin(self, done: Done) -> None:
        try:
            self._process, self._pidfd = spawn(
                self._argv,
                self._env,
                self._directory,
                subprocess.DEVNULL,
                subprocess.DEVNULL,
                run_as=self._run_as,
            )
        except OSError as error:
            done(f"cannot execute {self._argv[0]}: {error.strerror}")
            return
        self._done = done
        self._watch(self._process.pid)
        self._loop.add_reader(self._pidfd, self._on_exit)

    def abort(self) -> None:
        if self._process is not None:
            signal_group(self._process.pid, signal.SIGKILL)
            self._process.wait()  # SIGKILL cannot be refused: this is the reaping, not a wait
            self._release()

    def _on_exit(self) -> None:
        assert self._process is not None and self._done is not None
        # Until it is reaped the leader keeps its group id reserved: this reaches only its own.
        signal_group(self._process.pid, signal.SIGKILL)
        returncode = self._process.poll()
        if returncode is None:
            return
        done = self._done
        self._release()
        if returncode == 0:
            done(None)
        elif returncode < 0:
            done(f"killed by {signal.Signals(-returncode).name}")
        else:
            done(f"exit status {returncode}")

    def _release(self) -> None:
        assert self._process is not None and self._pidfd is not None
        self._loop.remove_reader(self._pidfd)
        with contextlib.suppress(OSError):
            os.close(self._pidfd)
        self._forget(self._process.pid)
        self._process = None
        self._pidfd = None
        self._done = None
