"""`supervisor import FILE [-o services.toml]`: another tool's stack description → services.toml.

The format is told by the file's name (`--format` overrides it); the reader for it builds a
Translation, the writer renders it, and the result is checked by the project's own loader, in
the folder it is written to, before anything is written: a translation `check` refuses is a bug
of the importer (exit 1, with the problems), never a file left behind.  Settings that were not
imported are listed on stderr (and are comments in the output).

Exit statuses: 0 written; 2 the input is missing, a directory, unreadable or empty, cannot be
read as its format (file, line and key, as for an invalid services file), or a usage error;
1 the output exists (without --force), cannot be written, or the translation does not pass
`check`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from supervisor.shared.exits import EXIT_CONFIG_INVALID, EXIT_FAILED, EXIT_OK
from supervisor.tools.importers.model import SourceError, Translation

FORMATS = ("supervisord", "procfile", "compose")


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a supervisord.conf, Procfile or compose file")
    parser.add_argument(
        "-o", "--output", type=Path, help="write services.toml here (default: stdout)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="the input's format (default: told by its name)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing --output")


def detect_format(path: Path) -> str | None:
    """supervisord*.conf or *.ini: supervisord; Procfile*: procfile; *compose*.yml/yaml."""
    name = path.name.lower()
    if name.startswith("procfile"):
        return "procfile"
    if "compose" in name and name.endswith((".yml", ".yaml")):
        return "compose"
    if name.endswith(".ini") or (name.startswith("supervisord") and name.endswith(".conf")):
        return "supervisord"
    return None


def run_import(args: argparse.Namespace) -> int:
    # Before the format: a missing file is "no such file", whatever its name would tell.
    unreadable = input_problem(args.file)
    if unreadable is not None:
        return _fail(f"{args.file}: {unreadable}")
    kind = args.format or detect_format(args.file)
    if kind is None:
        formats = "supervisord*.conf or *.ini, Procfile*, *compose*.yml or .yaml"
        return _fail(f"cannot tell the format of {args.file} ({formats}): give --format")
    output: Path | None = args.output
    if output is not None and output.exists() and not args.force:
        return _fail(f"{output} exists: give --force to overwrite it", EXIT_FAILED)
    base = (output.parent if output is not None else Path.cwd()).resolve()
    try:
        translation = _reader(kind)(args.file, base)
    except SourceError as error:
        # As `check` reports an invalid services file: FILE:LINE: KEY: what is wrong.
        print(error, file=sys.stderr)
        return EXIT_CONFIG_INVALID
    from supervisor.tools.importers.writer import render

    text = render(translation)
    try:
        problems = _check(text, base)
    except OSError as error:  # the folder is missing or not writable: nothing can go there
        return _fail(f"cannot write in {base}: {error.strerror}", EXIT_FAILED)
    if problems:
        print(
            "supervisor: the translation does not pass `check` (a bug of `supervisor import`;"
            f" please report it with the input):\n{problems}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    for dropped in sorted(translation.dropped, key=lambda each: (str(each.file), each.line or 0)):
        print(dropped.render(), file=sys.stderr)
    if output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        _write(output, text)
    except OSError as error:
        return _fail(f"cannot write {output}: {error.strerror}", EXIT_FAILED)
    return EXIT_OK


def input_problem(path: Path) -> str | None:
    """Why `path` cannot be imported at all, whatever its format (None if it can be read):
    it is not there, is a directory, cannot be opened, or holds nothing."""
    try:
        with path.open("rb") as file:
            # A pipe (`<(...)`) has no size and is read once, by the reader: not here.
            if path.is_file() and not file.read().strip():
                return "the file is empty: nothing to import"
    except FileNotFoundError:
        return "no such file"
    except IsADirectoryError:
        return "is a directory, not a file"
    except OSError as error:
        return f"cannot read: {(error.strerror or str(error)).lower()}"
    return None


def _reader(kind: str) -> Callable[[Path, Path], Translation]:
    # Each reader is imported only for its format: compose's needs PyYAML.
    if kind == "supervisord":
        from supervisor.tools.importers import supervisord

        return supervisord.read
    if kind == "procfile":
        from supervisor.tools.importers import procfile

        return procfile.read
    from supervisor.tools.importers import compose

    return compose.read


def _check(text: str, base: Path) -> str:
    """The problems `check` finds in `text` placed in `base` (where paths are relative to)."""
    from supervisor import config

    handle, name = tempfile.mkstemp(prefix=".import-", suffix=".toml", dir=base)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        config.load(name)
    except config.ConfigError as error:
        return str(error)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
    return ""


def _write(output: Path, text: str) -> None:
    """Whole or not at all: a temporary file beside it, renamed over it."""
    handle, name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(name, output)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise


def _fail(message: str, status: int = EXIT_CONFIG_INVALID) -> int:
    print(f"supervisor: {message}", file=sys.stderr)
    return status
