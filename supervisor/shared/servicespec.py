"""What the supervisor hands a manager child at spawn: one JSON document in the environment.

The child resolves its manager from these inputs through the topic convention itself, so a
restart after a crash uses the configuration the supervisor loaded, never a half-edited file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

ENV_VAR = "SUPERVISOR_SERVICE"

# The two runtimes a manager process can serve with (ServiceSpec.runtime).
STACK_RUNTIME = "stack"
OPENSTACK_RUNTIME = "openstack"


@dataclass(frozen=True)
class ServiceSpec:
    process: str  # unique process name in the stack, e.g. "cinder-volume@lvm-1"
    service: str  # the services.toml table name (the binary for manager services)
    binary: str
    host: str
    options: dict[str, Any] = field(default_factory=dict)
    prefix: str = "cinder-"
    topic: str | None = None  # explicit override; None means "the binary"
    manager: str | None = None  # explicit override; None means "the <subtopic>_manager option"
    cluster: str | None = None
    backend: str | None = None  # cinder-volume: the backend (config group) this process serves
    # cinder-backup: 1..workers.  The count itself is not here: a worker's spec (and so the
    # process, on a reload) stays the same when only its number of siblings changes.
    process_number: int = 1
    state_dir: str = ".supervisor"
    # "stack": this package's runtime; "openstack": Cinder's own Service, bootstrapped as
    # cinder/cmd/*.py does, from the cinder.conf files in `config_files`.
    runtime: str = STACK_RUNTIME
    config_files: tuple[str, ...] = ()

    def title(self, binary: str) -> str:
        """The process title (what `ps` shows): Cinder's `<binary> <host>`, with a worker's
        `#N` after the binary (`cinder-backup#2 node1`).  A backend is already in the host
        (`cinder-volume node1@lvm-1`), so every process of a stack has a title of its own."""
        service, separator, number = self.process.rpartition("#")
        worker = f"#{number}" if separator and service == self.service else ""
        return f"{binary}{worker} {self.host}"

    def to_env(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_env(
        cls, environ: os._Environ[str] | dict[str, str] | None = None
    ) -> ServiceSpec | None:
        raw = (os.environ if environ is None else environ).get(ENV_VAR)
        return None if raw is None else cls(**json.loads(raw))
