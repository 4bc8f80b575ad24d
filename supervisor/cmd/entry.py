"""What every binary shares: serve the spec the supervisor passed in the environment or, when
started by hand, read services.toml the way Cinder's binaries read cinder.conf.

How binaries differ is decided by the subtopic, as Cinder's `cmd/volume.py` and `cmd/backup.py`
differ: a volume process serves one backend, a backup process is one numbered worker.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from supervisor.runtime.launch import run_service
from supervisor.shared.servicespec import ServiceSpec
from supervisor.shared.topic import subtopic_of

DEFAULT_CONFIG_FILE = "services.toml"
EXIT_USAGE = 2


@dataclass(frozen=True)
class Selector:
    """A flag that picks one process of a service by hand, e.g. `--backend lvm-1`."""

    flag: str
    attribute: str  # the ServiceSpec field it is matched against
    type: Callable[[str], Any]
    help: str


@dataclass(frozen=True)
class Binary:
    """How one binary differs from the others."""

    description: str
    manager_kwargs: Callable[[ServiceSpec], dict[str, Any]]
    selector: Selector | None = None


# A single service whose manager takes no extra arguments: the scheduler, or a user's binary.
SINGLE_SERVICE = Binary(
    description="Run one service of the stack.",
    manager_kwargs=lambda spec: {"service_name": None},
)


VOLUME = Binary(
    description="Run the volume service of one backend.",
    manager_kwargs=lambda spec: {"service_name": spec.backend},
    selector=Selector(
        flag="--backend",
        attribute="backend",
        type=str,
        help="the backend to serve when the configuration has several",
    ),
)

BACKUP = Binary(
    description="Run one backup worker.",
    manager_kwargs=lambda spec: {
        "service_name": "backup",
        "process_number": spec.process_number,
    },
    selector=Selector(
        flag="--process-number",
        attribute="process_number",
        type=int,
        help="the worker to run when the configuration has several",
    ),
)

_KINDS = {"volume": VOLUME, "backup": BACKUP}


def kind_of(binary: str) -> Binary:
    """The binary's kind by its subtopic: `cinder-volume` serves backends, `cinder-backup` runs
    workers, anything else (the scheduler, a user's binary) is a single service."""
    return _KINDS.get(subtopic_of(binary), SINGLE_SERVICE)


def main(kind: Binary, argv: Sequence[str] | None = None, *, binary: str | None = None) -> int:
    binary = binary or os.path.basename(sys.argv[0])
    args = _parser(binary, kind).parse_args(sys.argv[1:] if argv is None else argv)
    spec = ServiceSpec.from_env()
    if spec is not None:
        return run_service(spec, binary, kind.manager_kwargs(spec))
    return _run_by_hand(kind, binary, args)


def _parser(binary: str, kind: Binary) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=binary,
        description=f"{kind.description} Under the supervisor, the service comes from the "
        "environment; started by hand, from the configuration file.",
    )
    parser.add_argument(
        "--config-file",
        default=DEFAULT_CONFIG_FILE,
        help=f"the stack's configuration (default: ./{DEFAULT_CONFIG_FILE})",
    )
    if kind.selector is not None:
        parser.add_argument(
            kind.selector.flag,
            dest=kind.selector.attribute,
            type=kind.selector.type,
            help=kind.selector.help,
        )
    return parser


def _run_by_hand(kind: Binary, binary: str, args: argparse.Namespace) -> int:
    from supervisor import config  # imported here: tomlkit stays out of the spawned path

    path = args.config_file
    try:
        plan = config.load(path)
    except config.ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    specs = [p.spec for p in plan.processes if p.service == binary and p.spec is not None]
    if not specs:
        print(f"{binary}: {path} defines no manager service [services.{binary}]", file=sys.stderr)
        return EXIT_USAGE
    selector = kind.selector
    wanted = None if selector is None else getattr(args, selector.attribute)
    if selector is not None and wanted is not None:
        known = [getattr(spec, selector.attribute) for spec in specs]
        specs = [spec for spec in specs if getattr(spec, selector.attribute) == wanted]
        if not specs:
            choices = ", ".join(str(value) for value in known)
            print(
                f"{binary}: no {selector.flag} {wanted} in {path}; known: {choices}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    if len(specs) == 1:
        return run_service(specs[0], binary, kind.manager_kwargs(specs[0]))
    # Cinder forks a child per backend or worker here; that is the supervisor's job.
    from supervisor.cli.main import main as supervisor_main

    return supervisor_main(["run", "-c", path, "--only", binary])
