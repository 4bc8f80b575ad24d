"""What health probes cost: N processes with an HTTP probe every period, beside none.

Two stacks are run in turn, each of N `sleep` processes and one unrelated process (`victim`,
restarted at once by its policy): in one, every sleeper has an http readiness probe and an http
liveness probe at `--period` (readiness stops once it has passed, so the liveness probe is the
steady cost: N GETs a period), all against one local HTTP server the benchmark starts; in the
other, no probe.  Once every process is ready, for `--duration` seconds: the supervisor's CPU
(every thread of it, see `processes.cpu_ns`), while the victim is SIGKILLed `--kills` times,
spread over the window; each kill's restart latency runs from the SIGKILL to the victim's new
run reaching `running`, by the supervisor's own event timestamp.

    scripts/bench probes [--processes 100] [--period 1] [--duration 20] [--kills 20]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.processes import cpu_ns
from supervisor.testing.openstack import free_port

REPO = Path(__file__).resolve().parent.parent.parent
STARTUP_DEADLINE = 300.0  # a loaded machine starts a hundred processes slowly
SETTLE_SECONDS = 2.0  # readiness probes end, liveness probes begin their periods


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench probes", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--processes", type=int, default=100)
    parser.add_argument("--period", type=float, default=1.0, help="seconds between probe runs")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--kills", type=int, default=20, help="victim restarts in the window")
    args = parser.parse_args(argv)
    print(
        f"{args.processes} sleepers, an http readiness + liveness probe each every "
        f"{args.period:g}s, against one stack without probes; {args.duration:g}s measured, "
        f"{args.kills} restarts of an unrelated process; load average {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        port = free_port()
        server = serve_http(work, port)
        try:
            for probed in (True, False):
                result = measure(work / ("probed" if probed else "plain"), args, port, probed)
                report("with probes" if probed else "without probes", result)
        finally:
            server.kill()
            server.wait()
    return 0


def serve_http(work: Path, port: int) -> subprocess.Popen[bytes]:
    """The probes' target: Python's threaded server, listing an empty directory."""
    (work / "www").mkdir()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=work / "www",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        if time.monotonic() > deadline:
            raise RuntimeError(f"the HTTP server never listened on port {port}")
        time.sleep(0.05)


def services_toml(run_dir: Path, args: argparse.Namespace, port: int, probed: bool) -> Path:
    probes = (
        "[services.sleeper.readiness]\n"
        f'http = "http://127.0.0.1:{port}/"\nperiod = {args.period}\n'
        "[services.sleeper.liveness]\n"
        f'http = "http://127.0.0.1:{port}/"\nperiod = {args.period}\n'
        if probed
        else ""
    )
    config = run_dir / "services.toml"
    config.write_text(
        f'[supervisor]\nstate_dir = "{run_dir / "state"}"\n\n'
        '[services.sleeper]\ncommand = ["sleep", "100000"]\n'
        f"workers = {args.processes}\nstart_seconds = 0\n{probes}\n"
        '[services.victim]\ncommand = ["sleep", "100000"]\nstart_seconds = 0\n'
        '[services.victim.restart]\npolicy = "always"\n'
        "backoff = { initial = 0.0, max = 0.0, factor = 1.0, jitter = 0.0, reset_after = 1.0 }\n"
        "start_limit = { burst = 1000, interval = 1.0 }\n"
    )
    return config


def supervisor(*args: str, config: Path) -> list[str]:
    return [sys.executable, "-m", "supervisor", *args, "-c", str(config)]


ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@contextmanager
def running_stack(config: Path, *names: str) -> Iterator[subprocess.Popen[bytes]]:
    """`supervisor run` on the file until every named process (default: all) is ready; shut
    down after."""
    with open(config.parent / "supervisor.out", "wb") as output:
        daemon = subprocess.Popen(
            supervisor("run", config=config), stdout=output, stderr=output, env=ENV
        )
    try:
        ready = subprocess.run(
            supervisor(
                "wait", "--ready", *names, "--timeout", str(STARTUP_DEADLINE), config=config
            ),
            capture_output=True,
            env=ENV,
            check=False,
        )
        if ready.returncode != 0:
            raise RuntimeError(f"the stack never got ready: {ready.stderr.decode()}")
        yield daemon
    finally:
        subprocess.run(
            supervisor("shutdown", "--timeout", "60", config=config),
            capture_output=True,
            env=ENV,
            check=False,
        )
        daemon.wait(90)


def measure(run_dir: Path, args: argparse.Namespace, port: int, probed: bool) -> dict[str, Any]:
    run_dir.mkdir()
    config = services_toml(run_dir, args, port, probed)
    with running_stack(config) as daemon:
        events = EventTail(run_dir / "state" / "events.jsonl")
        time.sleep(SETTLE_SECONDS)
        latencies = []
        start, cpu_before = time.monotonic(), cpu_ns(daemon.pid)
        for kill in range(args.kills):
            pause = start + (kill + 0.5) * args.duration / args.kills - time.monotonic()
            time.sleep(max(0.0, pause))
            latencies.append(restart_latency(events))
        time.sleep(max(0.0, start + args.duration - time.monotonic()))
        cpu = (cpu_ns(daemon.pid) - cpu_before) / 1e9
        elapsed = time.monotonic() - start
    return {"cpu_percent": 100 * cpu / elapsed, "latencies": latencies}


class EventTail:
    """The event log as it grows; the victim's pid is that of its latest `running` event."""

    def __init__(self, path: Path) -> None:
        self._file = path.open()
        self.victim_pid = 0
        self.take()

    def take(self) -> list[dict[str, Any]]:
        new = [json.loads(line) for line in self._file.readlines()]
        for event in new:
            if running_victim(event):
                self.victim_pid = event["pid"]
        return new


def running_victim(event: dict[str, Any]) -> bool:
    return event.get("event") == "state" and event["unit"] == "victim" and event["to"] == "running"


def restart_latency(events: EventTail) -> float:
    """SIGKILL the victim, and read the seconds until its new run is `running`."""
    events.take()
    killed_at = time.time()
    os.kill(events.victim_pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for event in events.take():
            if running_victim(event):
                return datetime.fromisoformat(event["timestamp"]).timestamp() - killed_at
        time.sleep(0.005)  # the event log gives no word: read it again shortly
    raise RuntimeError("the victim was not restarted within 30s")


def report(title: str, result: dict[str, Any]) -> None:
    latencies = sorted(result["latencies"])
    quantiles = (
        statistics.quantiles(latencies, n=10, method="inclusive")
        if len(latencies) > 1
        else latencies
    )
    print(
        f"{title}: supervisor CPU {result['cpu_percent']:.2f}% of one core; restart latency "
        f"(ms) median {statistics.median(latencies) * 1000:.1f}, "
        f"p90 {quantiles[-1] * 1000:.1f}, max {latencies[-1] * 1000:.1f}"
    )
