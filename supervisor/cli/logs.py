"""`supervisor logs`: the log files of a stack, with or without its supervisor.

With a supervisor running, it names the processes (a service means all of its processes, and
an unknown name is refused with the list of known ones).  Without one (after `shutdown`, or a
crash of the whole stack), the names come from the files in `<state_dir>/logs/`, and the output
is the same: `<process>.log` and `<process>.err.log` (with `stderr = "separate"`), each with its
rotated backups `.1`, `.2`, ...; a process's service is its name up to `@` or `#`.

Every line of a file starts with its timestamp (see `shared.logstamp`).  The lines of every
chosen file, backups included, are merged in timestamp order, so a process's stderr shows
among its stdout and the processes of a service among each other; each line is prefixed with
its process name, as on the console, when more than one process is shown.  `-f` then follows
every chosen file, in the order lines arrive.
"""

from __future__ import annotations

import argparse
import heapq
import re
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from supervisor.cli import logfollow
from supervisor.cli.logtime import time_argument
from supervisor.control.client import ControlClient, NotRunning
from supervisor.shared.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from supervisor.shared.logfiles import (
    LOG_SUFFIX,
    LOGS_DIR,
    STDERR_LOG_SUFFIX,
    Prefixes,
    colour_wanted,
)
from supervisor.shared.logstamp import STAMP_BYTES, stamp_time

DEFAULT_LINES = 10
ALL_LINES = "all"  # `-n all`: every line

# <process>.log, <process>.err.log, and their backups <...>.log.N
_LOG_FILE = re.compile(r"(?P<process>.+?)(?P<stderr>\.err)?\.log(?:\.(?P<backup>[1-9][0-9]*))?")


class LogsFailed(Exception):
    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def add_logs_arguments(logs: argparse.ArgumentParser) -> None:
    logs.add_argument(
        "names", nargs="*", metavar="NAME", help="a service or a process (default: all)"
    )
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument(
        "-n",
        "--lines",
        type=_line_count,
        metavar="N",
        help=f"the last N lines, or all (default {DEFAULT_LINES}, or all that match a filter)",
    )
    times = "TIME: -10m, '5 minutes ago', 1h30m, +10m, now, today, yesterday, 2026-12-07 05:00"
    logs.add_argument(
        "--since", type=time_argument, metavar="TIME", help=f"lines from TIME on ({times})"
    )
    logs.add_argument("--until", type=time_argument, metavar="TIME", help="lines up to TIME")
    logs.add_argument("--grep", type=_pattern, metavar="REGEX", help="only lines that match")
    logs.add_argument("--stderr", action="store_true", help='only stderr (stderr = "separate")')
    # argparse takes `-10m` for an option, so `--since -10m` would have no value: here an
    # argument that starts with a minus and a digit is a value, as a negative number already
    # is (no option of `logs` starts with a digit).  `-n -1` then reaches `_line_count`.
    logs._negative_number_matcher = re.compile(r"^-\.?\d")


def run_logs(args: argparse.Namespace, state_dir: Path) -> int:
    """The `logs` command.  NotRunning propagates only when there are no log files either;
    the other errors of the control socket propagate as for every control command."""
    try:
        if args.follow and args.until is not None:
            raise LogsFailed("-f and --until do not go together: following has no end", EXIT_USAGE)
        if args.since is not None and args.until is not None and args.since > args.until:
            raise LogsFailed("--since is after --until: no line can be in between", EXIT_USAGE)
        _show(args, _select(args, state_dir))
    except LogsFailed as error:
        print(f"supervisor: {error}", file=sys.stderr)
        return error.status
    return EXIT_OK


# -- which files ---------------------------------------------------------------------------------


@dataclass
class _Family:
    """One stream of one process: its current file and its backups, oldest first."""

    process: str
    current: Path
    backups: list[Path] = field(default_factory=list)


def _select(args: argparse.Namespace, state_dir: Path) -> list[_Family]:
    try:
        processes, logs_dir = _ask_supervisor(state_dir, args.names)
    except NotRunning:
        logs_dir = state_dir / LOGS_DIR
        known = _processes_in(logs_dir)
        if not known:
            raise  # nothing to read either: as any control command without a supervisor
        print(
            f"supervisor: no supervisor is running for {state_dir}; reading {logs_dir}",
            file=sys.stderr,
        )
        processes = _resolve(args.names, known)
    suffixes = [STDERR_LOG_SUFFIX] if args.stderr else [LOG_SUFFIX, STDERR_LOG_SUFFIX]
    # A file that is not there has no lines yet, and a follower waits for it to appear.
    families = [_family(logs_dir, process, suffix) for process in processes for suffix in suffixes]
    if args.stderr and not any(_exists(logs_dir, p + STDERR_LOG_SUFFIX) for p in processes):
        raise LogsFailed(
            f"no stderr log for {', '.join(processes)}: "
            'their stderr is in <process>.log unless the service sets stderr = "separate"'
        )
    return families


def _ask_supervisor(state_dir: Path, names: list[str]) -> tuple[list[str], Path]:
    with ControlClient(state_dir) as client:
        reply = client.request("logs", names=names)
    if not reply.get("ok"):
        raise LogsFailed(str(reply.get("error", "the supervisor refused the request")))
    logs = reply["logs"]
    logs_dir = Path(logs[0]["path"]).parent if logs else state_dir / LOGS_DIR
    return [log["name"] for log in logs], logs_dir


def _processes_in(logs_dir: Path) -> list[str]:
    try:
        names = {match["process"] for path in logs_dir.iterdir() if (match := _parse(path.name))}
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(names, key=_natural)


def _resolve(names: list[str], known: list[str]) -> list[str]:
    """As the supervisor resolves names: a service means all its processes."""
    if not names:
        return known
    chosen: dict[str, None] = {}
    for name in names:
        matching = [process for process in known if name in (process, _service_of(process))]
        if not matching:
            services = ", ".join(dict.fromkeys(_service_of(process) for process in known))
            raise LogsFailed(
                f"unknown name {name!r}; services: {services}; processes: {', '.join(known)}"
            )
        chosen.update(dict.fromkeys(matching))
    return list(chosen)


def _service_of(process: str) -> str:
    """`NAME`, `NAME#N` and `NAME@backend` are processes of service NAME."""
    return re.split("[@#]", process, maxsplit=1)[0]


def _family(logs_dir: Path, process: str, suffix: str) -> _Family:
    current = logs_dir / (process + suffix)
    numbered = []
    for path in logs_dir.glob(f"{_glob_escape(current.name)}.*"):
        match = _parse(path.name)
        if match and match["backup"] and path.name == f"{current.name}.{match['backup']}":
            numbered.append((int(match["backup"]), path))
    return _Family(process, current, [path for _, path in sorted(numbered, reverse=True)])


def _parse(file_name: str) -> re.Match[str] | None:
    return _LOG_FILE.fullmatch(file_name)


def _exists(logs_dir: Path, file_name: str) -> bool:
    return (logs_dir / file_name).exists() or any(logs_dir.glob(f"{_glob_escape(file_name)}.*"))


def _glob_escape(name: str) -> str:
    return re.sub(r"([\[\]*?])", r"[\1]", name)


def _natural(name: str) -> list[str | int]:
    """`w#2` before `w#10`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


# -- what to show --------------------------------------------------------------------------------


def _line_count(text: str) -> int | str:
    """-n: a whole number of lines, 0 or more, or `all`, as journalctl's."""
    if text.strip().lower() == ALL_LINES:
        return ALL_LINES
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: not a number of lines (0, 1, 2, ... or all)")
    return count


def _pattern(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as error:
        raise argparse.ArgumentTypeError(f"{text!r}: not a regular expression: {error}") from None


def _show(args: argparse.Namespace, families: list[_Family]) -> None:
    filtered = args.since is not None or args.until is not None or args.grep is not None
    count: int | None
    if args.lines is None:
        count = None if filtered else DEFAULT_LINES
    else:
        count = None if args.lines == ALL_LINES else args.lines
    prefix = _prefixer(list(dict.fromkeys(family.process for family in families)))
    # Followers first: each notes where its file ends, the history is read up to there, and
    # following goes on from there, so nothing is shown twice or missed in between.
    followers = [logfollow.FileFollower(f.current) for f in families] if args.follow else []
    try:
        # Unfiltered, the last `count` lines of each file family are all that can be shown.
        last = None if filtered or count is None else count
        streams = [
            _history(family, followers[index] if followers else None, last, args.since)
            for index, family in enumerate(families)
        ]
        merged = heapq.merge(*streams, key=lambda stamped: stamped[0])
        shown: Iterable[tuple[float, str, str]] = (
            line for line in merged if _passes(args, line[0], line[2])
        )
        if count is not None:
            shown = deque(shown, maxlen=count) if count > 0 else ()
        for _, process, line in shown:
            print(prefix(process) + line)
        if not followers:
            return
        sys.stdout.flush()
        for index, line in logfollow.follow_all(followers):
            if _passes(args, stamp_time(line) or float("inf"), line):
                print(prefix(families[index].process) + line, flush=True)
    finally:
        for follower in followers:
            follower.close()


def _passes(args: argparse.Namespace, when: float, line: str) -> bool:
    if args.since is not None and when < args.since:
        return False
    if args.until is not None and when > args.until:
        return False
    if args.grep is None:
        return True
    # The text without its stamp, so that `^` anchors at the start of what the process wrote
    text = line[STAMP_BYTES:] if stamp_time(line) is not None else line
    return args.grep.search(text) is not None


def _prefixer(processes: list[str]) -> Callable[[str], str]:
    """The console's `name | ` prefix, when there is more than one process to tell apart."""
    if len(processes) < 2:
        return lambda process: ""
    colour = sys.stdout.isatty() and colour_wanted(sys.stdout.fileno())
    prefixes = Prefixes(processes, colour=colour)
    return lambda process: prefixes(process).decode()


def _history(
    family: _Family,
    follower: logfollow.FileFollower | None,
    last: int | None,
    since: float | None,
) -> Iterator[tuple[float, str, str]]:
    """`(time, process, line)` for the family's lines, oldest first: its last `last` lines, or
    all of them but those of backups that end before `since`.  A line without a timestamp
    takes the one before it (the start of time if none), so merging keeps it in place.  With
    a follower, the current file is read as the follower opened it."""
    when = float("-inf")
    for line in (
        _last_lines(family, follower, last)
        if last is not None
        else _all_lines(family, follower, since)
    ):
        when = stamp_time(line) or when
        yield when, family.process, line


def _last_lines(family: _Family, follower: logfollow.FileFollower | None, last: int) -> list[str]:
    """The last `last` lines, from the current file and as many backups as they take."""
    lines = (
        follower.last_lines(last) if follower else _read(logfollow.tail_lines, family.current, last)
    )
    for backup in reversed(family.backups):
        if len(lines) >= last:
            break
        lines = _read(logfollow.tail_lines, backup, last - len(lines)) + lines
    return lines


def _all_lines(
    family: _Family, follower: logfollow.FileFollower | None, since: float | None
) -> Iterator[str]:
    for backup in family.backups:
        if since is None or not _ends_before(backup, since):
            yield from _read(logfollow.all_lines, backup)
    yield from follower.lines_so_far() if follower else _read(logfollow.all_lines, family.current)


def _ends_before(path: Path, moment: float) -> bool:
    """Whether the file's last line is stamped before `moment`: none of it can be shown."""
    last = _read(logfollow.tail_lines, path, 1)
    when = stamp_time(last[0]) if last else None
    return when is not None and when < moment


def _read(reader: Callable[..., list[str]], path: Path, *args: int) -> list[str]:
    """A file removed since it was listed (rotated away) has no lines."""
    try:
        return reader(path, *args)
    except FileNotFoundError:
        return []
