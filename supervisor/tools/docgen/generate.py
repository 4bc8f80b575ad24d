"""`scripts/generate-docs`: write every generated page, or with `--check` say which committed
ones regenerating would change (exit 1), for CI and the test that keeps them current.

Usage: scripts/generate-docs [--check] [--root DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from supervisor.control import reference
from supervisor.tools.docgen import clipage, configpage, exitspage, manpage, statespage

COMMAND = "scripts/generate-docs"
REPOSITORY = Path(__file__).resolve().parents[3]

# Each generated file, relative to the repository, and what writes it.
PAGES: dict[str, Callable[[], str]] = {
    clipage.PATH: clipage.render,
    configpage.PATH: configpage.render,
    statespage.PATH: statespage.render,
    exitspage.PATH: exitspage.render,
    manpage.PATH: manpage.render,
    reference.PATH: reference.markdown,
}


def generate() -> dict[str, str]:
    """Every generated file's path and text."""
    return {path: render() for path, render in PAGES.items()}


def stale(root: Path, pages: dict[str, str]) -> list[str]:
    """The files under `root` that differ from `pages`, or are missing."""
    return [
        path
        for path, text in pages.items()
        if not (root / path).is_file() or (root / path).read_text() != text
    ]


def write(root: Path, pages: dict[str, str]) -> list[str]:
    """Write the files that changed; the paths written."""
    changed = stale(root, pages)
    for path in changed:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(pages[path])
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming each file that regenerating would change",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=REPOSITORY,
        help="the repository to write into or check (default: this one)",
    )
    args = parser.parse_args(argv)
    try:
        pages = generate()
    except Exception as error:  # an undocumented key, an exit status without words
        print(f"{COMMAND}: {error}", file=sys.stderr)
        return 2
    if args.check:
        changed = stale(args.root, pages)
        for path in changed:
            print(f"{COMMAND}: {path} is out of date", file=sys.stderr)
        if changed:
            print(f"{COMMAND}: run {COMMAND} and commit the result", file=sys.stderr)
        return 1 if changed else 0
    for path in write(args.root, pages):
        print(f"wrote {path}")
    return 0
