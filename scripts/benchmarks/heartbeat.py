"""What a heartbeat costs: N processes beating every interval into one SQLite file.

Each worker is a separate process running the service's own heartbeat code (registration, then
`Heartbeat.report_state` on a base manager) against the same database.  By default every worker
beats at the same instants, the worst case for lock contention; `--spread` spreads them over the
interval as processes started at different times would.  Beats start once every worker has
registered, unless `--during-startup` has each worker beat as soon as it has registered, while
the others are still importing and registering on the same CPUs.  The first beat of each worker
(which opens its connection) is left out of the figures.

Prints the wall-clock latency of one heartbeat (p50, p90, p99, max), the CPU time one heartbeat
costs its process, and every error the heartbeats logged ("database is locked" among them).

    scripts/bench heartbeat [--processes 100] [--interval 1] [--duration 20] [--spread]
                            [--during-startup] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

# Each worker runs through the package's entry point, as `heartbeat --worker N`.
PACKAGE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench heartbeat", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--processes", type=int, default=100)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between beats")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of beating")
    parser.add_argument("--spread", action="store_true", help="spread workers over the interval")
    parser.add_argument(
        "--during-startup", action="store_true", help="beat while other workers still start"
    )
    parser.add_argument("--database-url", help="default: an SQLite file in a temporary directory")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return run_worker(args)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{directory}/cinder.sqlite"
        results = run_workers(args, url)
    report(args, url, results)
    return 0


def run_workers(args: argparse.Namespace, url: str) -> list[dict[str, Any]]:
    command = [sys.executable, str(PACKAGE), "heartbeat", "--database-url", url]
    command += ["--processes", str(args.processes)]
    command += ["--interval", str(args.interval), "--duration", str(args.duration)]
    command += ["--spread"] * args.spread + ["--during-startup"] * args.during_startup
    workers = [
        subprocess.Popen(
            [*command, "--worker", str(number)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for number in range(args.processes)
    ]
    # Start-up (imports, connecting, registering) competes for the CPUs; it must be over for
    # every worker before the first measured beat.
    for worker in workers:
        assert worker.stdout.readline() == "registered\n"
    start_at = time.time() + 0.5
    return [json.loads(worker.communicate(f"{start_at}\n")[0]) for worker in workers]


def run_worker(args: argparse.Namespace) -> int:
    import structlog

    from supervisor.db.services import ServiceFacts, ServiceKey
    from supervisor.db.settings import utc_now
    from supervisor.runtime.heartbeat import Heartbeat, register
    from supervisor.runtime.manager import Manager
    from supervisor.runtime.sdnotify import Notifier

    logged: list[str] = []

    def collect(_logger: object, _method: str, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("level") in ("error", "warning"):
            logged.append(f"{event['event']}: {event.get('error', '')}")
        raise structlog.DropEvent

    structlog.configure(processors=[structlog.processors.add_log_level, collect])
    number = args.worker
    key = ServiceKey("bench", "cinder-backup", f"cinder-backup#{number}")
    facts = ServiceFacts(topic="cinder-backup", availability_zone="nova", rpc_version="1.0")
    registration = register(args.database_url, key, facts, utc_now())
    heartbeat = Heartbeat(
        database_url=args.database_url,
        report_interval=args.interval,
        key=key,
        facts=facts,
        service_id=registration.service_id,
        manager=Manager("bench"),
        notifier=Notifier(None),
    )
    print("registered", flush=True)
    start_at = time.time() if args.during_startup else float(sys.stdin.readline())
    offset = args.interval * number / args.processes if args.spread else 0.0
    latencies, cpu_times = [], []
    beats = int(args.duration / args.interval) + 1  # the first one only warms up
    for beat in range(beats):
        _sleep_until(start_at + offset + beat * args.interval)
        cpu_before, wall_before = time.thread_time(), time.perf_counter()
        heartbeat.report_state()
        wall, cpu = time.perf_counter() - wall_before, time.thread_time() - cpu_before
        if beat:
            latencies.append(wall)
            cpu_times.append(cpu)
    heartbeat.close()
    json.dump({"latencies": latencies, "cpu": cpu_times, "errors": logged}, sys.stdout)
    return 0


def report(args: argparse.Namespace, url: str, results: list[dict[str, Any]]) -> None:
    latencies = sorted(value for result in results for value in result["latencies"])
    cpu = [value for result in results for value in result["cpu"]]
    errors = Counter(error for result in results for error in result["errors"])
    if args.during_startup:
        mode = "each from its own registration, while the others start"
    elif args.spread:
        mode = "spread over the interval"
    else:
        mode = "all at the same instants"
    print(
        f"{args.processes} processes, a heartbeat every {args.interval:g}s ({mode}), "
        f"{args.duration:g}s, {url.split(':', 1)[0]}"
    )
    print(f"heartbeats measured: {len(latencies)}")
    print(
        "latency per heartbeat (ms): "
        + ", ".join(
            f"{name} {_percentile(latencies, q) * 1000:.2f}"
            for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
        )
    )
    print(
        f"CPU per heartbeat (ms, its own process): mean {statistics.fmean(cpu) * 1000:.3f}, "
        f"p99 {_percentile(sorted(cpu), 99) * 1000:.3f}"
    )
    print(
        f"errors: {sum(errors.values())}"
        f" (of them 'database is locked': {sum(n for e, n in errors.items() if 'locked' in e)})"
    )
    for error, count in errors.most_common():
        print(f"  {count} x {error}")


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)
