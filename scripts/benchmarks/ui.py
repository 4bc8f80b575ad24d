"""What `supervisor ui` costs the supervisor, and how quickly it answers a key.

Attached UIs: a stack of `--processes` processes (one service of N - 1 `sleep` workers and
one unrelated process, `victim`, restarted at once by its policy) is measured with no UI and
with `--uis` real `supervisor ui` processes attached (each in an 80x24 tmux window, its table
and log pane drawn as a user sees them); then beside an event storm (a process that sends
`STATUS=` about STORM_RATE times a second: an event each), with no UI, with `--uis` UIs, and
with one UI that is stopped (SIGSTOP, as Ctrl-Z stops it) for the whole run.  In each run, for
`--duration` seconds:

- the supervisor's loop latency: the round trip of a `status victim` request on the control
  socket every 20 ms (what any client, and the loop's every other duty, waits);
- an unrelated restart: the victim SIGKILLed `--kills` times, from the kill to its new run's
  `running` event (the supervisor's own timestamp).

Each is reported as p50 and p90, with the ratio against the run without UIs (a storm's runs:
against the storm's run without UIs).  The stopped run
also says whether the supervisor dropped the stopped UI's stream (its backlog past 1 MiB) and
whether that UI, continued, subscribed again.

Keys: a stack of `--keys-processes` `sleep` workers of one service (unfolded: a row each) and
one process writing its log as fast as it can (`yes`), one UI with the flood's log in its
pane; the time from a key sent to the terminal (`tmux send-keys`) to the screen showing its
effect (`tmux capture-pane`, read every few milliseconds): Down (the selection and the log
pane move to the next process), `e` (the events view and back), Enter (fold and unfold the
thousand rows).

    scripts/bench ui [--processes 100] [--uis 5] [--duration 20] [--kills 20]
                     [--keys-processes 1000] [--key-presses 20] [--only attached|keys]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.probes import EventTail, restart_latency, running_stack, supervisor
from benchmarks.report import host_title, p90
from benchmarks.tmux import Tmux
from supervisor.control.client import ControlClient

REPO = Path(__file__).resolve().parent.parent.parent
LOOP_SAMPLE_SECONDS = 0.02
SCREEN_POLL_SECONDS = 0.003
SETTLE_SECONDS = 2.0
VICTIM = (
    '[services.victim]\ncommand = ["sleep", "100000"]\nstart_seconds = 0\n'
    '[services.victim.restart]\npolicy = "always"\n'
    "backoff = { initial = 0.0, max = 0.0, factor = 1.0, jitter = 0.0, reset_after = 1.0 }\n"
    "start_limit = { burst = 1000, interval = 1.0 }\n"
)
# One event per datagram, STORM_RATE a second.
STORM_RATE = 1000
STORM = (
    "[services.storm]\n"
    'command = ["python3", "-c", """\n'
    "import os, socket, time\n"
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
    "address = os.environ['NOTIFY_SOCKET']\n"
    "address = '\\\\0' + address[1:] if address.startswith('@') else address\n"
    "n = 0\n"
    "while True:\n"
    "    n += 1\n"
    # %: braces would be the services file's placeholders.
    "    s.sendto(b'STATUS=storm %d' % n, address)\n"
    f"    time.sleep({1 / STORM_RATE})\n"
    '"""]\n'
    "start_seconds = 0\n"
)
FLOOD = (
    '[services.flood]\ncommand = ["yes", "a line of a flood, written as fast as yes can"]\n'
    "start_seconds = 0\n"
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench ui", description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=100)
    parser.add_argument("--uis", type=int, default=5)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per run")
    parser.add_argument("--kills", type=int, default=20, help="victim restarts per run")
    parser.add_argument("--keys-processes", type=int, default=1000, help="0: no keys run")
    parser.add_argument("--key-presses", type=int, default=20)
    parser.add_argument(
        "--only", choices=("attached", "keys"), help="one of the two benchmarks, not both"
    )
    args = parser.parse_args(argv)
    print(host_title("scripts/bench ui"))
    print(f"load average at the start {_load()}; command: scripts/bench ui {shlex.join(argv)}")
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        if args.only != "keys":
            attached(work, args)
        if args.keys_processes and args.only != "attached":
            keys(work / "keys", args)
    print(f"load average at the end {_load()}")
    return 0


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# -- attached UIs against none --------------------------------------------------------------


def attached(work: Path, args: argparse.Namespace) -> None:
    # (title, UIs, storm, whether the first UI is stopped, the index of the run it is held
    # against)
    runs = [
        ("no UI", 0, False, False, 0),
        (f"{args.uis} UIs", args.uis, False, False, 0),
        ("an event storm, no UI", 0, True, False, 2),
        (f"an event storm, {args.uis} UIs", args.uis, True, False, 2),
        ("an event storm, one UI, stopped", 1, True, True, 2),
    ]
    results: list[dict[str, Any]] = []
    for index, (_, uis, storm, stop_first, _) in enumerate(runs):
        run_dir = work / f"run{index}"
        results.append(measure(run_dir, args, uis, storm=storm, stop_first=stop_first))
    print(
        f"\n{args.processes} processes (sleep workers and a victim), {args.duration:g}s per run,"
        f" {args.kills} victim restarts, the loop's round trip every "
        f"{LOOP_SAMPLE_SECONDS * 1000:g} ms; ratios against the run without UIs"
    )
    print("| run | loop p50 | loop p90 | restart p50 | restart p90 | notes |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (title, _, _, _, against), result in zip(runs, results, strict=True):
        base = results[against]
        cells = [
            _with_ratio(result[key], base[key])
            for key in ("loop_p50", "loop_p90", "restart_p50", "restart_p90")
        ]
        print(f"| {title} | {' | '.join(cells)} | {result['notes']} |")


def _with_ratio(value: float, base: float) -> str:
    return f"{value * 1000:.2f} ms ({value / base:.2f}x)" if base else f"{value * 1000:.2f} ms"


def stack_toml(run_dir: Path, sleepers: int, extra: str) -> Path:
    config = run_dir / "services.toml"
    config.write_text(
        f'[supervisor]\nstate_dir = "{run_dir / "state"}"\n\n'
        '[services.sleeper]\ncommand = ["sleep", "100000"]\n'
        f"workers = {sleepers}\nstart_seconds = 0\n\n{extra}"
    )
    return config


def measure(
    run_dir: Path, args: argparse.Namespace, uis: int, *, storm: bool, stop_first: bool
) -> dict[str, Any]:
    """One run; with `stop_first`, the first UI is stopped for the whole of it."""
    run_dir.mkdir()
    config = stack_toml(run_dir, args.processes - 1, VICTIM + ("\n" + STORM if storm else ""))
    stopped = stop_first and uis > 0
    with running_stack(config, "sleeper", "victim"), Tmux() as tmux:
        windows = [tmux.open(supervisor("ui", config=config), run_dir) for _ in range(uis)]
        for window in windows:
            tmux.wait_for(window, r"^ victim +running", 120)
        events = EventTail(run_dir / "state" / "events.jsonl")
        frozen = None
        if stopped:
            frozen = ui_pid(config, windows[0], tmux)
            os.kill(frozen, signal.SIGSTOP)
        time.sleep(SETTLE_SECONDS)
        storm_before = _storm_events(run_dir)
        with LoopSampler(config.parent / "state") as sampler:
            latencies = []
            start = time.monotonic()
            for kill in range(args.kills):
                pause = start + (kill + 0.5) * args.duration / args.kills - time.monotonic()
                time.sleep(max(0.0, pause))
                latencies.append(restart_latency(events))
            time.sleep(max(0.0, start + args.duration - time.monotonic()))
        notes = "-"
        if storm:
            rate = (_storm_events(run_dir) - storm_before) / args.duration
            notes = f"{rate:.0f} storm events/s"
        if frozen is not None:
            notes += "; " + stopped_notes(run_dir, tmux, windows[0], frozen)
    rtts = sampler.samples
    return {
        "loop_p50": _median(rtts),
        "loop_p90": p90(rtts) or 0.0,
        "restart_p50": _median(latencies),
        "restart_p90": p90(latencies) or 0.0,
        "notes": notes,
    }


def stopped_notes(run_dir: Path, tmux: Tmux, window: str, pid: int) -> str:
    """Whether the supervisor dropped the stopped UI, and whether it came back once continued."""
    dropped = sum(
        1
        for line in (run_dir / "state" / "events.jsonl").read_text().splitlines()
        if '"dropped"' in line
        and (record := json.loads(line)).get("event") == "control"
        and record.get("action") == "dropped"
    )
    os.kill(pid, signal.SIGCONT)
    try:
        tmux.wait_for(window, r"dropped this UI's events.*subscribed again", 60)
        back = "continued, it subscribed again"
    except TimeoutError:
        back = "continued, it did not say it subscribed again"
    return f"the stopped UI's stream dropped {dropped}x; {back}"


def _storm_events(run_dir: Path) -> int:
    return (run_dir / "state" / "events.jsonl").read_text().count('"STATUS": "storm')


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


def ui_pid(config: Path, window: str, tmux: Tmux) -> int:
    """The `supervisor ui` process of a window (the shell's child)."""
    shell = int(tmux.run("display-message", "-p", "-t", window, "#{pane_pid}").strip())
    children = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(shell)], capture_output=True, text=True
    ).stdout
    for line in children.splitlines():
        pid, _, command = line.strip().partition(" ")
        if " ui " in f" {command} ":
            return int(pid)
    raise RuntimeError(f"no supervisor ui under the shell {shell}: {children}")


class LoopSampler(threading.Thread):
    """A `status victim` round trip every LOOP_SAMPLE_SECONDS, on one connection."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(daemon=True)
        self._client = ControlClient(state_dir, timeout=30)
        self._done = threading.Event()
        self.samples: list[float] = []

    def __enter__(self) -> LoopSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self.join()
        self._client.close()

    def run(self) -> None:
        while not self._done.wait(LOOP_SAMPLE_SECONDS):
            began = time.perf_counter()
            self._client.request("status", names=["victim"])
            self.samples.append(time.perf_counter() - began)


# -- keys -----------------------------------------------------------------------------------


def keys(run_dir: Path, args: argparse.Namespace) -> None:
    run_dir.mkdir()
    config = stack_toml(run_dir, args.keys_processes, FLOOD)
    print(
        f"\nkeys: {args.keys_processes} sleep workers (unfolded) and a log flood (yes), one UI "
        f"with the flood's log in view; {args.key_presses} presses each"
    )
    with running_stack(config, "sleeper", "flood"), Tmux() as tmux:
        window = tmux.open(supervisor("ui", config=config), run_dir)
        tmux.wait_for(window, r"^sleeper \(\d+/\d+ running\) \[folded\]", 180)
        tmux.send(window, "Enter")  # unfold: a row for each of the thousand
        tmux.wait_for(window, r"^ sleeper#1 ", 60)
        select_flood(tmux, window)
        results = {
            "Down, Up (select, its log)": measure_key(
                tmux, window, args.key_presses, ["Down", "Up"], _pane_title
            ),
            "e (events view, and back)": measure_key(
                tmux, window, args.key_presses, ["e", "e"], _pane_title
            ),
        }
        tmux.send(window, "Home")  # the sleepers' header
        tmux.wait_for(window, r"^ log: sleeper \(", 60)
        results["Enter (fold, unfold 1,000 rows)"] = measure_key(
            tmux, window, max(2, args.key_presses // 2), ["Enter"], _first_rows
        )
        log = run_dir / "state" / "logs" / "flood.log"
        flood_bytes = sum(p.stat().st_size for p in log.parent.glob("flood.log*"))
    print("| key | p50 | p90 | max |")
    print("| --- | --- | --- | --- |")
    for title, samples in results.items():
        print(
            f"| {title} | {_median(samples) * 1000:.0f} ms | {(p90(samples) or 0) * 1000:.0f} ms"
            f" | {max(samples) * 1000:.0f} ms |"
        )
    print(f"(the flood's log files held {flood_bytes / 2**20:.0f} MiB at the end)")


def _pane_title(screen: str) -> str:
    return next(
        (line for line in screen.splitlines() if re.match(r"^ (log|events|why): ", line)), ""
    )


def _first_rows(screen: str) -> str:
    return "\n".join(screen.splitlines()[2:6])


def select_flood(tmux: Tmux, window: str) -> None:
    """The flood runs after the sleepers: from the bottom of the table."""
    tmux.send(window, "End")
    tmux.wait_for(window, r"^ log: flood", 60)


def measure_key(
    tmux: Tmux, window: str, presses: int, cycle: list[str], seen: Callable[[str], str]
) -> list[float]:
    """Seconds from each key to the screen's change (what `seen` picks out of it).  The count
    is rounded up to whole cycles, so the screen ends as it began (the events view closed, the
    selection back) for the next measure."""
    samples = []
    presses = -(-presses // len(cycle)) * len(cycle)
    for index in range(presses):
        key = cycle[index % len(cycle)]
        before = seen(tmux.screen(window))
        began = time.perf_counter()
        tmux.send(window, key)
        deadline = began + 30
        while seen(tmux.screen(window)) == before:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{key}: the screen did not change within 30s")
            time.sleep(SCREEN_POLL_SECONDS)
        samples.append(time.perf_counter() - began)
    return samples
