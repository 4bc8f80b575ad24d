"""How `supervisor check` shows a resolved plan, for people and for scripts.

Both show each process's own values, interpolated, with every value that came from an env file
as `***` (`ProcessPlan.shown`): a `check` in a CI log must not print the secrets it checked.

The whole plan: `--json` gives every setting of `ServiceSettings` by its name (a key added
there appears here with no change); the text gives each one that is not what a service of its
kind gets from a table that sets nothing, so it shows what the file chose.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import shlex
import signal
from pathlib import Path
from typing import Any

from supervisor.config import Plan, ProcessPlan
from supervisor.config.interpolate import MASK
from supervisor.config.services import Probe, ServiceSettings
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
        **settings_as_json(process),
    }


def settings_as_json(process: ProcessPlan) -> dict[str, Any]:
    """Every setting of the process (`ServiceSettings`, whatever keys it gains), by its name."""
    unsaid = _secrets(process)
    return {
        field.name: _json_value(getattr(process.settings, field.name), unsaid)
        for field in dataclasses.fields(ServiceSettings)
        if field.name != "env"  # `env`, above, with its secrets masked
    }


def _json_value(value: Any, unsaid: frozenset[str]) -> Any:
    if isinstance(value, RestartPolicy):
        return {
            "policy": value.policy,
            "success_exit_codes": sorted(value.success_exit_codes),
            "prevent_exit_codes": sorted(value.prevent_exit_codes),
            "backoff": vars(value.backoff),
            "start_limit": vars(value.start_limit),
        }
    if isinstance(value, Probe):
        return {
            "kind": value.kind,
            **_json_value(dataclasses.asdict(_masked(value, unsaid)), unsaid),
        }
    if isinstance(value, signal.Signals):
        return value.name
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dict):
        return {key: _json_value(item, unsaid) for key, item in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        items = [_json_value(item, unsaid) for item in value]
        return items if isinstance(value, tuple | list) else sorted(items)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_value(dataclasses.asdict(value), unsaid)
    return value


def plan_as_json(plan: Plan) -> dict[str, Any]:
    if plan.hosts and plan.host is None:
        return {
            "config": str(plan.path),
            "hosts": [plan_as_json(plan.on_host(name)) for name in plan.hosts],
        }
    host = {} if plan.host is None else _host_as_json(plan)
    return {
        "config": str(plan.path),
        **host,
        "state_dir": str(plan.state_dir),
        "processes": [process_as_json(process) for process in plan.processes],
    }


def _host_as_json(plan: Plan) -> dict[str, Any]:
    assert plan.host is not None
    host = plan.hosts[plan.host]
    return {"host": host.name, "address": host.address, "cinder_host": host.cinder_host}


def describe_plan(plan: Plan) -> str:
    """The plan as `check` prints it; a deployment file's, host by host."""
    if plan.hosts and plan.host is None:
        hosts = ", ".join(plan.hosts)
        parts = [describe_plan(plan.on_host(name)) for name in plan.hosts]
        return "\n\n".join([f"{plan.path}: {len(plan.hosts)} hosts: {hosts}", *parts])
    where = ""
    if plan.host is not None:
        host = plan.hosts[plan.host]
        where = f" --host {host.name} ({host.address}, Cinder host {host.cinder_host})"
    count = len(plan.processes)
    lines = [f"{plan.path}{where}: {count} processes, state in {plan.state_dir}"]
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
        rows += _changed_settings(process)
        rows += [
            ("restart", restart_summary(process.settings.restart)),
        ]
        width = max(_KEY_WIDTH, *(len(key) for key, _ in rows))
        lines += [f"  {key:<{width}} {value}" for key, value in rows]
    return "\n".join(lines)


_KEY_WIDTH = 9
# Shown on rows of their own, always: not repeated among the changed settings.
_ALWAYS_SHOWN = ("env", "restart")
_SECONDS = ("start_seconds", "start_timeout", "stop_timeout", "watchdog")


def _changed_settings(process: ProcessPlan) -> list[tuple[str, str]]:
    """A row for each setting that is not what a service of its kind gets when its table sets
    nothing (a manager's default `notify` is true, a command's false): what the file chose."""
    defaults = _defaults(is_manager=process.spec is not None)
    unsaid = _secrets(process)
    rows = []
    for field in dataclasses.fields(ServiceSettings):
        value = getattr(process.settings, field.name)
        if field.name in _ALWAYS_SHOWN or value == getattr(defaults, field.name):
            continue
        rows.append((field.name, _text_value(field.name, value, unsaid)))
    return rows


@functools.cache
def _defaults(*, is_manager: bool) -> ServiceSettings:
    """The settings of a `[services.NAME]` table that sets nothing, read as the loader reads
    one: so the defaults are the reader's own, never a second copy of them."""
    from supervisor.config.schema import TableReader
    from supervisor.config.services import read_settings
    from supervisor.config.source import SourceMap

    reader = TableReader({}, ("services", "x"), SourceMap(""), [])
    return read_settings(reader, Path("services.toml"), is_manager=is_manager)


def _text_value(name: str, value: Any, unsaid: frozenset[str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in _SECONDS and isinstance(value, int | float):
        return f"{value:g}s"
    if isinstance(value, signal.Signals):
        return value.name.removeprefix("SIG")  # as the file names it
    if isinstance(value, Probe):
        return _probe_summary(_masked(value, unsaid))
    if isinstance(value, tuple | list):
        return ", ".join(_text_value(name, item, unsaid) for item in value)
    if isinstance(value, enum.Enum):
        return value.name
    return str(value)


def _probe_summary(probe: Probe) -> str:
    if probe.kind == "log":
        return f"log {probe.log!r}"
    return (
        f"{probe.kind} {probe.target}: period {probe.period:g}s, timeout {probe.timeout:g}s,"
        f" failure_threshold {probe.failure_threshold}, initial_delay {probe.initial_delay:g}s"
    )


def _secrets(process: ProcessPlan) -> frozenset[str]:
    """The values of the process's environment that `check` shows as `***` (from env files),
    so that a probe built from them does not print them either."""
    shown = shown_env(process)
    return frozenset(
        value for name, value in process.settings.env if value and shown.get(name) != value
    )


def _masked(probe: Probe, unsaid: frozenset[str]) -> Probe:
    if not unsaid:
        return probe

    def mask(text: str) -> str:
        for secret in sorted(unsaid, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    return dataclasses.replace(
        probe,
        exec=tuple(mask(arg) for arg in probe.exec),
        **{key: mask(getattr(probe, key)) for key in ("http", "tcp", "log") if getattr(probe, key)},
    )


def plan_json(plan: Plan) -> str:
    """`check --json`: strict JSON.  Accepted numbers are finite; should one ever slip through,
    this fails loudly rather than print `NaN`, which no JSON reader accepts."""
    return json.dumps(plan_as_json(plan), indent=2, allow_nan=False)
