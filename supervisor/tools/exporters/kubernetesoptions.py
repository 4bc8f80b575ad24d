"""The command-line options of `export kubernetes`, apart from the writer so that building the
parser of `export` imports nothing of it (`command` imports a format's writer only when asked).
"""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_IMAGE = "cinder-stack:latest"  # a placeholder: a host stack has no image of its own


def add_kubernetes_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("kubernetes")
    group.add_argument(
        "--image",
        default=DEFAULT_IMAGE,
        help=f"the containers' image (default: {DEFAULT_IMAGE}, a placeholder)",
    )
    group.add_argument(
        "--stack",
        metavar="NAME",
        help="the stack's name: systemd's <NAME>.target; Kubernetes' app.kubernetes.io/part-of "
        "and the ConfigMap's prefix (default: the name of the services file's directory)",
    )


def kubernetes_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """What `write_kubernetes` takes from the command line, as keyword arguments."""
    return {"image": args.image, "stack": args.stack}
