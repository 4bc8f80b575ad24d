"""Starting and signalling one service process: its own process group, tied to our life."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import subprocess

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent(parent_pid: int) -> None:
    """Runs in the child between fork and exec: SIGKILL me when the supervisor dies."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the supervisor died before prctl took effect
        os._exit(1)


def spawn(
    argv: tuple[str, ...], env: dict[str, str], directory: str | None, stdout: int, stderr: int
) -> tuple[subprocess.Popen[bytes], int]:
    """Exec `argv` as the leader of a new process group; return it and a pidfd for its exit."""
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=directory,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        process_group=0,
        preexec_fn=functools.partial(_die_with_parent, os.getpid()),
    )
    return process, os.pidfd_open(process.pid)


def signal_group(pgid: int, signum: int) -> None:
    """Signal a whole process group; a group that is already gone is not an error."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)
