"""The peers installed from PyPI, with pip, into a venv cached under the bench's cache
directory: supervisord and circus."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

from benchmarks.peers import CHILD_STOP_TIMEOUT, Peer
from benchmarks.settings import BenchError, log
from benchmarks.workload import (
    FLOOD_LOG_BACKUPS,
    FLOOD_LOG_MAX_BYTES,
    child_script,
    flood_command,
)


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
