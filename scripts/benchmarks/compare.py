"""Benchmark our supervisor against a bare respawn loop and three well-known supervisors.

For every peer, in one run on this host:

* restart latency: from SIGKILL of a child to the first line of its successor (p50, p90);
* bring-up: from launching the daemon until 3 (and 100) children have each written a line;
* stop: from SIGTERM to the daemon until it has exited and all 100 children are gone;
* idle CPU (% of one core) and RSS of the daemon while it supervises 100 children;
* survivors: children and grandchildren still alive 1 s after the daemon is SIGKILLed;
* flood: restart latency again, without and then with services that write to stdout as fast as
  the peer takes it into rotating log files, and that throughput (see `measure.measure_flood`).

Peers: ``ours`` (``supervisor run``), ``bare`` (a fork/exec + waitpid loop, `peers.bare_loop`: the
floor), ``supervisord`` and ``circus`` (installed with pip into a cached throwaway venv) and
``s6`` (only where Debian's s6 package is installed).

Every child is the same shell one-liner, ``echo up $$ > FIFO; exec sleep 3600``: it writes one
short line (atomic, being under PIPE_BUF) to a FIFO the bench listens on, then becomes a
sleeping process with the same pid.  The bench makes itself a child subreaper, so every process
a peer leaves behind is re-parented to the bench, where it is counted and then killed.

`--only-flood` runs the flood test alone; `--no-flood` leaves it out.  This module reads the
options and runs the tests; `peers` and `pippeers` set up each peer, `peerstack` runs one of
its daemons, `measure` takes the figures and `report` writes the tables.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.measure import FloodResult, PeerResult, run_flood, run_peer
from benchmarks.peers import BarePeer, OursPeer, Peer, S6Peer
from benchmarks.pippeers import CircusPeer, SupervisordPeer
from benchmarks.processes import CPU_METHOD, become_subreaper, cleaned_up
from benchmarks.report import (
    flood_numbers,
    host_facts,
    host_title,
    key_numbers,
    report,
    report_flood,
)
from benchmarks.settings import Settings, log

ALL_PEERS = ("bare", "ours", "supervisord", "circus", "s6")
PEER_ALIASES = {"supervisor": "ours", "floor": "bare"}
PEER_CLASSES: dict[str, type[Peer]] = {
    cls.name: cls for cls in (BarePeer, OursPeer, SupervisordPeer, CircusPeer, S6Peer)
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
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
        with cleaned_up(work, run_id, keep=args.keep):
            for name in [] if args.only_flood else names:
                results.append(run_peer(PEER_CLASSES[name](settings), settings, work, run_id))
            for name in [] if args.no_flood else names:
                floods.append(run_flood(PEER_CLASSES[name](settings), settings, work, run_id))
    except KeyboardInterrupt:
        log("interrupted; cleaned up")
        return 130
    sections = [host_title("Supervisor benchmark")]
    if results:
        sections.append(report(results, settings))
    if floods:
        sections.append(report_flood(floods, settings))
    print("\n\n".join(sections))
    if args.json:
        payload = {
            "host": host_facts(),
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
