"""The measurements: restart latency, bring-up, stop, idle CPU and RSS, survivors of a SIGKILLed
daemon, and restart latency beside an output flood; each peer's part of a test is a Result."""

from __future__ import annotations

import contextlib
import functools
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks.peers import Peer
from benchmarks.peerstack import BRINGUP_TIMEOUT, STOP_TIMEOUT, Stack
from benchmarks.processes import cpu_ns, is_alive, reap_exited, wait_readable
from benchmarks.settings import MIB, BenchError, Settings, log
from benchmarks.workload import flood_landed

RESTART_TIMEOUT = 20.0
SETTLE_BEFORE_STOP = 0.5
SETTLE_BEFORE_IDLE = 2.0
SETTLE_BEFORE_KILL = 0.5
SURVIVOR_WAIT = 1.0
MIN_KILLS_BEFORE_BUDGET = 5
SMALL_STACK = 3
# How long the flood may take to reach every log, and a moment for it to settle.
FLOOD_START_TIMEOUT = 20.0
SETTLE_BEFORE_FLOOD = 1.0


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


def measure_restarts(
    stack: Stack,
    settings: Settings,
    samples: list[float],
    notes: list[str],
    *,
    budget: float,
    what: str,
) -> None:
    """SIGKILL the longest-running child, `settings.kills` times, and time until its successor's
    line arrives (`budget`: seconds after which to stop, once a few kills are in).

    A child is killed only once it is min_age old, and then after a random extra pause, so the
    kills fall at random moments of any periodic work of the peer (circus polls for dead
    children every check_delay seconds; without the pause every kill would land at the same
    phase of that poll).
    """
    rng = random.Random(20240601)
    jitter = max(settings.kill_jitter, stack.peer.poll_period)
    budget_end = time.monotonic() + budget
    running = dict(stack.listener.started)
    for number in range(settings.kills):
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


def settle_before_stop(stack: Stack) -> None:
    stack.pump_until(time.monotonic() + SETTLE_BEFORE_STOP)


def restart_test(stack: Stack, settings: Settings, result: PeerResult) -> None:
    """`measure_restarts` into result.restart_ms, within settings.restart_budget."""
    log(f"{stack.peer.name}, {stack.count} children: restart latency over {settings.kills} kills")
    measure_restarts(
        stack,
        settings,
        result.restart_ms,
        result.notes,
        budget=settings.restart_budget,
        what="restart test",
    )


def idle_test(stack: Stack, settings: Settings, result: PeerResult) -> None:
    """`measure_idle`, once the stack has settled."""
    log(
        f"{stack.peer.name}, {stack.count} children: idle CPU and RSS over "
        f"{settings.idle_seconds:g} s"
    )
    stack.pump_until(time.monotonic() + SETTLE_BEFORE_IDLE)
    measure_idle(stack, settings, result)


def timed_round(
    peer: Peer,
    run_dir: Path,
    count: int,
    run_id: str,
    result: PeerResult,
    measure: Callable[[Stack], None] = settle_before_stop,
    *,
    bringup_timeout: float = BRINGUP_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
) -> None:
    """One stack of `count` children: its bring-up into result.bringup_ms[str(count)], then
    `measure(stack)`, then its stop into result.stop_ms and what outlived the stop."""
    label = str(count)
    with Stack(peer, run_dir, count, run_id) as stack:
        up = stack.wait_children(count, bringup_timeout)
        result.bringup_ms.setdefault(label, []).append((up - stack.launched) * 1000)
        measure(stack)
        result.stop_ms.setdefault(label, []).append(stack.stop(stop_timeout) * 1000)
        result.leftovers_after_stop = max(result.leftovers_after_stop, stack.leftovers_after_stop())


def first_round(stack: Stack, settings: Settings, result: PeerResult) -> None:
    """What the first round of each size measures: restarts on the small stack, the idle cost
    on the large one."""
    if stack.count == SMALL_STACK:
        restart_test(stack, settings, result)
    if stack.count == settings.many:
        idle_test(stack, settings, result)
    else:
        settle_before_stop(stack)


def run_peer(peer: Peer, settings: Settings, work: Path, run_id: str) -> PeerResult:
    result = PeerResult(peer.name, peer.title)
    if not prepared(peer, result):
        return result
    base = work / peer.name
    measure_first = functools.partial(first_round, settings=settings, result=result)
    for count in sorted({SMALL_STACK, settings.many}):
        result.bringup_ms[str(count)] = []
        result.stop_ms[str(count)] = []
        for round_number in range(settings.rounds):
            log(f"{peer.name}: {count} children, round {round_number + 1}/{settings.rounds}")
            try:
                timed_round(
                    peer,
                    base / f"n{count}-round{round_number}",
                    count,
                    run_id,
                    result,
                    measure_first if round_number == 0 else settle_before_stop,
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
                        budget=settings.flood_budget,
                        what="quiet run",
                    )
        except (BenchError, OSError) as error:
            result.errors.append(f"{label}: {error}")
            log(f"{peer.name}: {result.errors[-1]}")
            break
    return result
