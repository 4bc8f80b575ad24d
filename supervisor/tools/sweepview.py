"""`supervisor simulate --sweep`: the outcome per value as a table, as JSON, and as a page."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from supervisor import config
from supervisor.cli.planview import restart_summary
from supervisor.tools.crashschedule import Schedule
from supervisor.tools.report.sweeppage import render_sweep_html
from supervisor.tools.report.timeline import format_offset
from supervisor.tools.sweep import Outcome, Sweep, fatal_edges, run_sweep


def sweep_command(
    plan: config.Plan,
    names: list[str],
    sweep: Sweep,
    schedule: Schedule | None,
    *,
    seed: int,
    duration: float,
    ready_after: float,
    as_json: bool,
    html: str | None,
) -> None:
    """Run the sweep and print it; raises `SweepError` when the sweep cannot apply."""
    outcomes = run_sweep(
        plan,
        names,
        sweep,
        schedule,
        uniform=lambda: random.Random(seed).uniform,
        duration=duration,
        ready_after=ready_after,
    )
    details = _details(plan, names, sweep, outcomes, seed, duration)
    if as_json:
        print(json.dumps(sweep_as_json(sweep, names, outcomes, seed, duration), indent=2))
    else:
        print(describe_sweep(sweep, outcomes, details))
    if html:
        page = render_sweep_html(sweep, outcomes, ", ".join(names), details)
        Path(html).write_text(page, encoding="utf-8")
        if not as_json:
            print(f"\nwrote {html}")


def _details(
    plan: config.Plan,
    names: list[str],
    sweep: Sweep,
    outcomes: list[Outcome],
    seed: int,
    duration: float,
) -> list[str]:
    by_name = {process.name: process for process in plan.processes}
    restart = dict.fromkeys(restart_summary(by_name[name].settings.restart) for name in names)
    crashes = outcomes[0].schedule.describe() if outcomes else ""
    if sweep.parameter.name == "crash_every":
        crashes = crashes.replace(f"{outcomes[0].value:g}s after", "N after")
    swept = "" if sweep.parameter.name == "crash_every" else f"; {sweep.parameter.name} swept"
    return [
        f"simulating {', '.join(names)}: {len(outcomes)} values, {duration:g}s each, seed {seed}",
        f"crashes: {crashes}",
        *(f"restart: {summary}{swept}" for summary in restart),
    ]


def describe_sweep(sweep: Sweep, outcomes: list[Outcome], details: list[str]) -> str:
    name = sweep.parameter.name
    width = max(len(name), *(len(sweep.format(o.value)) for o in outcomes))
    lines = [*details, ""]
    lines.append(f"{name:>{width}}  {'restarts':>8}  {'fatal at':>9}  {'time down':>17}  final")
    for outcome in outcomes:
        fatal = format_offset(outcome.fatal_at) if outcome.fatal_at is not None else "never"
        down = f"{format_offset(outcome.down)} ({100 * outcome.down_fraction:.1f}%)"
        final = ", ".join(sorted(set(outcome.result.states.values())))
        lines.append(
            f"{sweep.format(outcome.value):>{width}}  {outcome.restarts:>8}  {fatal:>9}"
            f"  {down:>17}  {final}"
        )
    lines.append("")
    edges = fatal_edges(outcomes)
    if not edges:
        every = "every value ends in fatal" if outcomes[0].fatal else "no value ends in fatal"
        lines.append(f"{every} in this range")
    for edge in edges:
        where = "below" if edge.fatal < edge.not_fatal else "above"
        lines.append(
            f"fatal {where} {sweep.format(edge.not_fatal)}: {name} = {sweep.format(edge.fatal)}"
            f" goes fatal, {sweep.format(edge.not_fatal)} does not"
        )
    return "\n".join(lines)


def sweep_as_json(
    sweep: Sweep, names: list[str], outcomes: list[Outcome], seed: int, duration: float
) -> dict[str, Any]:
    return {
        "parameter": sweep.parameter.name,
        "simulated": names,
        "seed": seed,
        "duration": duration,
        "values": [
            {
                "value": sweep.typed(outcome.value),
                "schedule": outcome.schedule.describe(),
                "restarts": outcome.restarts,
                "fatal_at": outcome.fatal_at,
                "down_seconds": outcome.down,
                "down_fraction": outcome.down_fraction,
                "states": outcome.result.states,
                "group_status": outcome.result.group_status,
            }
            for outcome in outcomes
        ],
        "fatal_edges": [
            {"fatal": sweep.typed(edge.fatal), "not_fatal": sweep.typed(edge.not_fatal)}
            for edge in fatal_edges(outcomes)
        ],
    }
