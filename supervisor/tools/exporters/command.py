"""`supervisor export` (being built)."""

from __future__ import annotations

import argparse
import sys


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run_export(args: argparse.Namespace) -> int:
    print("supervisor: export is not available yet", file=sys.stderr)
    return 1
