"""`supervisor simulate`: replay a crash schedule through the real restart policy, and show it."""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

from supervisor import config
from supervisor.cli.planview import restart_summary
from supervisor.policy.strategy import GroupPolicy
from supervisor.shared.exits import EXIT_CONFIG_INVALID, EXIT_OK, EXIT_USAGE
from supervisor.tools.crashschedule import Schedule, ScheduleError, parse_duration, parse_schedule
from supervisor.tools.simulate import Simulation, SimulationResult, processes_named
from supervisor.tools.sweep import SweepError, parse_sweep
from supervisor.tools.sweepview import sweep_command

DEFAULT_SEED = 0
DEFAULT_DURATION = "1h"


def add_simulate_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--service",
        action="append",
        required=True,
        metavar="NAME",
        help="a service (each of its processes) or one process; repeatable",
    )
    sub.add_argument(
        "--crashes",
        metavar="SCHEDULE",
        help="'every 2s for 60s [exit 1]' (a run length), 'runs 0.5:1, 2:KILL' (each run's)"
        " or '1.5:1, 3.2:137, 10:KILL' (absolute times of exits);"
        " needed unless --sweep crash_every=...",
    )
    sub.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the backoff's jitter (default 0)"
    )
    sub.add_argument(
        "--duration",
        default=DEFAULT_DURATION,
        metavar="TIME",
        help=f"simulated time at most (default {DEFAULT_DURATION})",
    )
    sub.add_argument(
        "--ready-after",
        default="0",
        metavar="TIME",
        help="when a notify service sends READY=1 after its start (default 0)",
    )
    sub.add_argument("--json", action="store_true", help="print the events and the outcome as JSON")
    sub.add_argument(
        "--sweep",
        metavar="PARAMETER=RANGE",
        help="one simulation per value, like crash_every=1s..10s:1s or start_limit.burst=1,3,5"
        " (docs/guides/testing-restart-policies.md)",
    )
    sub.add_argument("--html", metavar="FILE", help="with --sweep: also write the chart's page")


def run_simulate(args: argparse.Namespace) -> int:
    try:
        plan = config.load(args.config)
    except config.ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG_INVALID
    try:
        names = processes_named(plan, args.service)
        sweep = parse_sweep(args.sweep) if args.sweep else None
        if args.crashes is None and (sweep is None or sweep.parameter.name != "crash_every"):
            raise ScheduleError("--crashes is needed (only --sweep crash_every=... goes without)")
        if args.html and sweep is None:
            raise ScheduleError("--html draws a sweep: give --sweep too")
        schedule = parse_schedule(args.crashes) if args.crashes is not None else None
        duration = parse_duration(args.duration)
        ready_after = parse_duration(args.ready_after)
        if sweep is not None:
            sweep_command(
                plan,
                names,
                sweep,
                schedule,
                seed=args.seed,
                duration=duration,
                ready_after=ready_after,
                as_json=args.json,
                html=args.html,
            )
            return EXIT_OK
    except (KeyError, ScheduleError, SweepError) as error:
        print(f"supervisor simulate: {error.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    assert schedule is not None
    result = Simulation(
        plan,
        names,
        schedule,
        uniform=random.Random(args.seed).uniform,
        duration=duration,
        ready_after=ready_after,
    ).run()
    if args.json:
        print(json.dumps(result_as_json(result, schedule, args.seed), indent=2))
    else:
        print(describe_simulation(plan, result, schedule, args.seed, ready_after))
    return EXIT_OK


def result_as_json(result: SimulationResult, schedule: Schedule, seed: int) -> dict[str, Any]:
    return {
        "simulated": list(result.simulated),
        "steady": list(result.steady),
        "group_members": list(result.group_members),
        "schedule": schedule.describe(),
        "seed": seed,
        "events": result.events,
        "end": {
            "time": round(result.end, 6),
            "why": result.finished,
            "states": result.states,
            "starts": {name: result.starts(name) for name in result.simulated},
            "group_status": result.group_status,
            "would_exit_with": result.would_exit_with,
            "first_failure": result.first_failure,
        },
    }


def describe_simulation(
    plan: config.Plan,
    result: SimulationResult,
    schedule: Schedule,
    seed: int,
    ready_after: float,
) -> str:
    by_name = {process.name: process for process in plan.processes}
    named = [name for name in result.simulated if name not in result.group_members]
    lines = [f"simulating {', '.join(named)}"]
    if result.group_members:
        members = ", ".join(result.group_members)
        lines.append(f"  with      {members}: members of its group, never exiting by themselves")
    for summary in dict.fromkeys(_settings_summary(by_name[name], ready_after) for name in named):
        lines.append(summary)
    lines.append(f"  crashes   {schedule.describe()}")
    lines.append(f"  seed      {seed}")
    if result.steady:
        steady = [_critical_mark(by_name[name]) for name in result.steady]
        lines.append(f"  assumed to run steadily: {', '.join(steady)}")
    lines += [f"  group     {group_summary(group)}" for group in plan.groups]
    width = max(len(name) for name in by_name)
    lines += ["", f"{'time':>9}  {'process':<{width}}  {'transition':<21}  cause"]
    for event in result.events:
        lines.append(_event_line(event, width))
    lines += ["", f"end at {result.end:.3f}s: {result.finished}"]
    for name in result.simulated:
        state = result.states[name]
        last = result.of(name)[-1]
        status = f", last exit status {last['exit_status']}" if "exit_status" in last else ""
        lines.append(f"  {name:<{width}}  {state} after {result.starts(name)} starts{status}")
    lines.append(f"  group: {_group_outcome(plan, result)}")
    return "\n".join(lines)


def _settings_summary(process: config.ProcessPlan, ready_after: float) -> str:
    settings = process.settings
    if settings.oneshot:
        ready = "a one-shot job: starting until it exits"
    elif settings.readiness is not None:
        also = " and READY=1" if settings.notify else ""
        ready = f"on a passing readiness probe{also}, assumed {ready_after:g}s after the start"
    elif settings.notify:
        ready = f"on READY=1, assumed {ready_after:g}s after the start"
    else:
        ready = f"after {settings.start_seconds:g}s up"
    critical = "; critical" if settings.critical else ""
    return f"  restart   {restart_summary(settings.restart)}\n  running   {ready}{critical}"


def group_summary(group: GroupPolicy) -> str:
    """`core: rest_for_one of db, api, worker; at most 2 restarts in 30s`, for a header."""
    parts = [f"{group.name}: {group.strategy} of {', '.join(group.services)}"]
    if group.intensity is not None:
        parts.append(f"at most {group.intensity} restarts in {group.period:g}s")
    if group.significant:
        parts.append(f"ends on {group.ends_when} of {', '.join(sorted(group.significant))}")
    if group.critical:
        parts.append("critical")
    return "; ".join(parts)


def _critical_mark(process: config.ProcessPlan) -> str:
    return f"{process.name} (critical)" if process.settings.critical else process.name


def _event_line(event: dict[str, Any], width: int) -> str:
    time = f"{event['time']:8.3f}s"
    if event["event"] == "state":
        transition = f"{event['from']} → {event['to']}"
        return f"{time}  {event['unit']:<{width}}  {transition:<21}  {event['cause']}"
    if event["event"] == "group":
        status = f" with status {event['status']}" if "status" in event else ""
        return f"{time}  {'(group)':<{width}}  {event['action'] + status:<21}  {event['cause']}"
    if event["event"] == "strategy":
        what = f"group {event['action']}: {', '.join(event['members'])}"
        return f"{time}  {'(' + event['group'] + ')':<{width}}  {what:<21}  {event['cause']}"
    return f"{time}  {event['unit']:<{width}}  {'(ignored exit)':<21}  {event['cause']}"


def _group_outcome(plan: config.Plan, result: SimulationResult) -> str:
    if result.group_status is not None:
        return f"ended with exit status {result.group_status}"
    if result.first_failure is None:
        return "keeps running; nothing failed for good, so it would end with status 0"
    return (
        f"keeps running without the failed processes (none of them is critical); when it ends,"
        f" its exit status will be {result.would_exit_with}"
        f" ({result.first_failure} failed for good first)"
    )
