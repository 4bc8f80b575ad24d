"""How `supervisor check` shows a resolved plan, for people and for scripts.

Both show each process's own values, interpolated, with every value that came from an env file
as `***` (`ProcessPlan.shown`): a `check` in a CI log must not print the secrets it checked.
"""

from __future__ import annotations

import json
import shlex
import signal
from typing import Any

from supervisor.config import Plan, ProcessPlan
from supervisor.policy.restart import RestartPolicy


def restart_summary(policy: RestartPolicy) -> str:
    backoff, limit = policy.backoff, policy.start_limit
    return (
        f"{policy.policy}; backoff {backoff.initial:g}s x{backoff.factor:g} up to {backoff.max:g}s"
        f" (jitter {backoff.jitter:g}, reset after {backoff.reset_after:g}s);"
        f" start limit {limit.burst} restarts in {limit.interval:g}s"
    )


def shown_argv(process: ProcessPlan) -> tuple[str, ...]:
    return process.argv if process.shown is None else process.shown.argv


def shown_env(process: ProcessPlan) -> dict[str, str]:
    """The variables services.toml gives the process (its env files', then its `env`)."""
    return dict(process.settings.env if process.shown is None else process.shown.env)


def process_as_json(process: ProcessPlan) -> dict[str, Any]:
    resolution = process.resolution
    settings = process.settings
    policy = settings.restart
    return {
        "name": process.name,
        "service": process.service,
        "kind": process.kind,
        "binary": resolution.binary if resolution else None,
        "topic": resolution.topic if resolution else None,
        "subtopic": resolution.subtopic if resolution else None,
        "manager_option": resolution.manager_option if resolution else None,
        "manager": resolution.manager if resolution else None,
        "manager_source": resolution.source if resolution else None,
        "runtime": process.spec.runtime if process.spec else None,
        "host": process.host,
        "argv": list(shown_argv(process)),
        "env": shown_env(process),
        "notify": settings.notify,
        "start_seconds": settings.start_seconds,
        "stop_signal": signal.Signals(settings.stop_signal).name,
        "stop_timeout": settings.stop_timeout,
        "critical": settings.critical,
        "restart": {
            "policy": policy.policy,
            "success_exit_codes": sorted(policy.success_exit_codes),
            "prevent_exit_codes": sorted(policy.prevent_exit_codes),
            "backoff": vars(policy.backoff),
            "start_limit": vars(policy.start_limit),
        },
    }


def plan_as_json(plan: Plan) -> dict[str, Any]:
    return {
        "config": str(plan.path),
        "state_dir": str(plan.state_dir),
        "processes": [process_as_json(process) for process in plan.processes],
    }


def describe_plan(plan: Plan) -> str:
    lines = [f"{plan.path}: {len(plan.processes)} processes, state in {plan.state_dir}"]
    for process in plan.processes:
        lines.append("")
        lines.append(process.name)
        rows: list[tuple[str, str]] = []
        if process.resolution is not None:
            resolved = process.resolution
            rows += [
                ("binary", resolved.binary),
                ("topic", resolved.topic),
                ("subtopic", f"{resolved.subtopic} (option {resolved.manager_option})"),
                ("manager", resolved.manager),
                *([("from", resolved.source)] if resolved.source else []),
                ("host", process.host or ""),
            ]
        rows += [
            ("argv", shlex.join(shown_argv(process))),
        ]
        if env := shown_env(process):
            rows.append(("env", " ".join(f"{name}={shlex.quote(v)}" for name, v in env.items())))
        rows += [
            ("restart", restart_summary(process.settings.restart)),
        ]
        lines += [f"  {key:<9} {value}" for key, value in rows]
    return "\n".join(lines)


def plan_json(plan: Plan) -> str:
    """`check --json`: strict JSON.  Accepted numbers are finite; should one ever slip through,
    this fails loudly rather than print `NaN`, which no JSON reader accepts."""
    return json.dumps(plan_as_json(plan), indent=2, allow_nan=False)
