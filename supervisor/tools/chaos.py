"""`supervisor chaos`: kill random processes on a seeded schedule and check invariants.

The stack runs from a copy of the services file, with its state in a temporary directory, so a
chaos run never disturbs a stack already running from the same file. A process is only killed
while its start limit has room for one more restart, so the stack keeps running for the whole
duration instead of giving up (which would only prove the start limit works). Invariants:
- every crash under a restarting policy is restarted within the delay its policy chose + 50 ms,
  counted from the moment the supervisor saw the exit (a SIGKILLed process can take a while to
  die, e.g. in the middle of an fsync; that time is reported, not judged);
- every unit's transitions form an unbroken chain (each `from` is the previous `to`): no event
  was lost;
- `status` answers every time it is asked;
- no process outlives the group;
- the group exits with status 0.  After the last kill, chaos waits until the supervisor has seen
  every killed process exit and every process is ready again, and only then stops the stack: a
  kill that lands as the stop begins would end that unit uncleanly (SIGKILL is not its stop
  signal), and the group would rightly report 137.

A copy whose processes would bind ports the running original holds is refused (exit 2), naming
the service and the port, instead of starting a stack that dies of "Address already in use".
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from supervisor.config import ConfigError, ProcessPlan, load
from supervisor.shared.exits import EXIT_CONFIG_INVALID, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from supervisor.tools.stackdriver.ports import PortsHeld, refuse_held_ports
from supervisor.tools.stackdriver.running import Event, WaitTimeout
from supervisor.tools.stackdriver.stack import Stack, write_test_config

RESTART_SLACK = 0.05
STATUS_TIMEOUT = 1.0
SETTLE_TIMEOUT = 60.0  # for the stack to be ready again after the last kill
EXIT_REFUSED = EXIT_USAGE  # the copy would collide with the running original


@dataclass
class Verdict:
    kills: int = 0
    restarts_checked: int = 0
    worst_overshoot: float = 0.0
    worst_exit_seen: float = 0.0  # from the kill to the supervisor seeing the exit
    status_failures: int = 0
    violations: list[str] = field(default_factory=list)
    # What is allowed: the defaults hold on a machine with a core to spare; a loaded machine
    # (a busy CI runner) makes every process wait for a core, and is given more.
    restart_slack: float = RESTART_SLACK
    status_timeout: float = STATUS_TIMEOUT

    @property
    def passed(self) -> bool:
        return not self.violations

    def judge_exit(self, status: int | None) -> None:
        if status != 0:
            self.violations.append(
                f"the group exited with status {status}, not 0, although every killed process"
                " was restarted and ready before the stop"
            )

    def render(self, duration: float, seed: int, group_status: int | None) -> str:
        lines = [
            f"chaos: {'PASS' if self.passed else 'FAIL'} after {duration:.0f}s (seed {seed})",
            f"  processes killed              {self.kills}",
            f"  restarts checked              {self.restarts_checked}",
            f"  worst restart beyond delay    {self.worst_overshoot * 1000:.1f} ms"
            f" (allowed {self.restart_slack * 1000:.0f} ms)",
            f"  worst kill-to-exit seen       {self.worst_exit_seen * 1000:.1f} ms",
            f"  status failed to answer       {self.status_failures} times",
            f"  group exit status             {group_status}",
        ]
        if self.violations:
            lines.append(f"  violations ({len(self.violations)}):")
            lines += [f"    - {violation}" for violation in self.violations[:15]]
            if len(self.violations) > 15:
                lines.append(f"    ... and {len(self.violations) - 15} more")
        return "\n".join(lines)


def _time(event: Event) -> float:
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()


def check_restarts(events: list[Event], verdict: Verdict) -> None:
    """Each kill is followed, for its unit, by backoff then starting within delay + slack."""
    for index, fault in enumerate(events):
        if fault.get("event") != "fault" or fault.get("kind") != "kill":
            continue
        following = [
            e
            for e in events[index + 1 :]
            if e.get("event") == "state" and e["unit"] == fault["unit"]
        ]
        if len(following) < 2 or following[0]["to"] != "backoff":
            continue  # the policy did not restart it, or the run ended first: nothing to time
        backoff, start = following[0], following[1]
        if start["to"] != "starting":
            continue  # stopped while waiting: the group was shutting down
        verdict.worst_exit_seen = max(verdict.worst_exit_seen, _time(backoff) - _time(fault))
        overshoot = _time(start) - _time(backoff) - backoff.get("delay", 0.0)
        verdict.restarts_checked += 1
        verdict.worst_overshoot = max(verdict.worst_overshoot, overshoot)
        if overshoot > verdict.restart_slack:
            verdict.violations.append(
                f"{fault['unit']}: restarted {overshoot * 1000:.0f} ms after its delay"
            )


def check_chains(events: list[Event], verdict: Verdict) -> None:
    last: dict[str, str] = {}
    for event in events:
        if event.get("event") != "state":
            continue
        unit = event["unit"]
        if unit in last and event["from"] != last[unit]:
            verdict.violations.append(
                f"{unit}: went {event['from']} -> {event['to']} after being {last[unit]}"
            )
        last[unit] = event["to"]


def _has_restart_budget(process: ProcessPlan, stack: Stack) -> bool:
    """True while one more restart stays within the process's start limit (with a second of
    margin on the window, so a restart about to leave it is still counted)."""
    limit = process.settings.restart.start_limit
    since = time.time() - limit.interval - 1.0
    restarts = stack.events(event="state", unit=process.name, to="backoff")
    return sum(_time(event) > since for event in restarts) < limit.burst - 1


def _victims(stack: Stack, verdict: Verdict) -> list[dict[str, Any]]:
    started = time.monotonic()
    try:
        processes = stack.status()
    except (OSError, TimeoutError, AssertionError) as error:
        verdict.status_failures += 1
        verdict.violations.append(f"status did not answer: {error}")
        return []
    if time.monotonic() - started > verdict.status_timeout:
        verdict.status_failures += 1
        verdict.violations.append(f"status took longer than {verdict.status_timeout:g} s to answer")
    return [p for p in processes if p["state"] == "running" and p["pid"]]


def run_chaos(
    config: Path,
    duration: float,
    seed: int,
    mean_interval: float,
    restart_slack: float = RESTART_SLACK,
    status_timeout: float = STATUS_TIMEOUT,
) -> int:
    # Kept afterwards, so `supervisor report` can draw the run: the verdict says where.
    scratch = Path(tempfile.mkdtemp(prefix="supervisor-chaos-"))
    state_dir = scratch / "state"
    copy = write_test_config(config, scratch / "services.toml", state_dir, {})
    try:
        refuse_held_ports(config, copy)
    except PortsHeld as error:
        print(f"chaos: refused: {error}", file=sys.stderr)
        return EXIT_REFUSED
    plans = {process.name: process for process in load(copy).processes}
    verdict = Verdict(restart_slack=restart_slack, status_timeout=status_timeout)
    stack = Stack(copy, state_dir)
    group_status = None
    try:
        group_status = _unleash(stack, plans, verdict, duration, random.Random(seed), mean_interval)
    except WaitTimeout as error:
        verdict.violations.append(str(error).splitlines()[0])
    finally:
        stack.close()
        for process in stack.leftovers():
            verdict.violations.append(f"outlived the group: {process.pid} {process.name()}")
            process.kill()
    events = list(stack.events())
    check_restarts(events, verdict)
    check_chains(events, verdict)
    print(verdict.render(duration, seed, group_status))
    print(f"  events                        {state_dir / 'events.jsonl'}")
    return EXIT_OK if verdict.passed else EXIT_FAILED


def _unleash(
    stack: Stack,
    plans: dict[str, ProcessPlan],
    verdict: Verdict,
    duration: float,
    chance: random.Random,
    mean_interval: float,
) -> int:
    """Kill on schedule for `duration`, let the stack settle, stop it: the group's status."""
    stack.wait_ready(timeout=SETTLE_TIMEOUT)
    killed: list[tuple[str, int]] = []
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        # The schedule is seeded: the same seed kills in the same rhythm.
        time.sleep(min(chance.expovariate(1 / mean_interval), deadline - time.monotonic()))
        victims = [
            victim
            for victim in _victims(stack, verdict)
            if victim["name"] in plans and _has_restart_budget(plans[victim["name"]], stack)
        ]
        if victims:
            victim = chance.choice(sorted(victims, key=lambda p: p["name"]))
            reply = stack.control("fault", name=victim["name"], kind="kill", arguments={})
            if reply.get("ok"):
                verdict.kills += 1
                killed.append((reply["process"], reply["pid"]))
    _settle(stack, killed)
    status = stack.stop()
    verdict.judge_exit(status)
    return status


def _settle(stack: Stack, killed: list[tuple[str, int]]) -> None:
    """Wait until the supervisor has seen every killed process exit, then until every process
    is ready again: a stop from here on ends only healthy processes."""

    def exits_seen() -> bool:
        ended = {
            (e["unit"], e.get("pid")) for e in stack.events(event="state") if "exit_status" in e
        }
        return all(kill in ended for kill in killed)

    stack.wait_until(exits_seen, SETTLE_TIMEOUT, "the supervisor to see every killed process exit")
    stack.wait_ready(timeout=SETTLE_TIMEOUT)


def add_chaos_arguments(chaos: argparse.ArgumentParser) -> None:
    chaos.add_argument("--duration", type=float, default=60.0, metavar="SECONDS")
    chaos.add_argument("--seed", type=int, default=7)
    chaos.add_argument(
        "--interval", type=float, default=1.0, metavar="SECONDS", help="mean time between kills"
    )
    chaos.add_argument(
        "--restart-slack",
        type=float,
        default=RESTART_SLACK,
        metavar="SECONDS",
        help="how late after its delay a restart may start",
    )
    chaos.add_argument(
        "--status-timeout",
        type=float,
        default=STATUS_TIMEOUT,
        metavar="SECONDS",
        help="how long status may take to answer",
    )


def run_chaos_command(args: argparse.Namespace) -> int:
    try:
        load(args.config)  # an invalid file is refused as `run` refuses it, before any copy
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG_INVALID
    return run_chaos(
        Path(args.config),
        args.duration,
        args.seed,
        args.interval,
        args.restart_slack,
        args.status_timeout,
    )
