"""Where the supervisor of a services file keeps its socket, logs and events.

A client command (`status`, `stop`, `logs`, ...) needs only this of the file, so it reads the
one key and never loads the reader or builds a plan: when the file has a `[supervisor]` table,
only that table is parsed (TOML parsing in Python is slow: the whole of a file of 1,000
services took a `status` 140 ms); the whole file only when the table alone does not parse (a
value cut off by the next line that opens a table) or the value holds a variable.

Which file, when none is named: the nearest `services.toml` in the current directory or one of
its parents, found as git finds `.git` (`find_services_file`).
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

from supervisor.config.tomlfile import parse, read_text

DEFAULT_STATE_DIR = ".supervisor"
SERVICES_FILE = "services.toml"
_SUPERVISOR_TABLE = re.compile(r"^[ \t]*\[[ \t]*supervisor[ \t]*\][ \t]*(?:#.*)?$", re.MULTILINE)
_ANY_TABLE = re.compile(r"^[ \t]*\[", re.MULTILINE)


def state_dir_of(path: str | os.PathLike[str], host: str | None = None) -> Path:
    """Where the supervisor of this file keeps its socket, judging nothing else in the file;
    `host`: that host's of a deployment file (`[hosts.NAME] state_dir`, else
    `<state_dir>/NAME`), a host the file does not have included (its supervisor is not
    running, and a client says so)."""
    text = read_text(path)
    whole = functools.cache(lambda: parse(text, str(path)))  # parsed once, if at all
    main = _supervisor_table(text)
    if main is None:
        main = whole().get("supervisor", {})
    state_dir = main.get("state_dir", DEFAULT_STATE_DIR) if isinstance(main, dict) else None
    if isinstance(state_dir, str) and "$" in state_dir:
        # Only a state_dir with a variable in it needs the reader and the env files.
        from supervisor.config.interpolate import interpolated_string, read_env_files
        from supervisor.config.schema import TableReader
        from supervisor.config.source import SourceMap

        root = TableReader.root(whole(), SourceMap(text), [])
        state_dir = interpolated_string(
            state_dir, read_env_files(root, Path(path).parent).variables()
        )
    if not isinstance(state_dir, str):
        state_dir = DEFAULT_STATE_DIR
    base = Path(path).resolve().parent
    if host is None:
        return base / state_dir
    hosts = whole().get("hosts", {})
    table = hosts.get(host) if isinstance(hosts, dict) else None
    own = table.get("state_dir") if isinstance(table, dict) else None
    return base / own if isinstance(own, str) else base / state_dir / host


class Search(NamedTuple):
    """Where the upward search for a services file ended."""

    found: Path | None
    start: Path
    mount_point: Path | None = None  # the directory it stopped at, not crossing into its parent

    def not_found(self) -> str:
        """The one line a command prints when it needs the file and none was found."""
        upto = f" up to the mount point {self.mount_point}" if self.mount_point else ""
        return (
            f"no {SERVICES_FILE} in {self.start} or any parent directory{upto};"
            " give one with -c FILE or $SUPERVISOR_CONFIG"
        )


def find_services_file(start: Path) -> Search:
    """The nearest `services.toml` in `start` or a parent of it, as git finds `.git`: up to the
    filesystem root, and, as git does by default, not into a parent on another filesystem (a
    project never spans a mount point, and an automounted or network parent would make every
    command slow).  A name that is there but not a readable file (a dangling link, a
    directory) is still the one found: reading it then says what is wrong with it."""
    directory = start
    device = _device(start)
    while True:
        candidate = directory / SERVICES_FILE
        if os.path.lexists(candidate):
            return Search(candidate, start)
        parent = directory.parent
        if parent == directory:
            return Search(None, start)
        parent_device = _device(parent)
        if None not in (device, parent_device) and parent_device != device:
            return Search(None, start, directory)
        directory = parent


def _device(directory: Path) -> int | None:
    try:
        return directory.stat().st_dev
    except OSError:  # unreadable: treated as the same filesystem, its file cannot be seen anyway
        return None


def _supervisor_table(text: str) -> dict[str, Any] | None:
    """The `[supervisor]` table, parsed on its own; None where there is none or it does not
    parse alone (a cut can only end a table early, so whatever is cut fails to parse)."""
    header = _SUPERVISOR_TABLE.search(text)
    if header is None:
        return None
    following = _ANY_TABLE.search(text, header.end())
    try:
        document = tomllib.loads(text[header.start() : following.start() if following else None])
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        return None
    table = document.get("supervisor")
    return table if isinstance(table, dict) else None
