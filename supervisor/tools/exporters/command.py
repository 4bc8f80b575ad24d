"""`supervisor export {systemd,kubernetes} -o DIR [--force]`: the stack for another process
manager, written from the plan `check` shows.

A deployment file (`[hosts.NAME]`): `--host NAME` writes that host's part; without it, each
host's goes into a directory of its own, DIR/NAME, each said on a line `host NAME: DIR/NAME`
before its files.  Kubernetes objects of a host are named `<stack>-<host>-...` (one cluster
holds every host's) and pinned to the node of the host's name (nodeSelector
kubernetes.io/hostname).

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
from supervisor.cli.hostoption import add_host_option
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
    add_host_option(parser, "write the units or manifests")


def run_export(args: argparse.Namespace) -> int:
    from supervisor.tools.exporters.processes import ExportError, export_directory

    try:
        # A container runs the image's programs, not this host's: only systemd units run here.
        plan = config.load(args.config, programs=args.format != "kubernetes", host=args.host)
    except config.ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG_INVALID
    try:
        directory = export_directory(Path(args.output), args.force)
        if plan.hosts and plan.host is None:
            return _write_each_host(args, plan, directory)
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


def _write_each_host(args: argparse.Namespace, plan: config.Plan, directory: Path) -> int:
    """One directory per host of a deployment file, each named on stdout before its files."""
    from supervisor.tools.exporters.processes import export_directory

    for name in plan.hosts:
        own = export_directory(directory / name, args.force)
        print(f"host {name}: {own}")
        for path in _write(args, plan.on_host(name), own):
            print(path)
    return EXIT_OK


def _write(args: argparse.Namespace, plan: config.Plan, directory: Path) -> list[Path]:
    if args.format == "systemd":
        from supervisor.tools.exporters.systemd import stack_name, write_systemd

        return write_systemd(plan, directory, stack_name(plan, args.stack))
    from supervisor.tools.exporters.kubernetes import write_kubernetes

    options = kubernetes_arguments(args)
    if plan.host is not None:
        stack = options.get("stack") or plan.name or plan.path.parent.name
        options["stack"] = f"{stack}-{plan.host}"
    return write_kubernetes(plan, directory, **options)
