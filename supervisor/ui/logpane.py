"""The log of the selected process, as the UI's log pane shows it: its last lines, then each
line as the supervisor writes it to the process's log files.

Read as `supervisor logs -f` reads them (`cli.logfollow`, which survives rotation): the
process's `<process>.log` and, when its stderr is kept apart, `<process>.err.log`, whose lines
are marked `!`.  Files have no way to say they grew, so the screen asks `new_lines` on a timer,
as `logs -f` does.  Each line is shown with its time of day only, the date cut off.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from supervisor.cli.logfollow import FileFollower
from supervisor.shared.logfiles import LOG_SUFFIX, STDERR_LOG_SUFFIX
from supervisor.shared.logstamp import STAMP_BYTES

KEPT_LINES = 500
_TIME_OF_DAY = slice(11, 19)  # HH:MM:SS of `2026-12-01T09:03:57.123+01:00 `
STDERR_MARK = "!"


def shown(line: str, *, stderr: bool) -> str:
    """`09:03:57 what the process wrote` (stderr: `09:03:57!...`); a line without a stamp as
    it is."""
    if len(line) >= STAMP_BYTES and line[STAMP_BYTES - 1] == " " and line[10:11] == "T":
        mark = STDERR_MARK if stderr else " "
        return f"{line[_TIME_OF_DAY]}{mark}{line[STAMP_BYTES:]}"
    return line


class ProcessLog:
    """One process's log: `lines` holds its last `KEPT_LINES`, `poll` adds what is new."""

    def __init__(self, process: str, stdout_path: Path, *, last: int) -> None:
        self.process = process
        stderr_path = stdout_path.with_name(
            stdout_path.name.removesuffix(LOG_SUFFIX) + STDERR_LOG_SUFFIX
        )
        self._followers = [(FileFollower(stdout_path), False), (FileFollower(stderr_path), True)]
        self.lines: deque[str] = deque(maxlen=KEPT_LINES)
        # The two files' last lines, in time order: each starts with a sortable stamp.
        opening = [
            (line, stderr)
            for follower, stderr in self._followers
            for line in follower.last_lines(last)
        ]
        for line, stderr in sorted(opening, key=lambda pair: pair[0][: STAMP_BYTES - 1])[-last:]:
            self.lines.append(shown(line, stderr=stderr))

    def poll(self) -> bool:
        """Read what was added to the files since the last look; whether anything was."""
        grew = False
        for follower, stderr in self._followers:
            for line in follower.new_lines():
                self.lines.append(shown(line, stderr=stderr))
                grew = True
        return grew

    def close(self) -> None:
        for follower, _ in self._followers:
            follower.close()
