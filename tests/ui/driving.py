"""Driving `supervisor ui` in a real terminal: where its code is, and moving its selection."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from tests.support.terminal import Terminal
from tests.support.waiting import wait_until


def pythonpath() -> str:
    """This checkout first, as the test process itself imports it."""
    here = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])


def pane_title(terminal: Terminal) -> str | None:
    """The lower pane's title line: ` log: NAME`, ` events: NAME`, ` why: NAME`, ..."""
    return terminal.line_of(r"^ (log|events|why): ")


def select(terminal: Terminal, name: str) -> None:
    """Move the selection down, then up, until the lower pane is about `name` (a process, or
    a service's header): the table is in start order, and services that start together may
    come in either order."""
    about = re.compile(rf"^ \w+: {re.escape(name)}(  | \(|$)")
    for key in ["Down"] * 20 + ["Up"] * 20:
        title = pane_title(terminal)
        if title is not None and about.match(title):
            return
        terminal.press(key)
        # One key at a time: the next once this one moved the selection (or, at the end of
        # the table, could not).
        with contextlib.suppress(AssertionError):
            wait_until(lambda t=title: pane_title(terminal) != t, "the selection", 2)
    raise AssertionError(f"could not select {name}:\n{terminal.screen()}")


def pid_on_screen(terminal: Terminal, process: str) -> int | None:
    """The PID column of the process's row, or None."""
    line = terminal.line_of(rf"^ {re.escape(process)} ")
    numbers = re.findall(r"\s(\d{2,})\s", line or "")
    return int(numbers[0]) if numbers else None
