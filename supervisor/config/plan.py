"""The frozen plan a services file becomes: every process to run, with its settings resolved.

Built by `loader.load`; read by the daemon, `check`, the simulator and the tools.  Imports only
what the dataclasses name, so a module that only handles a plan does not load the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supervisor.config.problems import Problem
from supervisor.config.tomlfile import ConfigError
from supervisor.shared import topic as topic_convention
from supervisor.shared.servicespec import ServiceSpec

if TYPE_CHECKING:
    from supervisor.config.hostspec import HostSpec
    from supervisor.config.interpolate import Shown
    from supervisor.config.openstack import OpenStack
    from supervisor.config.services import ServiceSettings
    from supervisor.policy.strategy import GroupPolicy

# A process's log file is rotated at this size, and this many rotated files are kept.
DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_LOG_BACKUPS = 5


@dataclass(frozen=True)
class ProcessPlan:
    name: str  # unique in the stack: "cinder-volume@lvm-1", "cinder-backup#2", "web"
    service: str  # the services.toml table name (the binary, for manager services)
    argv: tuple[str, ...]
    settings: ServiceSettings
    host: str | None = None
    spec: ServiceSpec | None = None  # None for plain commands
    resolution: topic_convention.Resolution | None = None
    # What `check` shows instead of argv and env when they hold values from env files.
    shown: Shown | None = field(default=None, compare=False)

    @property
    def kind(self) -> str:
        return "command" if self.spec is None else "manager"


@dataclass(frozen=True)
class LogSettings:
    max_bytes: int = DEFAULT_LOG_MAX_BYTES
    backups: int = DEFAULT_LOG_BACKUPS
    timestamps: bool = True  # every log file line starts with the time it was read


@dataclass(frozen=True)
class Plan:
    path: Path
    state_dir: Path
    options: dict[str, Any]
    processes: tuple[ProcessPlan, ...]
    logs: LogSettings = field(default_factory=LogSettings)
    openstack: OpenStack | None = None  # `[openstack]`: the manager services are real Cinder
    name: str = ""  # `[supervisor] name`: the stack's, else its file's directory's
    # The file's `workers` of each service of numbered workers (NAME#1..NAME#N), even where
    # `supervisor scale` runs another count: a reload tells from it whether the file changed it.
    workers: dict[str, int] = field(default_factory=dict, compare=False)
    # `[groups.NAME]`: services restarted together (policy/strategy.py).
    groups: tuple[GroupPolicy, ...] = ()
    # `[hosts.NAME]` (config/hosts.py): a deployment over several hosts.  The whole file's
    # plan runs nothing itself (`processes` is empty); `on_host` is one host's part.
    hosts: dict[str, HostSpec] = field(default_factory=dict, compare=False)
    placed: dict[str, tuple[ProcessPlan, ...]] = field(default_factory=dict, compare=False)
    host: str | None = None  # the host this plan is the part of, if any

    @property
    def every_process(self) -> tuple[ProcessPlan, ...]:
        """The processes of every host of a deployment file (a process several hosts run,
        once for each), else the plan's own."""
        if self.hosts and self.host is None:
            return tuple(process for found in self.placed.values() for process in found)
        return self.processes

    def on_host(self, name: str) -> Plan:
        """What host `name` runs, with its own state directory; ConfigError for a host the
        file does not have."""
        if name not in self.hosts:
            known = ", ".join(self.hosts) or "none: the file has no [hosts] tables"
            problem = Problem(None, "--host", name, f"no such host; known: {known}")
            raise ConfigError(str(self.path), [problem])
        host = self.hosts[name]
        return replace(self, state_dir=host.state_dir, processes=self.placed[name], host=name)

    def group_of(self, service: str) -> GroupPolicy | None:
        return next((group for group in self.groups if service in group), None)

    @property
    def services(self) -> tuple[str, ...]:
        """Service names in start order."""
        return tuple(dict.fromkeys(process.service for process in self.processes))

    @cached_property
    def dependants(self) -> dict[str, frozenset[str]]:
        """For each service, the services whose `depends_on` names it."""
        found: dict[str, set[str]] = {service: set() for service in self.services}
        for process in self.processes:
            for dependency in process.settings.depends_on:
                found.setdefault(dependency, set()).add(process.service)
        return {service: frozenset(names) for service, names in found.items()}

    def only(self, services: list[str]) -> Plan:
        unknown = sorted(set(services) - set(self.services))
        if unknown:
            known = ", ".join(self.services)
            raise ConfigError(
                str(self.path),
                [Problem(None, "services", unknown[0], f"no such service; known: {known}")],
            )
        kept = tuple(p for p in self.processes if p.service in services)
        return Plan(self.path, self.state_dir, self.options, kept, self.logs, workers=self.workers)
