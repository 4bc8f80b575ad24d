"""What putting each child in its unit's cgroup costs a spawn, against the ways not taken.

Each round starts `/bin/true` once per way, in turn, so a busy machine slows every way alike:

* none: `spawn()` with no cgroup (process-group containment);
* cgroup: `spawn()` into a unit's cgroup, as the supervisor does (it steps in, spawns, and
  steps back: the child is born inside);
* after: write the child's pid to cgroup.procs once Popen returns (a child that forks at once
  can escape before the write);
* trampoline: exec through `/bin/sh -c 'echo $$ > cgroup.procs && exec "$@"'` (one more exec);
* clone3: what a preload template does (`runtime/template/clone.py`): clone3 with
  CLONE_INTO_CGROUP, born in the cgroup with no migration of anyone, then exec in the child
  (a template's fork runs Python instead of exec'ing; the placement is the same).

Two figures per way: the time the supervisor's loop is held by the spawn, and the time until
the child has run and exited (where the trampoline's extra exec shows).  Needs a writable cgroup
v2.  Usage: scripts/bench spawn [--rounds 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from supervisor.daemon.cgroup import CgroupStack, UnitCgroup
from supervisor.daemon.spawn import spawn
from supervisor.runtime.template.clone import fork_sibling

TRUE = ("/bin/true",)
_TRAMPOLINE = 'echo $$ > "$0/cgroup.procs" && exec "$@"'


def _spawn_none(unit: UnitCgroup) -> subprocess.Popen[bytes]:
    return _closed(spawn(TRUE, dict(os.environ), None, 1, 2))


def _spawn_cgroup(unit: UnitCgroup) -> subprocess.Popen[bytes]:
    return _closed(spawn(TRUE, dict(os.environ), None, 1, 2, unit))


def _spawn_after(unit: UnitCgroup) -> subprocess.Popen[bytes]:
    process = _closed(spawn(TRUE, dict(os.environ), None, 1, 2))
    try:
        with open(unit.path / "cgroup.procs", "w") as procs:
            procs.write(str(process.pid))
    except OSError:
        pass  # it has already exited: the race this way loses
    return process


def _spawn_trampoline(unit: UnitCgroup) -> subprocess.Popen[bytes]:
    argv = ("/bin/sh", "-c", _TRAMPOLINE, str(unit.path), *TRUE)
    return _closed(spawn(argv, dict(os.environ), None, 1, 2))


class _Cloned:
    """A child made by clone3, waited for as a Popen is."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def wait(self) -> int:
        return os.waitpid(self.pid, 0)[1]


def _spawn_clone3(unit: UnitCgroup) -> _Cloned:
    directory = unit.directory_fd()
    try:
        pid, _ = fork_sibling(directory, sibling=False)
        if pid == 0:
            try:
                os.execv(TRUE[0], TRUE)
            finally:
                os._exit(127)
    finally:
        if directory is not None:
            os.close(directory)
    return _Cloned(pid)


def _closed(started: tuple[subprocess.Popen[bytes], int]) -> subprocess.Popen[bytes]:
    process, pidfd = started
    os.close(pidfd)
    return process


WAYS: dict[str, Callable[[UnitCgroup], subprocess.Popen[bytes] | _Cloned]] = {
    "none": _spawn_none,
    "cgroup": _spawn_cgroup,
    "after": _spawn_after,
    "trampoline": _spawn_trampoline,
    "clone3": _spawn_clone3,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench spawn", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args(argv)
    stack = CgroupStack.create(f"supervisor-bench-{os.getpid()}")
    if stack is None:
        print("bench spawn: cgroup v2 is not writable here", file=sys.stderr)
        return 1
    held: dict[str, list[float]] = {way: [] for way in WAYS}
    done: dict[str, list[float]] = {way: [] for way in WAYS}
    try:
        unit = stack.unit("bench")
        with unit.hosting():
            pass  # make the unit's cgroup before the first round
        for _ in range(args.rounds):
            for way, start in WAYS.items():
                began = time.perf_counter()
                process = start(unit)
                returned = time.perf_counter()
                process.wait()
                ended = time.perf_counter()
                held[way].append((returned - began) * 1000)
                done[way].append((ended - began) * 1000)
    finally:
        stack.close()
    print(f"{args.rounds} spawns of /bin/true per way, interleaved; milliseconds")
    print(f"{'way':<12}{'held p50':>10}{'held p90':>10}{'exited p50':>12}{'exited p90':>12}")
    for way in WAYS:
        h, d = _quantiles(held[way]), _quantiles(done[way])
        print(f"{way:<12}{h[0]:>10.3f}{h[1]:>10.3f}{d[0]:>12.3f}{d[1]:>12.3f}")
    return 0


def _quantiles(values: list[float]) -> tuple[float, float]:
    deciles = statistics.quantiles(values, n=10)
    return statistics.median(values), deciles[8]
