"""services.toml → a frozen Plan: every process to run, with its topic and manager resolved.

All problems in a file are collected and reported together; each names the file, the line, the
key, the value given and what is allowed.  Nothing imports manager code here.

The package's modules: `plan` (the frozen Plan), `loader` (file → Plan), `location` (where a
file's supervisor lives: all a client command reads), `tomlfile` (parsing), `source` (lines of
keys), `schema` (a typed reader that collects problems), `problems`, `limits` and `rules` (what
is allowed), `services` (the keys of one service), `interpolate`, `envfile` and `placeholders`
(`${VAR}`, env files, `{port}`), `programs` (each program can be run), `dependencies` (start
order), `diff` (what a reload changes), `openstack` and `cinderconf` (`[openstack]`: Cinder's
own files).

What callers use is re-exported here, lazily: `load` imports the reader only when called and
the plan's names are imported when first asked for, so `from supervisor import config` costs a
client command only `location` and the file parser (the plan's dataclasses and what they
import were a third of a `status`'s imports).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from supervisor.config.location import DEFAULT_STATE_DIR, state_dir_of
from supervisor.config.tomlfile import ConfigError

if TYPE_CHECKING:
    from supervisor.config.plan import (
        DEFAULT_LOG_BACKUPS,
        DEFAULT_LOG_MAX_BYTES,
        LogSettings,
        Plan,
        ProcessPlan,
    )

_FROM_PLAN = ("DEFAULT_LOG_BACKUPS", "DEFAULT_LOG_MAX_BYTES", "LogSettings", "Plan", "ProcessPlan")

__all__ = [
    "DEFAULT_LOG_BACKUPS",
    "DEFAULT_LOG_MAX_BYTES",
    "DEFAULT_STATE_DIR",
    "ConfigError",
    "LogSettings",
    "Plan",
    "ProcessPlan",
    "load",
    "state_dir_of",
]


def load(
    path: str | os.PathLike[str],
    *,
    programs: bool = True,
    workers: Mapping[str, int] | None = None,
    host: str | None = None,
) -> Plan:
    """Read, check and build the plan of a services file; ConfigError lists every problem.
    `programs=False` leaves out whether each program can be run on this host; `workers` runs
    that many processes of a service of numbered workers instead of the file's count; `host`
    is the part of a deployment file (`[hosts.NAME]`) that one host runs."""
    from supervisor.config.loader import load as load_file

    return load_file(path, programs=programs, workers=workers, host=host)


def __getattr__(name: str) -> Any:
    """The plan's names, imported on first use (PEP 562)."""
    if name in _FROM_PLAN:
        from supervisor.config import plan

        return getattr(plan, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
