"""The limits every accepted services file lies within, so `run` and `reload` can use it all.

`check`, `run` and `reload` load a file through the same `config.load`, and these rules are part
of it: whatever `check` accepts, `run` can start and `reload` can apply.  They are checked before
anything is built from the values (no list of a billion workers is made to find out that a
billion is too many).

Names: a service, a backend and every process name becomes a file name (`logs/<name>.log`), an
argument (`--binary <name>`), a process title and a word in `status` and the event log; so a
name is 1 to 64 characters of letters, digits, `_`, `.` and `-`, not starting with `.`, `_` or
`-` (no `/`, no `..`, never a hidden file, never mistaken for an option).  `@` and `#` are not
allowed in names because they separate a service from its backend (`cinder-volume@lvm-1`) and
its worker number (`cinder-backup#2`).

Numbers: finite (TOML's `nan` and `inf` are refused) and within the ranges below.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supervisor.config.limits import (
    MAX_OPTION_DEPTH,
    NAME,
    NAME_RULE,
    RESERVED_SUFFIX,
)

if TYPE_CHECKING:
    from supervisor.config.schema import TableReader


def is_name(value: str) -> bool:
    return NAME.fullmatch(value) is not None and not value.endswith(RESERVED_SUFFIX)


def check_name(reader: TableReader, key: tuple[str, ...], value: str, what: str) -> bool:
    if is_name(value):
        return True
    reader.problem(key, value, f"not usable as a {what} name: {NAME_RULE}")
    return False


def is_process_name(value: str) -> bool:
    """A service name, alone or joined to a backend by `@` or to a worker number by `#`."""
    service, _, instance = value.partition("@") if "@" in value else value.partition("#")
    return is_name(service) and (instance == "" or is_name(instance))


def check_processes(reader: TableReader, names: Iterable[str]) -> None:
    """Every process name of a service follows the rule and differs from the others: each
    names a log file and a unit.  (Backends that come from elsewhere than the file's
    `backends`, such as cinder.conf, are judged here too.)"""
    seen: set[str] = set()
    for name in names:
        if not is_process_name(name):
            reader.problem((), name, f"not usable as a process name: {NAME_RULE}")
        elif name in seen:
            reader.problem((), name, "process name given twice; every process name must differ")
        seen.add(name)


def option_problem(value: Any, depth: int = 0) -> str | None:
    """Why an [options] value cannot be handed to a manager as JSON, or None when it can."""
    if depth > MAX_OPTION_DEPTH:
        return f"nested deeper than {MAX_OPTION_DEPTH} levels"
    if isinstance(value, float) and not math.isfinite(value):
        return "expected a finite number"
    if isinstance(value, str) and "\0" in value:
        return "expected a string without NUL characters"
    if isinstance(value, datetime | date | time):
        return "dates and times cannot be passed to a manager; write it as a string"
    if isinstance(value, list):
        return next(filter(None, (option_problem(item, depth + 1) for item in value)), None)
    if isinstance(value, dict):
        return next(filter(None, (option_problem(v, depth + 1) for v in value.values())), None)
    return None


def directory_problem(path: Path) -> str | None:
    """Why a service cannot run in `path`, or None when it can."""
    if not path.exists():
        return f"no such directory: {path}"
    if not path.is_dir():
        return f"not a directory: {path}"
    if not os.access(path, os.X_OK):
        return f"cannot enter the directory (permission denied): {path}"
    return None


def state_dir_problem(path: Path) -> str | None:
    """Why the supervisor cannot keep its state (socket, logs, events) in `path`, or None.

    Nothing is created here: `check` only looks.  A directory that does not exist yet must be
    creatable, so its nearest existing ancestor must be a writable directory."""
    if path.exists():
        if not path.is_dir():
            return f"not a directory: {path}"
        if not os.access(path, os.W_OK | os.X_OK):
            return f"the directory is not writable: {path}"
        return None
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"cannot be created: {ancestor} is not a directory"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot be created: {ancestor} is not writable"
    return None
