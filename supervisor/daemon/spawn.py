"""Starting and signalling one service process, as the leader of its own process group.

No code runs between fork and exec (no preexec_fn), so CPython can use vfork: a spawn costs
the same whatever the supervisor's size, and is safe beside the output threads.  Where the unit
has a cgroup, the spawn happens while the supervisor stands in it, so the child is born inside
(see cgroup.py).
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess

from supervisor.daemon.cgroup import UnitCgroup


def spawn(
    argv: tuple[str, ...],
    env: dict[str, str],
    directory: str | None,
    stdout: int,
    stderr: int,
    cgroup: UnitCgroup | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """Exec `argv` as the leader of a new process group, in `cgroup` if given; return it and a
    pidfd for its exit."""
    with cgroup.hosting() if cgroup is not None else contextlib.nullcontext():
        process = _popen(argv, env, directory, stdout, stderr)
    return process, os.pidfd_open(process.pid)


def _popen(
    argv: tuple[str, ...], env: dict[str, str], directory: str | None, stdout: int, stderr: int
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        env=env,
        cwd=directory,
        stdin=_devnull(),
        stdout=stdout,
        stderr=stderr,
        process_group=0,
    )


@functools.cache
def _devnull() -> int:
    """One /dev/null for every child's stdin, opened once rather than on every spawn."""
    return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)


def signal_group(pgid: int, signum: int) -> None:
    """Signal a whole process group; a group that is already gone is not an error."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)
