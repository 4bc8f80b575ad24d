"""The peers that need no installing: the bare fork/exec loop (the floor), ours and s6. Each
peer writes its configuration and says how to launch its daemon in the foreground; the ones
installed with pip are in `pippeers`."""

from __future__ import annotations

import inspect
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

from benchmarks.settings import Settings
from benchmarks.workload import (
    FLOOD_LOG_BACKUPS,
    FLOOD_LOG_MAX_BYTES,
    child_script,
    flood_command,
)

REPO = Path(__file__).resolve().parent.parent.parent
CHILD_STOP_TIMEOUT = 10


def toml_value(value: str | list[str]) -> str:
    """`value` written for services.toml so that our supervisor reads back the same text: JSON's
    strings and arrays are TOML's, and every `$` is doubled, since services.toml reads `$$` as
    a `$` and `${NAME}` as a variable (the child's shell needs its own `$$`)."""
    return json.dumps(value).replace("$", "$$")


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
            return (
                "the `supervisor` command is not installed (run scripts/bench, which installs it)"
            )
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
            f"command = {toml_value(flood_command(run_dir))}\n"
            f"workers = {floods}\n"
            "start_seconds = 0\n"
            "\n"
            if floods
            else ""
        )
        config.write_text(
            "[supervisor]\n"
            f"state_dir = {toml_value(str(run_dir / 'state'))}\n"
            f"log_max_bytes = {FLOOD_LOG_MAX_BYTES}\n"
            f"log_backups = {FLOOD_LOG_BACKUPS}\n"
            "\n"
            f"{flood}"
            f"{self.children(argv, count)}"
        )
        return [str(self.executable()), "run", "-c", str(config)]

    def children(self, argv: list[str], count: int) -> str:
        """The services.toml text of the `count` children: one service of `count` workers."""
        return child_service("child", argv, count)


class OursServicesPeer(OursPeer):
    """Ours again, each child a service of its own (`child0001`, ...), as a sandbox of many
    different services is, rather than one service's workers."""

    name = "ours-services"
    title = "supervisor (ours), a service per process"

    def children(self, argv: list[str], count: int) -> str:
        width = len(str(count))
        return "\n".join(
            child_service(f"child{index:0{width}d}", argv, 1) for index in range(1, count + 1)
        )


def child_service(name: str, argv: list[str], workers: int) -> str:
    """One service of the children: started at once, restarted at once, every time."""
    return (
        f"[services.{name}]\n"
        f"command = {toml_value(argv)}\n"
        f"workers = {workers}\n"
        "start_seconds = 0\n"
        f"stop_timeout = {CHILD_STOP_TIMEOUT}\n"
        f"[services.{name}.restart]\n"
        'policy = "always"\n'
        "backoff = { initial = 0.0, max = 0.0, factor = 1.0, jitter = 0.0, "
        "reset_after = 1.0 }\n"
        "start_limit = { burst = 1000, interval = 1.0 }\n"
    )


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
