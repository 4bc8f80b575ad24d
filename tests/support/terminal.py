"""A real terminal for a test: a tmux server of the test's own, one 80x24 window running one
command, driven by `send-keys` and read by `capture-pane`.

The command runs in a shell that prints `EXITED <status>` when it ends and then waits, so the
screen it leaves and its exit status can still be read; the status also goes to a file, read
by `exit_status_after_hang_up` once the terminal itself is gone (the shell traps SIGHUP, so
it outlives a `kill-session` long enough to write it, and its command gets SIGHUP as a
command run from a shell would).  `close` kills the server and with it everything it runs.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path

from tests.support.waiting import wait_until

COLUMNS, ROWS = 80, 24
_EXITED = re.compile(r"^EXITED (\d+)$", re.MULTILINE)


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


class Terminal:
    def __init__(self, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self._socket = f"supervisor-test-{uuid.uuid4().hex[:12]}"
        self._status_file = cwd / f"{self._socket}.status"
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        # After the command: wait for the test to look (cat reads until the terminal closes:
        # nothing is left running once it has).
        shell = (
            "trap true HUP; "
            f"{'env ' + assignments + ' ' if assignments else ''}{shlex.join(command)}; "
            f"s=$?; echo $s > {shlex.quote(str(self._status_file))}; "
            'echo "EXITED $s"; exec cat > /dev/null'
        )
        self._tmux("new-session", "-d", "-x", str(COLUMNS), "-y", str(ROWS), "-c", str(cwd), shell)

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self._socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert result.returncode == 0, f"tmux {args[0]}: {result.stderr}"
        return result.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", *keys)

    def wait_for(self, pattern: str, what: str | None = None, timeout: float = 30) -> str:
        """The screen once `pattern` (a regular expression) is on it."""
        found = re.compile(pattern, re.MULTILINE)

        def look() -> str | None:
            text = self.screen()
            return text if found.search(text) else None

        try:
            return wait_until(look, what or f"{pattern!r} on the screen", timeout)
        except AssertionError as error:
            raise AssertionError(f"{error}; the screen:\n{self.screen()}") from None

    def line_of(self, pattern: str) -> str | None:
        """The first line of the screen that matches, or None."""
        return next((line for line in self.screen().splitlines() if re.search(pattern, line)), None)

    def exit_status(self, timeout: float = 30) -> int:
        text = self.wait_for(_EXITED.pattern, "the command to exit", timeout)
        match = _EXITED.search(text)
        assert match
        return int(match[1])

    def hang_up(self) -> None:
        """Close the terminal under the command, as closing its window does."""
        self._tmux("kill-session")

    def exit_status_after_hang_up(self, timeout: float = 30) -> int:
        wait_until(self._status_file.exists, "the command to exit after the hang-up", timeout)
        return int(wait_until(lambda: self._status_file.read_text().strip(), "its status", 5))

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self._socket, "kill-server"], capture_output=True, timeout=20)
