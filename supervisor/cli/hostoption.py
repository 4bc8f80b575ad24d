"""`--host NAME`: which host's part of a deployment file (`[hosts.NAME]`) a command is about.

Its default is $SUPERVISOR_HOST, so that on a host every command (`stop`, `logs`, `wait`, ...)
finds that host's supervisor without being told each time; `run`, `check`, `status`,
`service list` and `export` also take the flag.
"""

from __future__ import annotations

import argparse
import os

HOST_VARIABLE = "SUPERVISOR_HOST"


def default_host() -> str | None:
    return os.environ.get(HOST_VARIABLE) or None


def add_host_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--host",
        metavar="NAME",
        default=default_host(),
        help=f"{what} of this host of the file's [hosts] (default: ${HOST_VARIABLE})",
    )
