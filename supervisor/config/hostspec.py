"""One host of a deployment file (`[hosts.NAME]`), as the plan keeps it: light, so that the
plan names it without importing the reader of the table (`config.hosts`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HostSpec:
    name: str
    address: str  # where the other hosts reach this one
    runs: tuple[str, ...]  # service names and process names, as the file lists them
    cinder_host: str  # Cinder's `host` option for this host's services
    state_dir: Path  # its own socket, logs and events

    @property
    def services(self) -> frozenset[str]:
        """The services this host runs some or all processes of."""
        return frozenset(service_of(entry) for entry in self.runs)

    def runs_process(self, service: str, process: str) -> bool:
        """Whether this host runs the process `process` of `service`."""
        return service in self.runs or process in self.runs


def service_of(entry: str) -> str:
    """The service of a process name (`cinder-volume@fast`, `cinder-backup#2`) or of itself."""
    return re.split("[@#]", entry, maxsplit=1)[0]
