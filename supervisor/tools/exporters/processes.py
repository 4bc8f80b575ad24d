"""The processes of a plan as another process manager must run them: what every exporter reads.

Each `ExportedProcess` holds exactly what the supervisor would give that process at spawn (the
same argv, working directory, and the environment `config.spawnenv` computes for the daemon
too), minus what only a running supervisor has: its own `os.environ`, `NOTIFY_SOCKET` (the
other manager provides its own), the fault socket, the sentinel and `WATCHDOG_USEC`.  So a
manager process started from an export resolves its manager class through the topic
convention from the same spec as under the supervisor.

`export_directory` is the one rule about where files go: a directory that exists and holds
anything is refused unless the caller forces it, so an export never mixes with older files by
surprise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from supervisor.config import Plan, ProcessPlan
from supervisor.config.services import ServiceSettings
from supervisor.config.spawnenv import spawn_environment


class ExportError(Exception):
    """An export that cannot be written; the message names what is in the way."""


@dataclass(frozen=True)
class ExportedProcess:
    name: str  # the process name as the supervisor names it: cinder-volume@lvm-1, web#2
    service: str  # the [services.NAME] it belongs to
    argv: tuple[str, ...]
    env: dict[str, str] = field(hash=False)  # what the supervisor adds at spawn, nothing else
    cwd: str | None
    is_manager: bool  # a manager service: speaks sd_notify and has a ServiceSpec
    backend: str | None  # cinder-volume's backend, else None
    process_number: int | None  # 1..N for a service that sets `workers`, else None
    # Ready only once it sends READY=1 (every manager; a command with `notify = true`).
    notify: bool = False
    # The instance that sets it apart from the other processes of its service: the backend or
    # the worker's number; None when the service has one process named after it.
    instance: str | None = None
    settings: ServiceSettings = field(default_factory=ServiceSettings, hash=False)


def exported_processes(plan: Plan) -> list[ExportedProcess]:
    """Every process of the plan, in start order."""
    state_dir = str(plan.state_dir)
    return [_exported(process, state_dir) for process in plan.processes]


def _exported(process: ProcessPlan, state_dir: str) -> ExportedProcess:
    spec = process.spec
    backend = spec.backend if spec is not None else None
    _, separator, instance = process.name.partition("@" if "@" in process.name else "#")
    number = int(instance) if separator == "#" else None
    return ExportedProcess(
        name=process.name,
        service=process.service,
        argv=process.argv,
        env=spawn_environment(process, state_dir),
        cwd=process.settings.directory,
        is_manager=spec is not None,
        backend=backend,
        process_number=number,
        notify=process.settings.notify,
        instance=instance if separator else None,
        settings=process.settings,
    )


def export_directory(path: Path, force: bool) -> Path:
    """The directory to write into, created if missing; an existing non-empty one only with
    `force` (its files are left in place, and same-named ones overwritten)."""
    if path.exists() and not path.is_dir():
        raise ExportError(f"{path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise ExportError(f"{path} is not empty (use --force to write into it anyway)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"cannot create {path}: {error.strerror}") from error
    return path.resolve()
