"""Which state directory the supervisor of each services file runs with, per user.

A client finds a supervisor through the `state_dir` its file names.  Edited under a running
stack, that key would cut every command off from it, though the supervisor cannot move
(`reload` refuses a new state_dir); so each supervisor records, while it runs, the file it was
started from and its state directory, and a client that finds no supervisor where the file now
points looks here for the one that runs that same file (`where_it_runs`).

A record is `<runtime>/<key>-<pid>.json`: the key is a checksum of the file's resolved path,
so a client reads only the records of its own file; the JSON holds the path itself, which is
what is compared.  The runtime directory is `$XDG_RUNTIME_DIR/cinder-stack-supervisor`, else
`/tmp/cinder-stack-supervisor-<uid>`, used only when it is this user's own directory that
nobody else can write (another user's records must never redirect a client).  A record is
removed when its supervisor exits, and one whose supervisor is gone is never believed: its pid
must be alive and be the pid in the lock file of the state directory it names (so a reused pid,
or a supervisor run in a process that lives on, is not taken for it); one left by a killed
supervisor is removed by the next supervisor that records itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import zlib
from pathlib import Path
from typing import NamedTuple

from supervisor.control.address import owner_alive, owner_pid

RUNTIME_VARIABLE = "XDG_RUNTIME_DIR"
_NAME = "cinder-stack-supervisor"
_SUFFIX = ".json"


class Record(NamedTuple):
    config: Path  # resolved
    state_dir: Path
    pid: int


def runtime_directory(*, create: bool = False) -> Path | None:
    """This user's directory of records, or None when there is none that is safe to use."""
    runtime = os.environ.get(RUNTIME_VARIABLE)
    path = Path(runtime, _NAME) if runtime else Path("/tmp", f"{_NAME}-{os.getuid()}")
    if create:
        with contextlib.suppress(FileExistsError, OSError):
            path.mkdir(mode=0o700)
    try:
        found = os.lstat(path)  # a symbolic link is not followed: it is not this user's own
    except OSError:
        return None
    private = found.st_uid == os.getuid() and found.st_mode & 0o022 == 0
    return path if stat.S_ISDIR(found.st_mode) and private else None


def _key(config: Path) -> str:
    return f"{zlib.crc32(os.fsencode(config)):08x}"


class Registration:
    """A supervisor's record, removed by `close` (the supervisor's own exit skips the
    interpreter's teardown, so nothing is left to an atexit hook).  `path` is None when
    nothing was written: this user has no safe runtime directory, or it cannot be written;
    then a client only misses the hint, never the supervisor."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def close(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.path = None

    def __enter__(self) -> Registration:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def record(config: Path, state_dir: Path) -> Registration:
    """Record that this process supervises `config` with `state_dir`, until the registration
    is closed."""
    directory = runtime_directory(create=True)
    if directory is None:
        return Registration(None)
    _remove_dead(directory)
    resolved = config.resolve()
    pid = os.getpid()
    path = directory / f"{_key(resolved)}-{pid}{_SUFFIX}"
    text = json.dumps({"config": str(resolved), "state_dir": str(state_dir), "pid": pid})
    partial = path.with_suffix(".tmp")
    try:
        partial.write_text(text)
        partial.replace(path)  # a reader sees the whole record or none
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()
        return Registration(None)
    return Registration(path)


def running_supervisors(config: Path) -> list[Record]:
    """The live supervisors started from this file, as their records say."""
    directory = runtime_directory()
    if directory is None:
        return []
    resolved = config.resolve()
    found = []
    for path in directory.glob(f"{_key(resolved)}-*{_SUFFIX}"):
        found_record = _read(path)
        if found_record is not None and found_record.config == resolved and _lives(found_record):
            found.append(found_record)
    return found


def where_it_runs(config: Path, state_dir: Path) -> tuple[Path, str | None]:
    """The state directory to ask for the supervisor of `config`, whose file names
    `state_dir`: that one, unless no supervisor holds it while one started from this same file
    runs with another; then that other one, and the line that says so."""
    if owner_alive(state_dir):
        return state_dir, None  # one runs there (or is putting its socket back)
    elsewhere = [r for r in running_supervisors(config) if r.state_dir != state_dir]
    if len(elsewhere) != 1:
        return state_dir, None  # none, or more than one to choose from: ask none of them
    found = elsewhere[0]
    return found.state_dir, (
        f"no supervisor at {state_dir}; the supervisor of this file (pid {found.pid}) runs"
        f" with state_dir {found.state_dir}, and state_dir cannot change while it runs"
        " (restore it in the file, or shut that supervisor down and run again): asking it"
    )


def _read(path: Path) -> Record | None:
    try:
        data = json.loads(path.read_text())
        return Record(Path(data["config"]), Path(data["state_dir"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _lives(found: Record) -> bool:
    if found.pid <= 0 or owner_pid(found.state_dir) != found.pid:
        return False
    try:
        os.kill(found.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_dead(directory: Path) -> None:
    """Records left by supervisors that were killed (nothing removed them)."""
    for path in directory.glob(f"*{_SUFFIX}"):
        pid = path.stem.rpartition("-")[2]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                path.unlink()
        except OSError:
            pass
