"""`supervisor import` (being built)."""

from __future__ import annotations

import argparse
import sys


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run_import(args: argparse.Namespace) -> int:
    print("supervisor: import is not available yet", file=sys.stderr)
    return 1
