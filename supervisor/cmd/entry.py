"""What every binary shares: serve the spec the supervisor passed in the environment or, when
started by hand, have services.toml read the way Cinder's binaries read cinder.conf (by the
supervisor's side, `cli.byhand`, which execs this module again with the spec).

How binaries differ is decided by the subtopic, as Cinder's `cmd/volume.py` and `cmd/backup.py`
differ: a volume process serves one backend, a backup process is one numbered worker.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from supervisor.shared.servicespec import ServiceSpec
from supervisor.shared.topic import subtopic_of

DEFAULT_CONFIG_FILE = "services.toml"
# Where a binary started by hand reads its configuration (a module of the supervisor's side,
# named, never imported: see docs/guides/processes.md).
BY_HAND_MODULE = "supervisor.cli.byhand"


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
        # Here, not at the top: a binary started by hand hands over before it needs any of it.
        from supervisor.runtime.launch import run_service

        return run_service(spec, binary, kind.manager_kwargs(spec))
    _hand_over_to_the_supervisor_side(kind, binary, args)


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


def _hand_over_to_the_supervisor_side(
    kind: Binary, binary: str, args: argparse.Namespace
) -> NoReturn:
    """Started by hand: reading services.toml is the supervisor's side (`cli.byhand`), which
    picks the process and execs this module again with its spec, in this same process."""
    argv = [sys.executable, "-m", BY_HAND_MODULE, binary, args.config_file]
    selector = kind.selector
    if selector is not None and (wanted := getattr(args, selector.attribute)) is not None:
        argv.append(f"--picked={selector.attribute}={wanted}")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
