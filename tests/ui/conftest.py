"""`supervisor ui` in real terminals (tmux): the fixture that opens one."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.terminal import Terminal
from tests.ui.driving import pythonpath

OpenUI = Callable[..., Terminal]


@pytest.fixture
def open_ui(tmp_path: Path) -> Iterator[OpenUI]:
    """Open `supervisor ui -c CONFIG` in a terminal of its own; closed at teardown."""
    opened: list[Terminal] = []

    def open_(config: Path, **env: str) -> Terminal:
        command = [sys.executable, "-m", "supervisor", "ui", "-c", str(config)]
        terminal = Terminal(command, tmp_path, env={"PYTHONPATH": pythonpath(), **env})
        opened.append(terminal)
        return terminal

    yield open_
    for terminal in opened:
        terminal.close()
