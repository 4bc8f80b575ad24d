"""A tmux server of a benchmark's own, to run terminal programs (`supervisor ui`) as a user
sees them: each in a session of 80x24, driven by `send-keys` and read by `capture-pane`."""

from __future__ import annotations

import re
import shlex
import subprocess
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


class Tmux:
    """A tmux server of the benchmark's own; each UI in a session of 80x24."""

    def __init__(self) -> None:
        self._socket = f"bench-ui-{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["tmux", "-L", self._socket, "kill-server"], capture_output=True)

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self._socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(f"tmux {args[0]}: {result.stderr}")
        return result.stdout

    def open(self, command: list[str], cwd: Path) -> str:
        name = f"ui{uuid.uuid4().hex[:6]}"
        shell = f"PYTHONPATH={shlex.quote(str(REPO))} {shlex.join(command)}; exec sleep 3600"
        self.run("new-session", "-d", "-s", name, "-x", "80", "-y", "24", "-c", str(cwd), shell)
        return name

    def screen(self, window: str) -> str:
        return self.run("capture-pane", "-p", "-t", window)

    def send(self, window: str, *keys: str) -> None:
        self.run("send-keys", "-t", window, *keys)

    def wait_for(self, window: str, pattern: str, timeout: float) -> str:
        found = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while not found.search(screen := self.screen(window)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pattern!r} not on the screen:\n{screen}")
            time.sleep(0.05)
        return screen
