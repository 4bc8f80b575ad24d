"""`supervisor export {systemd,kubernetes} -o DIR [--force]`: the stack for another process
manager, written from the plan `check` shows.

Exit statuses: 0 with the files written, one per line on stdout; 2 for an invalid services
file (the same errors as `check`); 1 when the output directory is refused (it exists and is not
empty, without --force) or cannot be written.  Each format's writer is imported only when asked
for, so one format's dependencies never burden the other.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from supervisor import config
from supervisor.shared.exits import EXIT_CONFIG_INVALID, EXIT_OK
from supervisor.tools.exporters.kubernetesoptions import (
    add_kubernetes_arguments,
    kubernetes_arguments,
)

EXIT_REFUSED = 1
FORMATS = ("systemd", "kubernetes")


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=FORMATS, help="what to write")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="DIR",
        help="directory to write into (created if missing; must be empty unless --force)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a directory that is not empty (same-named files are replaced)",
    )
    add_kubernetes_arguments(parser)


def run_export(args: argparse.Namespace) -> int:
    from supervisor.tools.exporters.processes import ExportError, export_directory

    try:
        # A container runs the image's programs, not this host's: only systemd units run here.
        plan = config.load(args.config, programs=args.format != "kubernetes")
    except config.ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG_INVALID
    try:
        directory = export_directory(Path(args.output), args.force)
        written = _write(args, plan, directory)
    except ExportError as error:
        print(f"supervisor: export: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except OSError as error:
        print(
            f"supervisor: export: cannot write {error.filename}: {error.strerror}", file=sys.stderr
        )
        return EXIT_REFUSED
    for path in written:
        print(path)
    return EXIT_OK


def _write(args: argparse.Namespace, plan: config.Plan, directory: Path) -> list[Path]:
    if args.format == "systemd":
        from supervisor.tools.exporters.systemd import stack_name, write_systemd

        return write_systemd(plan, directory, stack_name(plan, args.stack))
    from supervisor.tools.exporters.kubernetes import write_kubernetes

    return write_kubernetes(plan, directory, **kubernetes_arguments(args))
