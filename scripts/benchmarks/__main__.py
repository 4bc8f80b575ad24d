"""`scripts/bench [SUBCOMMAND] ...` (one of SUBCOMMANDS, or none): `python scripts/benchmarks ...`.

Only the chosen benchmark is imported, so a heartbeat worker (started through here once per
process) pays for nothing else.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SUBCOMMANDS = ("openstack", "heartbeat", "spawn", "probes", "scale", "preload", "ui", "multinode")


def importable() -> None:
    """Make the modules importable as the package `benchmarks` (never one by one, as Python's
    own path entry for `python scripts/benchmarks` would) and the checkout's `supervisor`
    importable without installing it."""
    if sys.path and Path(sys.path[0] or ".").resolve() == PACKAGE:
        del sys.path[0]
    sys.path[:0] = [str(PACKAGE.parent), str(PACKAGE.parent.parent)]


def main(argv: list[str]) -> int:
    importable()
    if argv and argv[0] in SUBCOMMANDS:
        return importlib.import_module(f"benchmarks.{argv[0]}").main(argv[1:])
    return importlib.import_module("benchmarks.compare").main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
