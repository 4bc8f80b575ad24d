"""Starting and signalling one service process, as the leader of its own process group.

No code runs between fork and exec (no preexec_fn), so CPython can use vfork: a spawn costs
the same whatever the supervisor's size, and is safe beside the output threads.  Where the unit
has a cgroup, the spawn happens while the supervisor stands in it, so the child is born inside
(see cgroup.py).

A service with `user`/`group` is spawned by root with Popen's user=, group= and extra_groups=
(still no preexec_fn; CPython then forks rather than vforks, for those spawns alone).  The log
files stay the supervisor's: the child writes only to its pipes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
from typing import Any

from supervisor.config.identity import RunAs, switches
from supervisor.daemon.cgroup import UnitCgroup


def spawn(
    argv: tuple[str, ...],
    env: dict[str, str],
    directory: str | None,
    stdout: int,
    stderr: int,
    cgroup: UnitCgroup | None = None,
    run_as: RunAs | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """Exec `argv` as the leader of a new process group, in `cgroup` if given, as `run_as` if
    given; return it and a pidfd for its exit."""
    with cgroup.hosting() if cgroup is not None else contextlib.nullcontext():
        process = _popen(argv, env, directory, stdout, stderr, run_as)
    return process, os.pidfd_open(process.pid)


def _popen(
    argv: tuple[str, ...],
    env: dict[str, str],
    directory: str | None,
    stdout: int,
    stderr: int,
    run_as: RunAs | None,
) -> subprocess.Popen[bytes]:
    identity: dict[str, Any] = {}
    if run_as is not None and switches(run_as):
        identity = {"user": run_as.uid, "group": run_as.gid, "extra_groups": list(run_as.groups)}
    return subprocess.Popen(
        argv,
        env=env,
        cwd=directory,
        stdin=_devnull(),
        stdout=stdout,
        stderr=stderr,
        process_group=0,
        **identity,
    )


def stdin_fd() -> int:
    """The /dev/null every child gets as stdin (a forked one too)."""
    return _devnull()


@functools.cache
def _devnull() -> int:
    """One /dev/null for every child's stdin, opened once rather than on every spawn."""
    return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)


def signal_group(pgid: int, signum: int) -> None:
    """Signal a whole process group; a group that is already gone is not an error."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)
