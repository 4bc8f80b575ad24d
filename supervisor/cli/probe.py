"""`supervisor probe` (being built)."""

from __future__ import annotations

import argparse
import sys


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run_probe(args: argparse.Namespace) -> int:
    print("supervisor: probe is not available yet", file=sys.stderr)
    return 1
