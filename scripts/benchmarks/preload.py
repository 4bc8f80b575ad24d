"""Preloading with this project's own managers: forked from a template against exec'd, and
both against the floor, a bare fork/exec loop restarting a plain `sleep`.

- restart: from SIGKILL of the cinder-volume manager process to its successor's `starting`
  event (the supervisor has its pid: forked, or exec'd) and to its `running` event (READY=1,
  sent once its manager is built, its row registered in the services table and its host
  initialised: work a `sleep` does not do), `--restarts` times per way; the bare loop: from
  SIGKILL of `sh -c 'echo up; exec sleep'` to its successor's line on a pipe (waitpid, fork,
  exec, as the floor of any supervisor).  No backoff: the
  policy restarts at once, so the figure is the spawn path alone.
- up: `supervisor run` of the repository's services.toml (its state in a scratch folder) to
  every process running (`supervisor wait --ready`), every manager with `preload = true`
  against `preload = false`; `--runs` times, interleaved.

    scripts/bench preload [--restarts 15] [--runs 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import tomlkit

from benchmarks.report import p90
from supervisor.testing.harness import RunningStack

REPOSITORY = Path(__file__).resolve().parents[2]
TIMEOUT = 120.0
WAYS = ("preload", "exec")
ONE_MANAGER = """
[supervisor]
state_dir = "state"

[options]
host = "node1"
periodic_interval = 0
volume_manager = "supervisor.managers.volume.VolumeManager"

[services.cinder-volume]
preload = {preload}

[services.cinder-volume.restart]
policy = "always"
backoff = {{ initial = 0.0, max = 0.0, factor = 1.0, jitter = 0.0 }}
start_limit = {{ burst = 1000, interval = 1.0 }}
"""


def _stamp(event: dict) -> float:
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()


def manager_restarts(way: str, restarts: int, workdir: Path) -> dict[str, list[float]]:
    """Seconds from each SIGKILL to the successor's start and to its READY, for one manager
    process."""
    directory = workdir / f"restart-{way}"
    directory.mkdir()
    config = directory / "services.toml"
    config.write_text(ONE_MANAGER.format(preload=str(way == "preload").lower()))
    stack = RunningStack(config, directory / "state")
    latencies: dict[str, list[float]] = {"starting": [], "running": []}
    try:
        event = stack.wait_event(TIMEOUT, event="state", unit="cinder-volume", to="running")
        seen = {event["pid"]}
        for _ in range(restarts):
            killed = time.time()
            os.kill(event["pid"], signal.SIGKILL)
            event = stack.wait_until(
                lambda: next(
                    (e for e in stack.select(event="state", unit="cinder-volume", to="running")
                     if e["pid"] not in seen),
                    None,
                ),
                TIMEOUT,
                "the manager running again",
            )  # fmt: skip
            seen.add(event["pid"])
            started = stack.wait_event(
                TIMEOUT, event="state", unit="cinder-volume", to="starting", pid=event["pid"]
            )
            latencies["starting"].append(_stamp(started) - killed)
            latencies["running"].append(_stamp(event) - killed)
    finally:
        stack.stop()
        stack.close()
    return latencies


def bare_restarts(restarts: int) -> list[float]:
    """The floor: SIGKILL, waitpid, fork/exec of the successor, its first line read."""
    read_end, write_end = os.pipe()
    latencies = []

    def spawn() -> subprocess.Popen[bytes]:
        child = subprocess.Popen(["sh", "-c", "echo up; exec sleep 3600"], stdout=write_end)
        select.select([read_end], [], [], TIMEOUT)
        os.read(read_end, 64)
        return child

    child = spawn()
    try:
        for _ in range(restarts):
            killed = time.monotonic()
            child.send_signal(signal.SIGKILL)
            child.wait()
            child = spawn()
            latencies.append(time.monotonic() - killed)
    finally:
        child.kill()
        child.wait()
        os.close(read_end)
        os.close(write_end)
    return latencies


def stack_up(way: str, workdir: Path) -> float:
    """Seconds from `supervisor run` of the repository's stack to every process running."""
    directory = workdir / f"up-{way}-{time.monotonic_ns()}"
    directory.mkdir()
    document = tomlkit.parse((REPOSITORY / "services.toml").read_text())
    for table in document["services"].values():  # type: ignore[union-attr]
        if "command" not in table:
            table["preload"] = way == "preload"
    config = directory / "services.toml"
    config.write_text(tomlkit.dumps(document))
    started = time.monotonic()
    stack = RunningStack(config, directory / ".supervisor")
    try:
        waited = subprocess.run(
            [
                sys.executable,
                "-m",
                "supervisor",
                "wait",
                "--ready",
                "--timeout",
                str(TIMEOUT),
                "-c",
                str(config),
            ],
            capture_output=True,
            text=True,
        )
        if waited.returncode != 0:
            raise RuntimeError(f"the stack did not get ready: {waited.stderr}{stack.console()}")
        return time.monotonic() - started
    finally:
        stack.stop()
        stack.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench preload", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--restarts", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    restart: dict[str, list[float]] = {"bare": bare_restarts(args.restarts)}
    up: dict[str, list[float]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="bench-preload-") as scratch:
        workdir = Path(scratch)
        for way in WAYS:
            for phase, values in manager_restarts(way, args.restarts, workdir).items():
                restart[f"{way} to {phase}"] = values
        for run in range(args.runs):
            for way in WAYS:  # interleaved, so a drift of the machine hits both alike
                up[way].append(stack_up(way, workdir))
                print(f"run {run + 1} {way}: up {up[way][-1]:.2f}s", file=sys.stderr)
    print(f"restart ({args.restarts} each)  p50 ms   p90 ms   x bare p50")
    floor = statistics.median(restart["bare"])
    for way, values in restart.items():
        p50 = statistics.median(values)
        print(
            f"{way:<22} {p50 * 1000:>7.1f}  {(p90(values) or 0.0) * 1000:>7.1f}"
            f"  {p50 / floor:>7.2f}x"
        )
    print(f"services.toml up ({args.runs} runs)  median s  min s  max s")
    for way, values in up.items():
        print(
            f"{way:<22} {statistics.median(values):>8.2f}  {min(values):>5.2f}  {max(values):>5.2f}"
        )
    ratio = statistics.median(up["preload"]) / statistics.median(up["exec"])
    print(f"up: preload/exec = {ratio:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"restart": restart, "up": up}, indent=2))
    return 0
