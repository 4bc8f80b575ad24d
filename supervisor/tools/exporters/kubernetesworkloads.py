"""Which Kubernetes workloads a plan's processes become, and their names.

A service is one workload, its workers that many replicas; a service with backends is one
workload per backend, since each is its own host (`<host>@<backend>`) with its own row and its
own data.  A name is a DNS label made from the service (and backend) name, unique in the export
(`-2`, `-3`, ... after one already taken), at most 63 characters: a Deployment's name goes into
its pods' names, and a container's name must be a label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from supervisor.tools.exporters.processes import ExportedProcess

MAX_NAME = 63


@dataclass(frozen=True)
class Workload:
    """One Deployment or Job: the processes it stands for."""

    name: str
    processes: tuple[ExportedProcess, ...]

    @property
    def first(self) -> ExportedProcess:
        return self.processes[0]

    @property
    def replicas(self) -> int:
        return len(self.processes)


def kubernetes_name(text: str) -> str:
    """A DNS label from a service, backend or directory name: lower case, `-` for the rest."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return name[:MAX_NAME].rstrip("-") or "stack"


def workloads(processes: Sequence[ExportedProcess], prefix: str = "") -> list[Workload]:
    """A workload per service, or per process of a service with backends; names unique, each
    after `prefix` (a host's name, for one cluster that holds every host's workloads)."""
    by_service: dict[str, list[ExportedProcess]] = {}
    for process in processes:
        by_service.setdefault(process.service, []).append(process)
    taken: set[str] = set()
    found: list[Workload] = []
    for service, members in by_service.items():
        groups = [[p] for p in members] if members[0].backend else [members]
        for group in groups:
            backend = f"-{group[0].backend}" if group[0].backend else ""
            base = kubernetes_name(prefix + service + backend)
            found.append(Workload(_unique(base, taken), tuple(group)))
    return found


def _unique(base: str, taken: set[str]) -> str:
    name, number = base, 1
    while name in taken:
        number += 1
        suffix = f"-{number}"
        name = base[: MAX_NAME - len(suffix)] + suffix
    taken.add(name)
    return name
