"""Real Cinder under the supervisor, against DevStack's way of running the same binaries.

Both ways run the repository's example stack (RabbitMQ, `cinder-manage db sync`, cinder-api,
the scheduler, two fake-driver backends, two backup workers) under the supervisor, in fresh
copies on free ports, in the same run:

- ours: the topic convention and one supervised process per backend and per backup worker
  (`[openstack]`), each forked from the preload template that imported Cinder once (the
  default under `[openstack]`);
- ours-exec: the same with `preload = false`: each process an interpreter of its own, importing
  Cinder by itself;
- devstack: Cinder's own `cinder-scheduler|volume|backup --config-file cinder.conf` as plain
  commands, oslo.service's ProcessLauncher forking the backends and the workers (DevStack runs
  the same binaries as systemd units).

Measured, each over `--runs` fresh stacks:
- up: from `supervisor run` to every (binary, host) row in Cinder's `services` table written
  since the start (cinder-scheduler, cinder-volume node1@fake-1, @fake-2 and @file-1,
  cinder-backup);
- recovery: from a SIGKILL of the process serving node1@fake-1 to a new process logging that
  its driver serves again ("Driver post RPC initialization completed successfully."):
  ours kills the backend's own process; devstack kills the backend's forked child (which
  ProcessLauncher respawns, unseen by the supervisor) and, separately, the cinder-volume parent
  (which the supervisor restarts, with every backend);
- pss: the sum of the proportional set size of every process the supervisor runs (RabbitMQ,
  cinder-api and the rest alike in every way; for ours the template too), once all are ready.

    scripts/bench openstack [--runs 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import tomlkit

from supervisor.shared.logstamp import STAMP_BYTES, stamp_time
from supervisor.testing.harness import RunningStack, WaitTimeout
from supervisor.testing.openstack import copy_example

BIN_DIR = Path(sys.executable).parent
ROWS = {
    ("cinder-scheduler", "node1"),
    ("cinder-volume", "node1@fake-1"),
    ("cinder-volume", "node1@fake-2"),
    ("cinder-volume", "node1@file-1"),
    ("cinder-backup", "node1"),
}
SERVING = "Driver post RPC initialization completed successfully."
TIMEOUT = 600.0
# DevStack's way: each binary one plain command; the binary forks its backends or workers.
DEVSTACK_SERVICES = """
[services.c-sch]
command = ["cinder-scheduler", "--config-file", "cinder.conf"]
directory = "."
depends_on = ["db-sync", "rabbitmq"]

[services.c-vol]
command = ["cinder-volume", "--config-file", "cinder.conf"]
directory = "."
depends_on = ["db-sync", "rabbitmq"]

[services.c-bak]
command = ["cinder-backup", "--config-file", "cinder.conf"]
directory = "."
depends_on = ["db-sync", "rabbitmq"]
"""


class Stack:
    def __init__(self, directory: Path, way: str) -> None:
        self.directory = directory
        self.way = way
        copy_example(directory)
        if way == "devstack":
            self._as_devstack()
        elif way == "ours-exec":
            self._without_preload()
        self.env = {**os.environ, "PATH": f"{BIN_DIR}:{os.environ.get('PATH', '')}"}
        self.run: RunningStack | None = None

    @property
    def config(self) -> Path:
        return self.directory / "services.toml"

    @property
    def state(self) -> Path:
        return self.directory / ".supervisor"

    def _as_devstack(self) -> None:
        document = tomlkit.parse(self.config.read_text())
        del document["openstack"]
        for name in ("cinder-scheduler", "cinder-volume", "cinder-backup"):
            del document["services"][name]  # type: ignore[union-attr]
        self.config.write_text(tomlkit.dumps(document) + DEVSTACK_SERVICES)

    def _without_preload(self) -> None:
        document = tomlkit.parse(self.config.read_text())
        for name in ("cinder-scheduler", "cinder-volume", "cinder-backup"):
            document["services"][name]["preload"] = False  # type: ignore[index]
        self.config.write_text(tomlkit.dumps(document))

    def pss(self) -> int:
        """Bytes: the summed PSS of every process under the supervisor (not itself)."""
        assert self.run is not None
        total = 0
        for child in psutil.Process(self.run.process.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_full_info().pss
        return total

    def start(self) -> float:
        started = time.monotonic()
        self.run = RunningStack(self.config, self.state, environment=self.env)
        return started

    def ended(self) -> bool:
        return self.run is not None and self.run.process.poll() is not None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "supervisor", *args, "-c", str(self.config)],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=TIMEOUT,
        )

    def pid_of(self, unit: str) -> int:
        processes = json.loads(self.cli("status", "--json").stdout)["processes"]
        return next(p["pid"] for p in processes if p["name"] == unit)

    def rows_up_since(self, moment: datetime) -> bool:
        database = self.state / "cinder" / "cinder.sqlite"
        if not database.exists():
            return False
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
                found = db.execute(
                    "SELECT binary, host, COALESCE(updated_at, created_at) FROM services"
                    " WHERE deleted = 0"
                ).fetchall()
        except sqlite3.Error:
            return False
        fresh = {(b, h) for b, h, stamp in found if stamp and _parse(stamp) >= moment}
        return fresh >= ROWS

    def volume_log(self) -> Path:
        name = "c-vol" if self.way == "devstack" else "cinder-volume@fake-1"
        return self.state / "logs" / f"{name}.log"

    def stop(self) -> None:
        if self.run is None:
            return
        if not self.ended():
            self.run.signal(signal.SIGTERM)
            with contextlib.suppress(WaitTimeout):
                self.run.wait_exit(120)
        self.run.close()


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def wait_for(
    condition: Callable[[], Any], what: str, stack: Stack | None = None, timeout: float = TIMEOUT
) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if stack is not None and stack.run is not None and stack.ended():
            raise RuntimeError(
                f"the supervisor of {stack.config} ended before {what}; its console:\n"
                + stack.run.console()[-4000:]
            )
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)
    return value


def as_written(line: str) -> str:
    """A line of a log file as the process wrote it, without the supervisor's timestamp."""
    return line[STAMP_BYTES:] if stamp_time(line) is not None else line


def serving_pids(log: Path) -> dict[int, int]:
    """pid -> how many times it logged that its driver serves."""
    counts: dict[int, int] = {}
    if not log.exists():
        return counts
    for line in log.read_text(errors="replace").splitlines():
        if SERVING in line:
            fields = as_written(line).split()
            if len(fields) > 2 and fields[2].isdigit():
                pid = int(fields[2])
                counts[pid] = counts.get(pid, 0) + 1
    return counts


def backend_child(stack: Stack, host: str) -> int:
    """DevStack's way: the forked child of cinder-volume that serves `host` (it logs it)."""
    pattern = re.compile(rf"^\S+ \S+ (\d+) .*for host {re.escape(host)}\.")
    for line in stack.volume_log().read_text(errors="replace").splitlines():
        if match := pattern.match(as_written(line)):
            return int(match.group(1))
    raise LookupError(host)


def recovery(stack: Stack, victim: int) -> float:
    """Seconds from SIGKILL of `victim` to a new pid logging that its driver serves again."""
    before = serving_pids(stack.volume_log())
    killed = time.monotonic()
    os.kill(victim, signal.SIGKILL)

    def new_server() -> bool:
        now = serving_pids(stack.volume_log())
        return any(pid != victim and count > before.get(pid, 0) for pid, count in now.items())

    wait_for(new_server, "the backend serving again", stack)
    return time.monotonic() - killed


def one_run(way: str, workdir: Path) -> dict[str, float]:
    stack = Stack(workdir / f"{way}-{time.monotonic_ns()}", way)
    try:
        moment = _utcnow()
        started = stack.start()
        wait_for(lambda: stack.rows_up_since(moment), "every Cinder service up", stack)
        result = {"up": time.monotonic() - started}
        # Let every service finish its start (the API, periodic tasks) before the kill.
        stack.cli("wait", "--ready", "--timeout", str(TIMEOUT))
        result["pss_mib"] = stack.pss() / 2**20
        if way != "devstack":
            result["recovery"] = recovery(stack, stack.pid_of("cinder-volume@fake-1"))
        else:
            result["recovery_child"] = recovery(stack, backend_child(stack, "node1@fake-1"))
            stack.cli("wait", "--ready", "--timeout", str(TIMEOUT))
            result["recovery_parent"] = recovery(stack, stack.pid_of("c-vol"))
        return result
    finally:
        stack.stop()


def summarize(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    keys = sorted({key for run in runs for key in run})
    return {
        key: {
            "median": statistics.median(run[key] for run in runs),
            "min": min(run[key] for run in runs),
            "max": max(run[key] for run in runs),
        }
        for key in keys
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench openstack", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results: dict[str, list[dict[str, float]]] = {"ours": [], "ours-exec": [], "devstack": []}
    with tempfile.TemporaryDirectory(prefix="bench-openstack-") as workdir:
        for run in range(args.runs):
            for way in results:  # interleaved, so a drift of the machine hits both alike
                figures = one_run(way, Path(workdir))
                results[way].append(figures)
                shown = ", ".join(f"{k} {v:.2f}" for k, v in figures.items())
                print(f"run {run + 1} {way}: {shown}", file=sys.stderr)
    summary = {way: summarize(runs) for way, runs in results.items()}
    print(f"{'way':<10} {'measure':<16} {'median':>8} {'min':>8} {'max':>8}  (seconds; pss MiB)")
    for way, measures in summary.items():
        for key, figures in measures.items():
            print(
                f"{way:<10} {key:<16} {figures['median']:>8.2f} {figures['min']:>8.2f}"
                f" {figures['max']:>8.2f}"
            )
    devstack = summary["devstack"]
    for way in ("ours", "ours-exec"):
        ours = summary[way]
        for key in ("up", "pss_mib"):
            print(f"{key}: {way}/devstack = {ours[key]['median'] / devstack[key]['median']:.2f}x")
        for key in ("recovery_child", "recovery_parent"):
            ratio = ours["recovery"]["median"] / devstack[key]["median"]
            print(f"recovery: {way}/devstack {key.removeprefix('recovery_')} = {ratio:.2f}x")
    ratio = summary["ours"]["up"]["median"] / summary["ours-exec"]["up"]["median"]
    print(f"up: ours/ours-exec = {ratio:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"runs": results, "summary": summary}, indent=2))
    return 0
