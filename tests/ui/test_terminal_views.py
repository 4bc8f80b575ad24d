"""The views and keys of `supervisor ui` in a real 80x24 terminal (tmux): folding a service,
searching the log, the events view, why a process is fatal, attach, and a closed terminal.
One stack for the module; each test opens a UI of its own on it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from supervisor.testing.harness import RunningStack
from tests.support.stackcli import cli, status_of
from tests.support.terminal import tmux_available
from tests.support.waiting import wait_until
from tests.ui.conftest import OpenUI
from tests.ui.driving import select

pytest.importorskip("urwid", reason="the `ui` extra is not installed")
pytestmark = pytest.mark.skipif(not tmux_available(), reason="tmux is not installed")

STACK = """
[supervisor]
state_dir = "state"

[services.db]
command = ["sleep", "1000"]
start_seconds = 0

[services.api]
command = ["sleep", "1000"]
start_seconds = 0
workers = 2

[services.solo]
command = ["sleep", "1000"]
start_seconds = 0

[services.crash]
command = ["sh", "-c", "echo crashing >&2; exit 3"]
start_seconds = 1
restart.backoff = { initial = 0.05, max = 0.05, jitter = 0.0 }
restart.start_limit = { burst = 2, interval = 60 }

[services.talker]
command = ["sh", "-c", '''i=0; while true; do i=$((i+1))
  echo talker-line-$i; echo talker-oops-$i >&2; sleep 0.25; done''']
start_seconds = 0
stderr = "separate"
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    where = tmp_path_factory.mktemp("views")
    config = where / "services.toml"
    config.write_text(STACK)
    running = RunningStack(config, where / "state")
    try:
        ready = cli(config, "wait", "--ready", "db", "api", "solo", "talker", "--timeout", "30")
        assert ready.returncode == 0, ready.stderr + running.console()
        wait_until(lambda: status_of(config)["crash"]["state"] == "fatal", "crash fatal")
        yield running
    finally:
        running.close()


def test_a_service_folds_to_its_summary_and_unfolds(stack: RunningStack, open_ui: OpenUI):
    terminal = open_ui(stack.config)
    terminal.wait_for(r"^ api#2 +running", "the stack's processes")
    assert terminal.line_of(r"enter fold")
    select(terminal, "api")
    terminal.press("Enter")
    terminal.wait_for(r"^api \(2/2 running\) \[folded\]", "api folded")
    assert terminal.line_of(r"^ api#\d ") is None
    terminal.press("Enter")
    terminal.wait_for(r"^ api#1 +running[\s\S]*^ api#2 +running", "api unfolded")
    assert terminal.line_of(r"^api \(2/2 running\)\s*$")


def test_the_log_marks_stderr_and_a_search_finds_an_old_line(stack: RunningStack, open_ui: OpenUI):
    terminal = open_ui(stack.config, NO_COLOR="1")
    terminal.wait_for(r"^ talker +running", "the stack's processes")
    select(terminal, "talker")
    # Without colour, stderr's lines are told by the `!` after their time.
    terminal.wait_for(r"^\d\d:\d\d:\d\d!talker-oops-\d+$", "a line of stderr, marked")
    terminal.wait_for(r"^\d\d:\d\d:\d\d talker-line-\d+$", "a line of stdout")
    terminal.press("/")
    terminal.press("-l", "talker-line-1$")
    terminal.press("Enter")
    terminal.wait_for(r"/talker-line-1\$: match 1 of 1", "the search's answer")
    terminal.wait_for(r"^\d\d:\d\d:\d\d talker-line-1$", "the first line, held in view")
    terminal.press("Escape")
    wait_until(
        lambda: re.search(r"talker-line-1$", terminal.screen(), re.M) is None,
        "the pane following the log again",
    )


def test_the_events_view_shows_a_restarts_cause(stack: RunningStack, open_ui: OpenUI):
    terminal = open_ui(stack.config)
    terminal.wait_for(r"^ db +running", "the stack's processes")
    select(terminal, "db")
    terminal.press("e")
    terminal.wait_for(r"^ events: db", "the events view")
    terminal.press("r")
    terminal.wait_for(r"^\d\d:\d\d:\d\d running -> stopping: restarted by operator", "the cause")
    terminal.wait_for(r"-> running: ", "db running again")


def test_a_fatal_process_says_why_with_the_start_limit_it_hit(stack: RunningStack, open_ui: OpenUI):
    terminal = open_ui(stack.config)
    terminal.wait_for(r"^ crash +fatal", "the stack's processes")
    select(terminal, "crash")
    terminal.press("d")
    screen = terminal.wait_for(r"^ why: crash", "the why view")
    # Its exits came before the UI started: asked of the supervisor's kept events.
    screen = terminal.wait_for(r"last exits \(newest first, 3 of 3\)", "its last exits")
    assert re.search(
        r"^crash is fatal: exit status 3; start limit hit: 2 restarts within 60s", screen, re.M
    ), screen
    assert re.search(r"^start limit hit: 2 restarts within 60s; not restarted", screen, re.M)
    assert (
        len(re.findall(r"^  \d\d:\d\d:\d\d  pid \d+  status 3  exit status 3", screen, re.M)) == 3
    )


def test_attach_hands_the_terminal_over_and_takes_it_back(stack: RunningStack, open_ui: OpenUI):
    terminal = open_ui(stack.config)
    terminal.wait_for(r"^ solo +running", "the stack's processes")
    select(terminal, "solo")
    before = status_of(stack.config)["solo"]["pid"]
    terminal.press("a")
    terminal.wait_for(r"solo is stopped under the supervisor and runs here", "attach's words")
    wait_until(lambda: status_of(stack.config)["solo"].get("attached"), "solo attached")
    terminal.press("C-c")  # the attached `sleep`'s, not the UI's
    terminal.wait_for(r"attach solo: ended with exit status 130", "the UI back")
    terminal.wait_for(r"^ solo +running", "solo running under the supervisor again")
    after = status_of(stack.config)["solo"]
    assert after["state"] == "running" and after["pid"] != before and not after["attached"]


def test_a_closed_terminal_ends_the_ui_with_129_and_nothing_left(
    stack: RunningStack, open_ui: OpenUI
):
    terminal = open_ui(stack.config)
    terminal.wait_for(r"^ db +running", "the stack's processes")
    terminal.hang_up()
    assert terminal.exit_status_after_hang_up() == 129
    wait_until(lambda: not _uis_of(stack.config), "no `supervisor ui` left running")


def _uis_of(config: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "ui" in command and str(config) in command:
            found.append(process)
    return found
