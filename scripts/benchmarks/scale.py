"""`scripts/bench scale`: ours at 10, 100 and 1,000 processes, against the bare loop at each N.

For every N of `--counts`, in one run, three peers supervise N copies of the bench's child
(`workload.child_script`: one line to the bench's FIFO, then `exec sleep 3600`): the bare
fork/exec loop (`peers.BarePeer`, the floor), ours with one service of N workers
(`peers.OursPeer`, a pool) and ours with N services of one process each
(`peers.OursServicesPeer`, a sandbox of many different services).  Per peer and N:

* bring-up (launch to every child's line) and stop (SIGTERM to daemon and children gone), over
  `--rounds` rounds, medians; within a round the peers take turns, so a burst of load on this
  shared machine falls on all of them alike;
* in the first round only, in this order: the daemon's idle CPU and RSS over `--idle-seconds`
  (`measure.measure_idle`); for ours, `supervisor status` and `supervisor status --json` as
  real subprocesses (client start-up included), `--status-runs` of each, median wall time, and
  the JSON's size; then restart latency of one child at a time while the other N-1 run
  (`measure.measure_restarts`: SIGKILL to the successor's line, `--kills` kills).

Every figure is also given as a ratio against the bare loop at the same N in the same run (the
bare loop has no `status`: those are ours' absolute figures).  The bench first raises its soft
open-file limit to the hard limit, which every daemon inherits: ours holds a pidfd and output
pipes per child, past the usual soft limit of 1024 at N=1,000.

`scalereport` writes the tables and the JSON; the measuring is `measure`'s and `peerstack`'s.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import (
    PeerResult,
    idle_test,
    prepared,
    restart_test,
    settle_before_stop,
    timed_round,
)
from benchmarks.peers import BarePeer, OursPeer, OursServicesPeer, Peer
from benchmarks.peerstack import Stack
from benchmarks.processes import become_subreaper, cleaned_up
from benchmarks.scalereport import payload, report
from benchmarks.settings import BenchError, Settings, log

PEERS: tuple[type[Peer], ...] = (BarePeer, OursPeer, OursServicesPeer)
# A loaded machine brings up and stops a thousand processes slowly; these only catch a hang.
BRINGUP_TIMEOUT = 300.0
STOP_TIMEOUT = 300.0
STATUS_TIMEOUT = 60.0


@dataclass
class ScaleResult(PeerResult):
    """One peer at one N: `PeerResult`'s figures, plus ours' `status` round trips."""

    count: int = 0
    status_ms: list[float] = field(default_factory=list)
    status_json_ms: list[float] = field(default_factory=list)
    status_json_bytes: int | None = None
    containment: str | None = None  # what holds ours' children, as `status --json` says


@dataclass
class ScaleRun:
    """Every peer at one N, with the load average before and after."""

    count: int
    load_before: str
    load_after: str = ""
    results: list[ScaleResult] = field(default_factory=list)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench scale", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--counts", default="10,100,1000", help="comma-separated N (default: 10,100,1000)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="bring-up/stop rounds per N")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs per restart test")
    parser.add_argument(
        "--restart-budget", type=float, default=40.0, help="stop killing after this many s"
    )
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="idle CPU window")
    parser.add_argument("--status-runs", type=int, default=7, help="status calls of each kind")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write raw numbers here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    try:
        args.counts = [int(word) for word in args.counts.split(",")]
    except ValueError:
        parser.error(f"--counts takes numbers, not {args.counts!r}")
    if min(args.counts) < 1 or args.rounds < 1 or args.kills < 1 or args.status_runs < 1:
        parser.error("--counts, --rounds, --kills and --status-runs must be at least 1")
    return args


def raise_open_files() -> tuple[int, int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns (soft before, soft now, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return soft, hard, hard


def load_average() -> str:
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def measure_status(peer: OursPeer, stack: Stack, runs: int, result: ScaleResult) -> None:
    """Time `supervisor status` and `status --json` subprocesses, taking turns; check that the
    JSON lists every process, and note the containment it names."""
    base = [str(peer.executable()), "status", "-c", str(stack.run_dir / "services.toml")]
    for _ in range(runs):
        for argv, samples in ((base, result.status_ms), ([*base, "--json"], result.status_json_ms)):
            started = time.monotonic()
            done = subprocess.run(argv, capture_output=True, timeout=STATUS_TIMEOUT, check=False)
            samples.append((time.monotonic() - started) * 1000)
            if done.returncode != 0:
                raise stack.failure(
                    f"{' '.join(argv[1:])} exited with {done.returncode}: "
                    f"{done.stderr.decode(errors='replace').strip()[-300:]}"
                )
            if "--json" in argv:
                result.status_json_bytes = len(done.stdout)
                document = json.loads(done.stdout)
                result.containment = document.get("containment")
                listed = len(document["processes"])
                if listed != stack.count:
                    raise stack.failure(f"status --json listed {listed} of {stack.count}")


def first_round(stack: Stack, settings: Settings, status_runs: int, result: ScaleResult) -> None:
    """Idle CPU and RSS first, on a quiet stack; then ours' status; then restarts."""
    idle_test(stack, settings, result)
    if isinstance(stack.peer, OursPeer):
        log(f"{stack.peer.name}, {stack.count} children: status, {status_runs} calls of each kind")
        measure_status(stack.peer, stack, status_runs, result)
    restart_test(stack, settings, result)


def run_count(settings: Settings, status_runs: int, work: Path, run_id: str) -> ScaleRun:
    """Every peer at N = settings.many, the peers taking turns within each round."""
    count = settings.many
    run = ScaleRun(count, load_average())
    peers = [cls(settings) for cls in PEERS]
    for peer in peers:
        result = ScaleResult(peer.name, peer.title, count=count)
        prepared(peer, result)
        run.results.append(result)
    for round_number in range(settings.rounds):
        for peer, result in zip(peers, run.results, strict=True):
            if result.skipped or result.errors:
                continue
            log(f"{peer.name}: {count} children, round {round_number + 1}/{settings.rounds}")
            measure = (
                functools.partial(
                    first_round, settings=settings, status_runs=status_runs, result=result
                )
                if round_number == 0
                else settle_before_stop
            )
            try:
                timed_round(
                    peer,
                    work / peer.name / f"n{count}-round{round_number}",
                    count,
                    run_id,
                    result,
                    measure,
                    bringup_timeout=BRINGUP_TIMEOUT,
                    stop_timeout=STOP_TIMEOUT,
                )
            except (BenchError, OSError, subprocess.TimeoutExpired) as error:
                result.errors.append(f"round {round_number + 1}: {error}")
                log(f"{peer.name}, {count} children: {result.errors[-1]}")
    run.load_after = load_average()
    log(f"{count} children done; load average {run.load_after}")
    return run


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    before, soft, hard = raise_open_files()
    log(f"open-file limit (RLIMIT_NOFILE): soft {before} raised to {soft} (hard {hard})")
    become_subreaper()
    run_id = f"scale-{time.time_ns()}"
    work = Path(tempfile.mkdtemp(prefix="cinder-stack-bench-scale-"))
    base = Settings(
        kills=args.kills,
        restart_budget=args.restart_budget,
        kill_jitter=1.0,
        rounds=args.rounds,
        many=0,
        idle_seconds=args.idle_seconds,
        min_age=1.1,
        circus_check_delay=0.0,
        cache_dir=work,
        flood_budget=0.0,
        floods=0,
    )
    runs: list[ScaleRun] = []
    started = time.monotonic()
    try:
        with cleaned_up(work, run_id, keep=args.keep):
            for count in args.counts:
                settings = dataclasses.replace(base, many=count)
                runs.append(run_count(settings, args.status_runs, work, run_id))
    except KeyboardInterrupt:
        log("interrupted; cleaned up")
        return 130
    limits = {"soft_before": before, "soft": soft, "hard": hard}
    print(report(runs, base, limits))
    if args.json:
        document = payload(runs, base, limits, time.monotonic() - started)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        log(f"raw numbers written to {args.json}")
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0
