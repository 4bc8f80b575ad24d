#!/usr/bin/env python3
"""Benchmark our supervisor against a bare respawn loop and three well-known supervisors.

For every peer, in one run on this host:

* restart latency: from SIGKILL of a child to the first line of its successor (p50, p90);
* bring-up: from launching the daemon until 3 (and 100) children have each written a line;
* stop: from SIGTERM to the daemon until it has exited and all 100 children are gone;
* idle CPU (% of one core) and RSS of the daemon while it supervises 100 children;
* survivors: children and grandchildren still alive 1 s after the daemon is SIGKILLed;
* flood: restart latency again, without and then with services that write to stdout as fast as
  the peer takes it into rotating log files, and that throughput (see `measure_flood`).

Peers: ``ours`` (``supervisor run``), ``bare`` (a fork/exec + waitpid loop written below: the
floor), ``supervisord`` and ``circus`` (installed with pip into a cached throwaway venv) and
``s6`` (only where Debian's s6 package is installed).

Every child is the same shell one-liner, ``echo up $$ > FIFO; exec sleep 3600``: it writes one
short line (atomic, being under PIPE_BUF) to a FIFO the bench listens on, then becomes a
sleeping process with the same pid.  The bench makes itself a child subreaper, so every process
a peer leaves behind is re-parented to the bench, where it is counted and then killed.

`--only-flood` runs the flood test alone; `--no-flood` leaves it out.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import inspect
import json
import math
import os
import platform
import random
import re
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

import psutil

REPO = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
ALL_PEERS = ("bare", "ours", "supervisord", "circus", "s6")
PEER_ALIASES = {"supervisor": "ours", "floor": "bare"}
MARKER_ENV = "CINDER_STACK_BENCH_RUN"
PR_SET_CHILD_SUBREAPER = 36

BRINGUP_TIMEOUT = 60.0
RESTART_TIMEOUT = 20.0
STOP_TIMEOUT = 60.0
SETTLE_BEFORE_STOP = 0.5
SETTLE_BEFORE_IDLE = 2.0
SETTLE_BEFORE_KILL = 0.5
SURVIVOR_WAIT = 1.0
MIN_KILLS_BEFORE_BUDGET = 5
CHILD_STOP_TIMEOUT = 10
SMALL_STACK = 3

# The flood test: rotation of every flood log, the output's shape, and how long to wait for it.
FLOOD_LOG_MAX_BYTES = 10 * MIB
FLOOD_LOG_BACKUPS = 2
FLOOD_BLOCK = 64 * 1024
FLOOD_LINE = 128
FLOOD_DIGITS = 20
FLOOD_MARK = re.compile(
    rb"(?<![0-9])([0-9]{%d})-{%d}\n" % (FLOOD_DIGITS, FLOOD_LINE - FLOOD_DIGITS - 1)
)
FLOOD_START_TIMEOUT = 20.0
SETTLE_BEFORE_FLOOD = 1.0
MB = 1_000_000

# The targets our supervisor is held to; ratios are against the bare loop.
TARGET_RESTART_RATIO = 1.2
TARGET_BRINGUP_RATIO = 1.2
TARGET_STOP_RATIO = 2.0
TARGET_IDLE_CPU_PCT = 0.02
TARGET_RSS_MIB = 20.0


class BenchError(Exception):
    """A peer misbehaved (died, timed out, failed to start); its remaining metrics are skipped."""


# ----------------------------------------------------------------------------------------------
# The floor: a bare fork/exec + waitpid respawn loop.  It runs in its own interpreter, started
# with `python -I -c <the source of this function>`, so it pays for nothing but Python's start.


def bare_loop(count: int, argv: list[str]) -> None:
    """Keep `count` copies of argv running, respawning each one the moment it is reaped."""
    import os
    import signal

    children: set[int] = set()
    stopping = False

    def forward_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:  # noqa: SIM105 - the floor imports nothing it does not need
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        children.add(pid)
        if stopping:
            os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward_stop)
    signal.signal(signal.SIGINT, forward_stop)
    for _ in range(count):
        spawn()
    while children:
        pid, _status = os.wait()
        children.discard(pid)
        if not stopping:
            spawn()


# ----------------------------------------------------------------------------------------------
# The flood: a service that writes to stdout as fast as its supervisor reads.  It runs as a
# script of its own (`flood_command`), so every peer can start it from a one-line command.


def flood_writer(block: int, line: int, digits: int) -> None:
    """Write `block`-byte blocks of `line`-byte lines to stdout, forever, as fast as it goes.

    Each block opens with a marker line holding the block's number, so the bench can tell from
    the tail of a log file how many bytes have reached the log so far, whatever was rotated away.
    """
    import sys

    out = sys.stdout.buffer
    filler = (b"x" * (line - 1) + b"\n") * (block // line - 1)
    dashes = b"-" * (line - digits - 1)
    number = 0
    while True:
        out.write(b"%0*d%s\n" % (digits, number, dashes) + filler)
        number += 1


def flood_command(run_dir: Path) -> list[str]:
    """Write the flood script into run_dir; returns the argv that runs it."""
    script = run_dir / "flood.py"
    call = f"flood_writer({FLOOD_BLOCK}, {FLOOD_LINE}, {FLOOD_DIGITS})"
    script.write_text(inspect.getsource(flood_writer) + f"\n\n{call}\n")
    return [sys.executable, "-I", str(script)]


def flood_landed(log: Path) -> int:
    """Bytes of flood output in a log so far, counted to the end of the newest block whose marker
    is in the log's tail or, just after a rotation, in its first backup's; 0 before the first."""
    for path in (log, log.with_name(f"{log.name}.1")):
        try:
            with open(path, "rb") as file:
                file.seek(max(os.fstat(file.fileno()).st_size - 2 * FLOOD_BLOCK, 0))
                marks = FLOOD_MARK.findall(file.read())
        except FileNotFoundError:
            continue
        if marks:
            return (int(marks[-1]) + 1) * FLOOD_BLOCK
    return 0


# ----------------------------------------------------------------------------------------------
# Process bookkeeping: the bench is a child subreaper, so everything it started stays below it.

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


# ----------------------------------------------------------------------------------------------
# The FIFO every child writes its line to.


class LineListener:
    """Reads `up PID [GRANDCHILD_PID]` lines and stamps the first line of each child pid."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        # O_RDWR keeps a writer open, so the FIFO never reports EOF between children.
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self.buffer = b""
        self.started: dict[int, float] = {}
        self.grandchildren: dict[int, int] = {}

    def read(self) -> list[int]:
        """Drain what is there; returns the pids of children seen for the first time."""
        new: list[int] = []
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.buffer += chunk
        stamp = time.monotonic()
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            words = line.split()
            if len(words) < 2 or words[0] != b"up":
                continue
            pid = int(words[1])
            if len(words) > 2:
                self.grandchildren[pid] = int(words[2])
            if pid not in self.started:
                self.started[pid] = stamp
                new.append(pid)
        return new

    def close(self) -> None:
        close_all([self.fd])


def child_script(fifo: Path, *, grandchild: bool = False, ready_fd: int | None = None) -> str:
    """The shell text every peer runs: one line to the FIFO, then sleep under the same pid."""
    spawn = "sleep 3600 & echo up $$ $!" if grandchild else "echo up $$"
    ready = f"; echo >&{ready_fd}" if ready_fd is not None else ""
    return f"{spawn} > {shlex.quote(str(fifo))}{ready}; exec sleep 3600"


# ----------------------------------------------------------------------------------------------
# Peers: each one writes its configuration and says how to launch its daemon in the foreground.


@dataclass
class Settings:
    kills: int
    restart_budget: float
    kill_jitter: float
    rounds: int
    many: int
    idle_seconds: float
    min_age: float
    circus_check_delay: float
    cache_dir: Path
    flood_budget: float
    floods: int


class Peer:
    name: ClassVar[str]
    title: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def unavailable(self) -> str | None:
        """Why this peer cannot run here, or None."""
        return None

    def prepare(self) -> None:
        """Install or check whatever the peer needs, before anything is timed."""

    @property
    def poll_period(self) -> float:
        """How often the peer looks for dead children when it does not react to them at once."""
        return 0.0

    def version(self) -> str:
        return ""

    def configuration(self) -> str:
        """What was configured to make the comparison fair, for the report."""
        return ""

    def flood_capture(self) -> str | None:
        """How the peer is set up to write a service's output to rotating log files, for the
        report; None: the bench has no such set-up for it, and it sits the flood test out."""
        return None

    def flood_log(self, run_dir: Path, number: int) -> Path:
        """The current log file of flood process `number` (1, 2, ...)."""
        raise NotImplementedError

    def command(
        self, run_dir: Path, count: int, fifo: Path, *, grandchild: bool, floods: int = 0
    ) -> list[str]:
        """Write the configuration: `count` children and `floods` flood processes."""
        raise NotImplementedError


class BarePeer(Peer):
    name = "bare"
    title = "bare fork/exec loop"

    def version(self) -> str:
        return f"Python {platform.python_version()}"

    def configuration(self) -> str:
        return "respawns in the waitpid loop with no delay; SIGTERM is forwarded to every child"

    def command(
        self, run_dir: Path, count: int, fifo: Path, *, grandchild: bool, floods: int = 0
    ) -> list[str]:
        argv = ["/bin/sh", "-c", child_script(fifo, grandchild=grandchild)]
        source = inspect.getsource(bare_loop) + f"\nbare_loop({count}, {argv!r})\n"
        return [sys.executable, "-I", "-c", source]


class OursPeer(Peer):
    name = "ours"
    title = "supervisor (ours)"

    def executable(self) -> Path | None:
        beside = Path(sys.executable).with_name("supervisor")
        if beside.exists():
            return beside
        found = shutil.which("supervisor")
        return Path(found) if found else None

    def unavailable(self) -> str | None:
        if self.executable() is None:
            return "the `supervisor` command is not installed (run scripts/bench, not bench.py)"
        return None

    def version(self) -> str:
        def git(*args: str) -> str:
            return subprocess.run(
                ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
            ).stdout.strip()

        rev = git("rev-parse", "--short", "HEAD") or "(no git)"
        if git("status", "--porcelain", "--", "supervisor", "pyproject.toml"):
            rev += " with uncommitted changes"
        return f"cinder-stack-supervisor {rev}"

    def configuration(self) -> str:
        return (
            "policy=always, backoff initial=max=0, start_seconds=0, start_limit 1000 in 1 s; "
            "daemon stdout/stderr to a file"
        )

    def flood_capture(self) -> str:
        return (
            f"[services.flood] workers={self.settings.floods}, start_seconds=0; [supervisor] "
            f"log_max_bytes={FLOOD_LOG_MAX_BYTES}, log_backups={FLOOD_LOG_BACKUPS} (stdout and "
            "stderr to state_dir/logs/flood#N.log; also, prefixed, to the daemon's console)"
        )

    def flood_log(self, run_dir: Path, number: int) -> Path:
        return run_dir / "state" / "logs" / f"flood#{number}.log"

    def command(
        self, run_dir: Path, count: int, fifo: Path, *, grandchild: bool, floods: int = 0
    ) -> list[str]:
        argv = ["/bin/sh", "-c", child_script(fifo, grandchild=grandchild)]
        config = run_dir / "services.toml"
        flood = (
            "[services.flood]\n"
            f"command = {json.dumps(flood_command(run_dir))}\n"
            f"workers = {floods}\n"
            "start_seconds = 0\n"
            "\n"
            if floods
            else ""
        )
        config.write_text(
            "[supervisor]\n"
            f"state_dir = {json.dumps(str(run_dir / 'state'))}\n"
            f"log_max_bytes = {FLOOD_LOG_MAX_BYTES}\n"
            f"log_backups = {FLOOD_LOG_BACKUPS}\n"
            "\n"
            f"{flood}"
            "[services.child]\n"
            f"command = {json.dumps(argv)}\n"
            f"workers = {count}\n"
            "start_seconds = 0\n"
            f"stop_timeout = {CHILD_STOP_TIMEOUT}\n"
            "[services.child.restart]\n"
            'policy = "always"\n'
            "backoff = { initial = 0.0, max = 0.0, factor = 1.0, jitter = 0.0, "
            "reset_after = 1.0 }\n"
            "start_limit = { burst = 1000, interval = 1.0 }\n"
        )
        return [str(self.executable()), "run", "-c", str(config)]


class PipPeer(Peer):
    """A peer installed from PyPI into a venv cached under the bench's cache directory."""

    packages: ClassVar[tuple[str, ...]] = ("supervisor", "circus")
    distribution: ClassVar[str]
    install_error: ClassVar[str | None] = None

    @property
    def venv(self) -> Path:
        return self.settings.cache_dir / f"peers-py{sys.version_info[0]}{sys.version_info[1]}"

    def prepare(self) -> None:
        if PipPeer.install_error is not None:
            raise BenchError(PipPeer.install_error)
        stamp = self.venv / ".bench-installed"
        want = " ".join(self.packages)
        if stamp.exists() and stamp.read_text() == want:
            return
        log(f"installing {want} with pip into {self.venv} (cached for later runs)")
        try:
            if not (self.venv / "bin" / "python").exists():
                subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
            subprocess.run(
                [
                    str(self.venv / "bin" / "python"),
                    *("-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                    *self.packages,
                ],
                check=True,
            )
        except (OSError, subprocess.CalledProcessError) as error:
            PipPeer.install_error = f"pip install of {want} failed: {error}"
            raise BenchError(PipPeer.install_error) from error
        stamp.write_text(want)

    def version(self) -> str:
        found = subprocess.run(
            [
                str(self.venv / "bin" / "python"),
                "-c",
                f"import importlib.metadata as m; print(m.version({self.distribution!r}))",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return f"{self.distribution} {found or '?'}"


class SupervisordPeer(PipPeer):
    name = "supervisord"
    title = "supervisord"
    distribution = "supervisor"

    def configuration(self) -> str:
        return (
            "numprocs, autorestart=true, startsecs=0, stopwaitsecs=10, child output to NONE, "
            "nodaemon=true, no control socket"
        )

    def flood_capture(self) -> str:
        return (
            f"[program:flood] numprocs={self.settings.floods} (from 1), startsecs=0, "
            "autorestart=true, "
            f"redirect_stderr=true, stdout_logfile=flood_N.log, stdout_logfile_maxbytes="
            f"{FLOOD_LOG_MAX_BYTES}, stdout_logfile_backups={FLOOD_LOG_BACKUPS} (its default, "
            "AUTO, also captures, to files of 50 MB with 10 backups)"
        )

    def flood_log(self, run_dir: Path, number: int) -> Path:
        return run_dir / f"flood_{number}.log"

    def command(
        self, run_dir: Path, count: int, fifo: Path, *, grandchild: bool, floods: int = 0
    ) -> list[str]:
        argv = ["/bin/sh", "-c", child_script(fifo, grandchild=grandchild)]
        config = run_dir / "supervisord.conf"
        flood = (
            "\n"
            "[program:flood]\n"
            f"command = {shlex.join(flood_command(run_dir)).replace('%', '%%')}\n"
            f"numprocs = {floods}\n"
            "numprocs_start = 1\n"
            "process_name = %(program_name)s_%(process_num)d\n"
            "autorestart = true\n"
            "startsecs = 0\n"
            "redirect_stderr = true\n"
            f"stdout_logfile = {run_dir / 'flood_%(process_num)d.log'}\n"
            f"stdout_logfile_maxbytes = {FLOOD_LOG_MAX_BYTES}\n"
            f"stdout_logfile_backups = {FLOOD_LOG_BACKUPS}\n"
            if floods
            else ""
        )
        config.write_text(
            "[supervisord]\n"
            "nodaemon = true\n"
            f"logfile = {run_dir / 'supervisord.log'}\n"
            f"pidfile = {run_dir / 'supervisord.pid'}\n"
            f"childlogdir = {run_dir}\n"
            "\n"
            "[program:child]\n"
            f"command = {shlex.join(argv).replace('%', '%%')}\n"
            f"numprocs = {count}\n"
            "process_name = %(program_name)s_%(process_num)03d\n"
            "autostart = true\n"
            "autorestart = true\n"
            "startsecs = 0\n"
            "stopsignal = TERM\n"
            f"stopwaitsecs = {CHILD_STOP_TIMEOUT}\n"
            "stdout_logfile = NONE\n"
            "stderr_logfile = NONE\n"
            f"{flood}"
        )
        return [str(self.venv / "bin" / "supervisord"), "-n", "-c", str(config)]


class CircusPeer(PipPeer):
    name = "circus"
    title = "circus"
    distribution = "circus"

    @property
    def poll_period(self) -> float:
        return self.settings.circus_check_delay

    def configuration(self) -> str:
        return (
            f"respawn=true, warmup_delay=0, graceful_timeout=10, copy_env=true, "
            f"check_delay={self.settings.circus_check_delay:g} s (circus' own default is 5 s; "
            "it only notices dead children on that poll), ipc endpoints, no multicast/stats/httpd"
        )

    def flood_capture(self) -> str:
        return (
            f"{self.settings.floods} watchers flood1.. with copy_env=true, warmup_delay=0, "
            f"stdout_stream.class=FileStream, filename=floodN.log, max_bytes="
            f"{FLOOD_LOG_MAX_BYTES}, backup_count={FLOOD_LOG_BACKUPS} (by default circus captures "
            "nothing: a child writes to circusd's own stdout); stderr is not captured"
        )

    def flood_log(self, run_dir: Path, number: int) -> Path:
        return run_dir / f"flood{number}.log"

    def command(
        self, run_dir: Path, count: int, fifo: Path, *, grandchild: bool, floods: int = 0
    ) -> list[str]:
        args = shlex.join(["-c", child_script(fifo, grandchild=grandchild)])
        config = run_dir / "circus.ini"
        flood = ""
        if floods:
            flood_cmd, *flood_args = flood_command(run_dir)
            flood = "".join(
                "\n"
                f"[watcher:flood{number}]\n"
                f"cmd = {flood_cmd}\n"
                f"args = {shlex.join(flood_args)}\n"
                "warmup_delay = 0\n"
                "copy_env = True\n"
                "stdout_stream.class = FileStream\n"
                f"stdout_stream.filename = {self.flood_log(run_dir, number)}\n"
                f"stdout_stream.max_bytes = {FLOOD_LOG_MAX_BYTES}\n"
                f"stdout_stream.backup_count = {FLOOD_LOG_BACKUPS}\n"
                for number in range(1, floods + 1)
            )
        config.write_text(
            "[circus]\n"
            f"check_delay = {self.settings.circus_check_delay:g}\n"
            f"endpoint = ipc://{run_dir / 'ctl.sock'}\n"
            f"pubsub_endpoint = ipc://{run_dir / 'pub.sock'}\n"
            "multicast_endpoint =\n"
            "statsd = False\n"
            "httpd = False\n"
            f"logoutput = {run_dir / 'circusd.log'}\n"
            "\n"
            "[watcher:child]\n"
            "cmd = /bin/sh\n"
            f"args = {args}\n"
            f"numprocesses = {count}\n"
            "respawn = True\n"
            "warmup_delay = 0\n"
            f"graceful_timeout = {CHILD_STOP_TIMEOUT}\n"
            "copy_env = True\n"
            f"{flood}"
        )
        return [str(self.venv / "bin" / "circusd"), str(config)]


class S6Peer(Peer):
    name = "s6"
    title = "s6 (s6-svscan)"
    ready_fd = 3

    def unavailable(self) -> str | None:
        if shutil.which("s6-svscan") is None or shutil.which("s6-supervise") is None:
            return "Debian's s6 package is not installed (`apt-get install s6` to include it)"
        return None

    def version(self) -> str:
        found = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", "s6"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return f"s6 {found or '?'}"

    def configuration(self) -> str:
        return (
            "one service directory per child; ./run holds the same one-liner plus `echo >&3` "
            "with notification-fd=3 (without readiness s6-supervise pauses 1 s before every "
            "respawn); the daemon is s6-svscan, each child has its own s6-supervise"
        )

    def command(
        self, run_dir: Path, count: int, fifo: Path, *, grandchild: bool, floods: int = 0
    ) -> list[str]:
        scan = run_dir / "scan"
        script = child_script(fifo, grandchild=grandchild, ready_fd=self.ready_fd)
        for index in range(1, count + 1):
            service = scan / f"child{index:03d}"
            service.mkdir(parents=True)
            run = service / "run"
            run.write_text(f"#!/bin/sh\n{script}\n")
            run.chmod(0o755)
            (service / "notification-fd").write_text(f"{self.ready_fd}\n")
        return [str(shutil.which("s6-svscan")), str(scan)]


PEER_CLASSES: dict[str, type[Peer]] = {
    cls.name: cls for cls in (BarePeer, OursPeer, SupervisordPeer, CircusPeer, S6Peer)
}


# ----------------------------------------------------------------------------------------------
# One running daemon of one peer.


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


# ----------------------------------------------------------------------------------------------
# Measurements.


@dataclass
class Result:
    """One peer's part of a test; `skipped` says why it did not run."""

    name: str
    title: str
    version: str = ""
    configuration: str = ""
    skipped: str | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class PeerResult(Result):
    restart_ms: list[float] = field(default_factory=list)
    bringup_ms: dict[str, list[float]] = field(default_factory=dict)
    stop_ms: dict[str, list[float]] = field(default_factory=dict)
    leftovers_after_stop: int = 0
    idle_cpu_pct: float | None = None
    idle_cpu_pct_psutil: float | None = None
    idle_helpers_cpu_pct: float | None = None
    rss_mib: float | None = None
    helper_count: int = 0
    helper_names: list[str] = field(default_factory=list)
    helpers_rss_mib: float = 0.0
    helpers_pss_mib: float = 0.0
    survivor_children: int | None = None
    survivor_grandchildren: int | None = None
    survivor_helpers: int | None = None


@dataclass
class FloodResult(Result):
    quiet_ms: list[float] = field(default_factory=list)
    flood_ms: list[float] = field(default_factory=list)
    flood_bytes: list[int] = field(default_factory=list)  # per flood process, into its logs
    flood_seconds: float | None = None
    flood_daemon_cpu_pct: float | None = None


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def measure_restarts(
    stack: Stack,
    settings: Settings,
    samples: list[float],
    notes: list[str],
    *,
    kills: int,
    budget: float,
    what: str,
) -> None:
    """SIGKILL the longest-running child and time until its successor's line arrives.

    A child is killed only once it is min_age old, and then after a random extra pause, so the
    kills fall at random moments of any periodic work of the peer (circus polls for dead
    children every check_delay seconds; without the pause every kill would land at the same
    phase of that poll).
    """
    rng = random.Random(20240601)
    jitter = max(settings.kill_jitter, stack.peer.poll_period)
    budget_end = time.monotonic() + budget
    running = dict(stack.listener.started)
    for number in range(kills):
        if number >= MIN_KILLS_BEFORE_BUDGET and time.monotonic() > budget_end:
            notes.append(f"{what} stopped after {number} kills, at its {budget:g} s budget")
            return
        victim = min(running, key=running.__getitem__)
        kill_at = max(running[victim] + settings.min_age, time.monotonic())
        for pid in stack.pump_until(kill_at + rng.uniform(0.0, jitter)):
            running[pid] = stack.listener.started[pid]
        started = time.monotonic()
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError as error:
            raise stack.failure(f"child {victim} vanished before it was killed") from error
        del running[victim]
        deadline = started + RESTART_TIMEOUT
        successor: int | None = None
        while successor is None and time.monotonic() < deadline:
            new = stack.pump(deadline - time.monotonic())
            for pid in new:
                running[pid] = stack.listener.started[pid]
            if new:
                successor = new[0]
        if successor is None:
            raise stack.failure(f"kill {number + 1}: no successor within {RESTART_TIMEOUT} s")
        samples.append((stack.listener.started[successor] - started) * 1000)


def measure_flood(stack: Stack, settings: Settings, result: FloodResult) -> None:
    """Restart latency while the flood runs, and the flood's bytes that reached the logs then.

    Measuring starts once every flood process has a block in its log, plus a moment to settle.
    """
    logs = [stack.peer.flood_log(stack.run_dir, number) for number in range(1, settings.floods + 1)]

    def landed() -> list[int]:
        return [flood_landed(path) for path in logs]

    deadline = time.monotonic() + FLOOD_START_TIMEOUT
    while 0 in landed():
        if time.monotonic() > deadline:
            raise stack.failure(f"the flood did not reach every log within {FLOOD_START_TIMEOUT} s")
        stack.pump(0.05)
    stack.pump_until(time.monotonic() + SETTLE_BEFORE_FLOOD)
    before, cpu_before, started = landed(), cpu_ns(stack.pid), time.monotonic()
    measure_restarts(
        stack,
        settings,
        result.flood_ms,
        result.notes,
        kills=settings.kills,
        budget=settings.flood_budget,
        what="flood run",
    )
    after, cpu_after, ended = landed(), cpu_ns(stack.pid), time.monotonic()
    result.flood_bytes = [end - start for start, end in zip(before, after, strict=True)]
    if min(result.flood_bytes) < 0:
        raise stack.failure("a flood process restarted during the measurement")
    result.flood_seconds = ended - started
    result.flood_daemon_cpu_pct = (cpu_after - cpu_before) / (result.flood_seconds * 1e9) * 100


def measure_idle(stack: Stack, settings: Settings, result: PeerResult) -> None:
    helpers = stack.helpers()
    daemon = psutil.Process(stack.pid)
    ticks_before = sum(daemon.cpu_times()[:2])
    before = cpu_ns(stack.pid)
    helpers_before = sum(cpu_ns(proc.pid) for proc in helpers)
    started = time.monotonic()
    time.sleep(settings.idle_seconds)
    after = cpu_ns(stack.pid)
    ticks_after = sum(daemon.cpu_times()[:2])
    helpers_after = sum(cpu_ns(proc.pid) for proc in helpers if is_alive(proc.pid))
    window_ns = (time.monotonic() - started) * 1e9
    result.idle_cpu_pct = (after - before) / window_ns * 100
    result.idle_cpu_pct_psutil = (ticks_after - ticks_before) * 1e9 / window_ns * 100
    result.idle_helpers_cpu_pct = max(helpers_after - helpers_before, 0) / window_ns * 100
    result.rss_mib = psutil.Process(stack.pid).memory_info().rss / MIB
    result.helper_count = len(helpers)
    names = set()
    for proc in helpers:
        with contextlib.suppress(psutil.Error):
            names.add(proc.name())
    result.helper_names = sorted(names)
    rss = pss = 0
    for proc in helpers:
        with contextlib.suppress(psutil.Error):
            memory = proc.memory_full_info()
            rss += memory.rss
            pss += memory.pss
    result.helpers_rss_mib = rss / MIB
    result.helpers_pss_mib = pss / MIB
    restarted = stack.pump(0)
    if restarted:
        result.notes.append(f"{len(restarted)} children were restarted during the idle window")


def measure_survivors(
    peer: Peer, run_dir: Path, run_id: str, many: int, result: PeerResult
) -> None:
    """SIGKILL the daemon of a stack whose children each fork a grandchild; count what lives."""
    with Stack(peer, run_dir, many, run_id, grandchild=True) as stack:
        stack.wait_children(many)
        stack.pump_until(time.monotonic() + SETTLE_BEFORE_KILL)
        children = set(stack.listener.started)
        grandchildren = set(stack.listener.grandchildren.values())
        helpers = {proc.pid for proc in stack.helpers()}
        killed_at = time.monotonic()
        os.kill(stack.pid, signal.SIGKILL)
        wait_readable([stack.pidfd], killed_at + 5.0)
        reap_exited()
        time.sleep(max(killed_at + SURVIVOR_WAIT - time.monotonic(), 0.0))
        reap_exited()
        result.survivor_children = sum(map(is_alive, children))
        result.survivor_grandchildren = sum(map(is_alive, grandchildren))
        result.survivor_helpers = sum(map(is_alive, helpers))


def prepared(peer: Peer, result: Result) -> bool:
    """Get the peer ready and note its version and configuration; False if it cannot run."""
    result.skipped = peer.unavailable()
    if result.skipped is None:
        try:
            peer.prepare()
        except BenchError as error:
            result.skipped = str(error)
    if result.skipped is not None:
        return False
    result.version = peer.version()
    result.configuration = peer.configuration()
    return True


def run_peer(peer: Peer, settings: Settings, work: Path, run_id: str) -> PeerResult:
    result = PeerResult(peer.name, peer.title)
    if not prepared(peer, result):
        return result
    base = work / peer.name
    for count in sorted({SMALL_STACK, settings.many}):
        label = str(count)
        result.bringup_ms[label] = []
        result.stop_ms[label] = []
        for round_number in range(settings.rounds):
            run_dir = base / f"n{count}-round{round_number}"
            log(f"{peer.name}: {count} children, round {round_number + 1}/{settings.rounds}")
            try:
                with Stack(peer, run_dir, count, run_id) as stack:
                    up = stack.wait_children(count)
                    result.bringup_ms[label].append((up - stack.launched) * 1000)
                    if round_number == 0 and count == SMALL_STACK:
                        log(f"{peer.name}: restart latency over {settings.kills} kills")
                        measure_restarts(
                            stack,
                            settings,
                            result.restart_ms,
                            result.notes,
                            kills=settings.kills,
                            budget=settings.restart_budget,
                            what="restart test",
                        )
                    if round_number == 0 and count == settings.many:
                        log(f"{peer.name}: idle CPU and RSS over {settings.idle_seconds:g} s")
                        stack.pump_until(time.monotonic() + SETTLE_BEFORE_IDLE)
                        measure_idle(stack, settings, result)
                    else:
                        stack.pump_until(time.monotonic() + SETTLE_BEFORE_STOP)
                    result.stop_ms[label].append(stack.stop() * 1000)
                    result.leftovers_after_stop = max(
                        result.leftovers_after_stop, stack.leftovers_after_stop()
                    )
            except (BenchError, OSError) as error:
                result.errors.append(f"{count} children, round {round_number + 1}: {error}")
                log(f"{peer.name}: {result.errors[-1]}")
                break
    log(f"{peer.name}: survivors after SIGKILL of the daemon")
    try:
        measure_survivors(peer, base / "survivors", run_id, settings.many, result)
    except (BenchError, OSError) as error:
        result.errors.append(f"survivors: {error}")
        log(f"{peer.name}: {result.errors[-1]}")
    if result.leftovers_after_stop:
        result.notes.append(
            f"{result.leftovers_after_stop} processes were still alive 1 s after a graceful stop"
        )
    return result


def run_flood(peer: Peer, settings: Settings, work: Path, run_id: str) -> FloodResult:
    """Restart latency of a small stack, quiet and then beside `settings.floods` floods."""
    result = FloodResult(peer.name, peer.title)
    capture = peer.flood_capture()
    if capture is None:
        result.skipped = "the bench sets up no capture of its services' output to log files"
        return result
    if not prepared(peer, result):
        return result
    result.configuration = capture
    for floods in (0, settings.floods):
        label = f"with {floods} flood(s)" if floods else "quiet"
        log(f"{peer.name}: restart latency over {settings.kills} kills, {label}")
        try:
            with Stack(
                peer,
                work / peer.name / f"flood{floods}",
                SMALL_STACK,
                run_id,
                floods=floods,
                console=Path(os.devnull),
            ) as stack:
                stack.wait_children(SMALL_STACK)
                if floods:
                    measure_flood(stack, settings, result)
                else:
                    measure_restarts(
                        stack,
                        settings,
                        result.quiet_ms,
                        result.notes,
                        kills=settings.kills,
                        budget=settings.flood_budget,
                        what="quiet run",
                    )
        except (BenchError, OSError) as error:
            result.errors.append(f"{label}: {error}")
            log(f"{peer.name}: {result.errors[-1]}")
            break
    return result


# ----------------------------------------------------------------------------------------------
# Report.


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.2f} ms"
    if value < 100:
        return f"{value:.1f} ms"
    return f"{value:.0f} ms"


def ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return value / floor


def with_ratio(value: float | None, floor: float | None) -> str:
    factor = ratio(value, floor)
    text = fmt_ms(value)
    return f"{text} ({factor:.2f}x)" if factor is not None else text


def survivors_text(result: PeerResult) -> str:
    if result.survivor_children is None or result.survivor_grandchildren is None:
        return "-"
    total = result.survivor_children + result.survivor_grandchildren
    text = f"{total}"
    if total:
        text += f" ({result.survivor_children}+{result.survivor_grandchildren})"
    return text


def spread(samples: list[float]) -> str:
    return f"min/max {fmt_ms(min(samples))}/{fmt_ms(max(samples))} over {len(samples)} kills"


def peer_notes(result: Result, extra: list[str]) -> list[str]:
    """The report's notes on one peer: how it ran, `extra` facts, its own notes and errors."""
    prefix = f"- {result.title}"
    if result.skipped:
        return [f"{prefix}: skipped — {result.skipped}"]
    lines = [f"{prefix} ({result.version}): {result.configuration}."]
    if extra:
        lines.append("  " + "; ".join(extra) + ".")
    lines += [f"  {note}." for note in result.notes]
    lines += [f"  ERROR: {error}" for error in result.errors]
    return lines


def key_numbers(result: PeerResult, many: int) -> dict[str, float | None]:
    return {
        "restart_p50": median(result.restart_ms),
        "restart_p90": p90(result.restart_ms),
        "bringup_3": median(result.bringup_ms.get(str(SMALL_STACK), [])),
        "bringup_many": median(result.bringup_ms.get(str(many), [])),
        "stop_3": median(result.stop_ms.get(str(SMALL_STACK), [])),
        "stop_many": median(result.stop_ms.get(str(many), [])),
    }


def verdict(ok: bool | None, text: str) -> str:
    if ok is None:
        return "-"
    return f"{'pass' if ok else 'FAIL'} {text}"


def report(results: list[PeerResult], settings: Settings) -> str:
    many = settings.many
    by_name = {result.name: result for result in results}
    floor = key_numbers(by_name["bare"], many) if "bare" in by_name else {}
    lines = [
        "## Restart, bring-up, stop, idle cost and orphans",
        "",
        f"{settings.kills} kills (each child at least {settings.min_age:g} s old, then a random "
        f"pause of up to {settings.kill_jitter:g} s or the peer's poll period), "
        f"{settings.rounds} round(s) of bring-up/stop (medians), idle window "
        f"{settings.idle_seconds:g} s; ratios in parentheses are against the bare loop.",
        "",
        f"| peer | restart p50 | restart p90 | bring-up 3 | bring-up {many} | stop {many} "
        f"| idle CPU (% core) | RSS (MiB) | survivors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        if result.skipped:
            lines.append(f"| {result.title} | skipped: {result.skipped} |||||||| ")
            continue
        numbers = key_numbers(result, many)
        cpu = f"{result.idle_cpu_pct:.4f}" if result.idle_cpu_pct is not None else "-"
        rss = f"{result.rss_mib:.1f}" if result.rss_mib is not None else "-"
        lines.append(
            f"| {result.title} "
            f"| {with_ratio(numbers['restart_p50'], floor.get('restart_p50'))} "
            f"| {with_ratio(numbers['restart_p90'], floor.get('restart_p90'))} "
            f"| {with_ratio(numbers['bringup_3'], floor.get('bringup_3'))} "
            f"| {with_ratio(numbers['bringup_many'], floor.get('bringup_many'))} "
            f"| {with_ratio(numbers['stop_many'], floor.get('stop_many'))} "
            f"| {cpu} | {rss} | {survivors_text(result)} |"
        )
    lines += [
        "",
        f"Targets: restart p50 <= {TARGET_RESTART_RATIO}x bare, bring-up {many} <= "
        f"{TARGET_BRINGUP_RATIO}x bare, stop {many} <= {TARGET_STOP_RATIO}x bare, idle CPU < "
        f"{TARGET_IDLE_CPU_PCT} % of a core, RSS < {TARGET_RSS_MIB:g} MiB, zero survivors.",
        "",
        f"| peer | restart p50 | bring-up {many} | stop {many} | idle CPU | RSS | survivors |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        if result.skipped or result.name == "bare":
            continue
        numbers = key_numbers(result, many)
        cells = []
        for key, limit in (
            ("restart_p50", TARGET_RESTART_RATIO),
            ("bringup_many", TARGET_BRINGUP_RATIO),
            ("stop_many", TARGET_STOP_RATIO),
        ):
            factor = ratio(numbers[key], floor.get(key))
            cells.append(verdict(factor <= limit, f"{factor:.2f}x") if factor is not None else "-")
        cpu, rss = result.idle_cpu_pct, result.rss_mib
        cells.append(verdict(cpu < TARGET_IDLE_CPU_PCT, f"{cpu:.4f} %") if cpu is not None else "-")
        cells.append(verdict(rss < TARGET_RSS_MIB, f"{rss:.1f} MiB") if rss is not None else "-")
        if result.survivor_children is None or result.survivor_grandchildren is None:
            cells.append("-")
        else:
            total = result.survivor_children + result.survivor_grandchildren
            cells.append(verdict(total == 0, str(total)))
        lines.append(f"| {result.title} | " + " | ".join(cells) + " |")
    lines += ["", "Notes:", f"- idle CPU is measured with {CPU_METHOD}."]
    for result in results:
        numbers = key_numbers(result, many)
        extra = [f"stop of {SMALL_STACK}: {fmt_ms(numbers['stop_3'])}"]
        if result.restart_ms:
            extra.append(f"restart {spread(result.restart_ms)}")
        if result.helper_count:
            extra.append(
                f"{result.helper_count} helper process(es) beside the daemon "
                f"({', '.join(result.helper_names)}): "
                f"RSS {result.helpers_rss_mib:.1f} MiB in total "
                f"(PSS {result.helpers_pss_mib:.1f} MiB), "
                f"{result.idle_helpers_cpu_pct or 0:.4f} % idle CPU"
            )
        if result.survivor_helpers:
            extra.append(f"{result.survivor_helpers} helper(s) also survived the daemon's SIGKILL")
        lines += peer_notes(result, extra)
    return "\n".join(lines)


def flood_numbers(result: FloodResult) -> dict[str, float | None]:
    numbers = {
        "quiet_p50": median(result.quiet_ms),
        "flood_p50": median(result.flood_ms),
        "quiet_p90": p90(result.quiet_ms),
        "flood_p90": p90(result.flood_ms),
    }
    seconds = result.flood_seconds
    return {
        **numbers,
        "p50_ratio": ratio(numbers["flood_p50"], numbers["quiet_p50"]),
        "p90_ratio": ratio(numbers["flood_p90"], numbers["quiet_p90"]),
        "flood_mb_per_s": sum(result.flood_bytes) / seconds / MB if seconds else None,
    }


def report_flood(results: list[FloodResult], settings: Settings) -> str:
    lines = [
        "## Restart latency beside an output flood",
        "",
        f"Each peer supervises {SMALL_STACK} cheap children set up as for the restart test, "
        f"first alone (quiet), then beside {settings.floods} flood process(es), each writing "
        f"{FLOOD_BLOCK // 1024} KiB blocks of {FLOOD_LINE}-byte lines to stdout as fast as the "
        f"peer reads them into its log files (rotated at {FLOOD_LOG_MAX_BYTES // MIB} MiB, "
        f"{FLOOD_LOG_BACKUPS} backups). Up to {settings.kills} kills per run, within "
        f"{settings.flood_budget:g} s, each child at least {settings.min_age:g} s old, then a "
        f"random pause of up to {settings.kill_jitter:g} s or the peer's poll period. Every "
        "daemon's own stdout and stderr go to /dev/null: for ours that is the console, which "
        "repeats every line of output with a prefix. Ratios in parentheses are flood against "
        "quiet. The flood's rate counts the bytes that reached the log files while the kills "
        "ran (block markers read back from the files), in MB/s (10^6 bytes); daemon CPU is in "
        "% of one core over that window, all its threads.",
        "",
        "| peer | restart p50 quiet | restart p50 flood | restart p90 quiet "
        "| restart p90 flood | flood into logs | daemon CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        if result.skipped:
            lines.append(f"| {result.title} | skipped: {result.skipped} |||||| ")
            continue
        numbers = flood_numbers(result)
        rate, cpu = numbers["flood_mb_per_s"], result.flood_daemon_cpu_pct
        lines.append(
            f"| {result.title} | {fmt_ms(numbers['quiet_p50'])} "
            f"| {with_ratio(numbers['flood_p50'], numbers['quiet_p50'])} "
            f"| {fmt_ms(numbers['quiet_p90'])} "
            f"| {with_ratio(numbers['flood_p90'], numbers['quiet_p90'])} "
            f"| {f'{rate:.0f} MB/s' if rate is not None else '-'} "
            f"| {f'{cpu:.0f} %' if cpu is not None else '-'} |"
        )
    lines += ["", "Notes:"]
    for result in results:
        extra = [
            f"{what} restart {spread(samples)}"
            for what, samples in (("quiet", result.quiet_ms), ("flood", result.flood_ms))
            if samples
        ]
        if result.flood_seconds:
            rates = ", ".join(
                f"{size / result.flood_seconds / MB:.0f}" for size in result.flood_bytes
            )
            extra.append(f"MB/s per flood process: {rates} over {result.flood_seconds:.1f} s")
        lines += peer_notes(result, extra)
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Entry point.


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few iterations, for smoke use")
    parser.add_argument(
        "--peers",
        default=",".join(ALL_PEERS),
        help=f"comma-separated peers to run (default: {','.join(ALL_PEERS)})",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write raw numbers here")
    parser.add_argument(
        "--kills", type=int, help="SIGKILLs per restart-latency run (default 30), flood test too"
    )
    parser.add_argument(
        "--restart-budget",
        type=float,
        help="stop killing after this many seconds per peer (default 60; at least 5 kills)",
    )
    parser.add_argument(
        "--kill-jitter",
        type=float,
        default=1.0,
        help="random pause before each kill, up to this many s (or the peer's poll period)",
    )
    parser.add_argument("--rounds", type=int, help="bring-up/stop rounds per size (default 3)")
    parser.add_argument("--children", type=int, default=100, help="the large stack's size")
    parser.add_argument("--idle-seconds", type=float, help="idle CPU window (default 10)")
    parser.add_argument(
        "--min-age",
        type=float,
        default=1.1,
        help="only kill children at least this old, in s (s6 pauses 1 s for younger ones)",
    )
    parser.add_argument(
        "--circus-check-delay",
        type=float,
        default=5.0,
        help="circus' check_delay, its poll period for dead children (circus default: 5)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "cinder-stack-bench-cache",
        help="where the pip-installed peers are kept between runs",
    )
    parser.add_argument(
        "--flood-budget",
        type=float,
        help="like --restart-budget, for each run of the flood test (default 20)",
    )
    parser.add_argument(
        "--floods", type=int, default=2, help="flood processes beside the children (default 2)"
    )
    flood = parser.add_mutually_exclusive_group()
    flood.add_argument("--only-flood", action="store_true", help="run only the flood test")
    flood.add_argument("--no-flood", action="store_true", help="leave the flood test out")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if args.floods < 1:
        parser.error("--floods must be at least 1")
    return args


def choose_peers(spec: str) -> list[str]:
    chosen = []
    for word in spec.split(","):
        name = PEER_ALIASES.get(word.strip(), word.strip())
        if name not in PEER_CLASSES:
            raise SystemExit(f"unknown peer {word!r}; choose from {', '.join(ALL_PEERS)}")
        if name not in chosen:
            chosen.append(name)
    # The floor first, so every ratio has its denominator even if a later peer breaks.
    return sorted(chosen, key=ALL_PEERS.index)


def raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings(
        kills=args.kills or (8 if args.quick else 30),
        restart_budget=args.restart_budget or (20.0 if args.quick else 60.0),
        kill_jitter=args.kill_jitter,
        rounds=args.rounds or (1 if args.quick else 3),
        many=args.children,
        idle_seconds=args.idle_seconds or (3.0 if args.quick else 10.0),
        min_age=args.min_age,
        circus_check_delay=args.circus_check_delay,
        cache_dir=args.cache_dir,
        flood_budget=args.flood_budget or (10.0 if args.quick else 20.0),
        floods=args.floods,
    )
    names = choose_peers(args.peers)
    # SIGINT too: a shell may have started the bench with SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, raise_interrupt)
    become_subreaper()
    run_id = f"{os.getpid()}-{time.time_ns()}"
    work = Path(tempfile.mkdtemp(prefix="cinder-stack-bench-"))
    results: list[PeerResult] = []
    floods: list[FloodResult] = []
    started = time.monotonic()
    try:
        for name in [] if args.only_flood else names:
            results.append(run_peer(PEER_CLASSES[name](settings), settings, work, run_id))
        for name in [] if args.no_flood else names:
            floods.append(run_flood(PEER_CLASSES[name](settings), settings, work, run_id))
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    finally:
        kill_descendants()
        kill_marked(run_id)
        if args.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    sections = [
        f"# Supervisor benchmark — {platform.node()}, {os.cpu_count()} cores, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    ]
    if results:
        sections.append(report(results, settings))
    if floods:
        sections.append(report_flood(floods, settings))
    print("\n\n".join(sections))
    if args.json:
        payload = {
            "host": {
                "node": platform.node(),
                "cores": os.cpu_count(),
                "kernel": platform.release(),
                "python": platform.python_version(),
            },
            "settings": {**asdict(settings), "cache_dir": str(settings.cache_dir)},
            "cpu_method": CPU_METHOD,
            "seconds": time.monotonic() - started,
            "peers": [
                {**asdict(result), "summary": key_numbers(result, settings.many)}
                for result in results
            ],
            "flood": [{**asdict(result), "summary": flood_numbers(result)} for result in floods],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        log(f"raw numbers written to {args.json}")
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
