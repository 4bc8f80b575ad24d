"""The log the UI's log pane shows: the last lines of one process, or of every process of a
service, then each line as the supervisor writes it to their log files.

Read as `supervisor logs -f` reads them (`cli.logfollow`, which survives rotation): each
process's `<process>.log` and, when its stderr is kept apart, `<process>.err.log`, whose
lines are marked `!` (and coloured by the screen).  Files have no way to say they grew, so the
screen asks `poll` on a timer, as `logs -f` does; a poll reads at most `POLL_BYTES` of each
file, so a process that writes as fast as it can costs the screen the lines it can show, not
every byte (the lines passed over are counted in `skipped`).  Each line is shown with its
time of day only, the date cut off.

Lines are numbered from the first one read (`first` is the number of the oldest still kept),
so a place in the log (a search's match) survives lines being added and old ones dropped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

from supervisor.cli.logfollow import FileFollower
from supervisor.shared.logfiles import LOG_SUFFIX, STDERR_LOG_SUFFIX
from supervisor.shared.logstamp import STAMP_BYTES

KEPT_LINES = 2000
POLL_BYTES = 256 * 1024
# A service's log follows this many of its processes (a thousand workers: the first ones).
MAX_FOLLOWED = 16
_TIME_OF_DAY = slice(11, 19)  # HH:MM:SS of `2026-12-01T09:03:57.123+01:00 `
STDERR_MARK = "!"


@dataclass(frozen=True)
class LogLine:
    text: str  # as shown: `09:03:57 what the process wrote`, `09:03:57!` for stderr
    stderr: bool


def shown(line: str, *, stderr: bool, prefix: str = "") -> str:
    """`09:03:57 what the process wrote` (stderr: `09:03:57!...`), after `prefix` (a
    service's log names the process); a line without a stamp as it is."""
    if len(line) >= STAMP_BYTES and line[STAMP_BYTES - 1] == " " and line[10:11] == "T":
        mark = STDERR_MARK if stderr else " "
        return f"{prefix}{line[_TIME_OF_DAY]}{mark}{line[STAMP_BYTES:]}"
    return prefix + line


def _stderr_path(stdout_path: Path) -> Path:
    return stdout_path.with_name(stdout_path.name.removesuffix(LOG_SUFFIX) + STDERR_LOG_SUFFIX)


class ProcessLog:
    """The log of one or more processes (`paths`: process -> its `.log`): `lines` holds the
    last `KEPT_LINES`, `poll` adds what is new."""

    def __init__(self, title: str, paths: dict[str, Path], *, last: int) -> None:
        self.title = title
        self.followed = len(paths)
        several = len(paths) > 1
        self._followers = [
            (FileFollower(path), stderr, f"{process} " if several else "")
            for process, stdout_path in paths.items()
            for path, stderr in ((stdout_path, False), (_stderr_path(stdout_path), True))
        ]
        self.lines: deque[LogLine] = deque(maxlen=KEPT_LINES)
        self.added = 0  # lines added since the log was opened
        # The files' last lines, in time order: each starts with a sortable stamp.
        opening = [
            (line, stderr, prefix)
            for follower, stderr, prefix in self._followers
            for line in follower.last_lines(last)
        ]
        opening.sort(key=lambda entry: entry[0][: STAMP_BYTES - 1])
        for line, stderr, prefix in opening[-last:]:
            self._add(LogLine(shown(line, stderr=stderr, prefix=prefix), stderr))

    @property
    def first(self) -> int:
        """The number of the oldest line kept."""
        return self.added - len(self.lines)

    @property
    def skipped(self) -> int:
        """Bytes a flood wrote that were passed over unread."""
        return sum(follower.skipped for follower, _, _ in self._followers)

    def _add(self, line: LogLine) -> None:
        self.lines.append(line)
        self.added += 1

    def poll(self) -> bool:
        """Read what was added to the files since the last look; whether anything was."""
        before = self.added
        for follower, stderr, prefix in self._followers:
            for line in follower.new_lines(at_most=POLL_BYTES):
                self._add(LogLine(shown(line, stderr=stderr, prefix=prefix), stderr))
        return self.added != before

    def close(self) -> None:
        for follower, _, _ in self._followers:
            follower.close()
