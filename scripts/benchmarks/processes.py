"""Process bookkeeping for the peer comparison: the bench is a child subreaper, so everything it
started stays below it, where it is reaped, counted, timed and killed in the end."""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import select
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from benchmarks.settings import BenchError, log

# Every process a run starts carries it, so a last sweep finds what escaped the subreaper.
MARKER_ENV = "CINDER_STACK_BENCH_RUN"
PR_SET_CHILD_SUBREAPER = 36

reaped: dict[int, int] = {}


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_exited() -> None:
    """Reap every exited child of the bench (daemons and orphans re-parented to it)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        reaped[pid] = status


def is_alive(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in (b"Z", b"X")


def live_descendants(root: int | None = None) -> list[psutil.Process]:
    """Living (non-zombie) descendants of root, by default of the bench itself."""
    try:
        found = psutil.Process(root or os.getpid()).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [proc for proc in found if is_alive(proc.pid)]


def kill_descendants() -> int:
    """SIGKILL everything below the bench until nothing is left; returns how many were killed."""
    killed: set[int] = set()
    for _ in range(500):
        reap_exited()
        procs = live_descendants()
        if not procs:
            return len(killed)
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGKILL)
                killed.add(proc.pid)
        time.sleep(0.01)
    raise BenchError(f"could not clean up: {len(live_descendants())} processes keep coming back")


def kill_marked(run_id: str) -> int:
    """Last resort: kill any process anywhere that carries this run's environment marker."""
    killed = 0
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.pid != os.getpid() and proc.environ().get(MARKER_ENV) == run_id:
                proc.kill()
                killed += 1
    reap_exited()
    return killed


@contextlib.contextmanager
def cleaned_up(work: Path, run_id: str, *, keep: bool) -> Iterator[None]:
    """Every process the run started is gone on the way out, however it ends, and its work
    directory too unless it is to be kept."""
    try:
        yield
    finally:
        kill_descendants()
        kill_marked(run_id)
        if keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def wait_readable(fds: list[int], deadline: float) -> bool:
    """Wait until every fd (pidfds here) is readable; False on reaching the deadline."""
    pending = set(fds)
    poller = select.poll()
    for fd in pending:
        poller.register(fd, select.POLLIN)
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        for fd, _event in poller.poll(math.ceil(remaining * 1000)):
            pending.discard(fd)
            poller.unregister(fd)
    return True


def open_pidfds(pids: list[int]) -> list[int]:
    fds = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            fds.append(os.pidfd_open(pid))
    return fds


def close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def schedstat_works() -> bool:
    try:
        with open(f"/proc/{os.getpid()}/schedstat") as stat:
            return int(stat.read().split()[0]) > 0
    except (OSError, ValueError, IndexError):
        return False


USE_SCHEDSTAT = schedstat_works()
CPU_METHOD = (
    "/proc/PID/task/*/schedstat (ns resolution)"
    if USE_SCHEDSTAT
    else "psutil cpu_times (clock-tick resolution)"
)


def cpu_ns(pid: int) -> int:
    """CPU time (user + system) consumed so far by every thread of pid, in nanoseconds."""
    if USE_SCHEDSTAT:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with (
                contextlib.suppress(FileNotFoundError),
                open(f"/proc/{pid}/task/{task}/schedstat") as stat,
            ):
                total += int(stat.read().split()[0])
        return total
    times = psutil.Process(pid).cpu_times()
    return int((times.user + times.system) * 1e9)
