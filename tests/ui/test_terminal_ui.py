"""`supervisor ui` in a real 80x24 terminal (tmux), against live stacks."""

from __future__ import annotations

import os
import re
import signal

import pytest

from supervisor.testing.harness import RunStack, WriteConfig
from tests.support.stackcli import SLEEPERS, ReadyStack, cli, status_of
from tests.support.terminal import tmux_available
from tests.support.waiting import wait_until
from tests.ui.conftest import OpenUI
from tests.ui.driving import pid_on_screen, select

pytest.importorskip("urwid", reason="the `ui` extra is not installed")
pytestmark = pytest.mark.skipif(not tmux_available(), reason="tmux is not installed")

# A process that writes a numbered line twice a second: the log pane must show new ones.
TALKER = """
[services.talker]
command = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo talker-line-$i; sleep 0.5; done"]
start_seconds = 0
"""


def test_it_waits_for_a_supervisor_then_shows_a_killed_process_in_backoff_and_back(
    write_config: WriteConfig, run_stack: RunStack, open_ui: OpenUI
):
    config = write_config(
        SLEEPERS.replace(
            "start_seconds = 0\n\n[services.api]",
            "start_seconds = 0\n"
            "restart = { backoff = { initial = 2.0, max = 2.0, jitter = 0.0 } }\n\n"
            "[services.api]",
            1,
        )
    )
    terminal = open_ui(config, NO_COLOR="1")
    terminal.wait_for(r"no supervisor is running for[^(]*waiting\s+for one", "the UI to wait")
    run_stack(config)
    assert cli(config, "wait", "--ready", "--timeout", "20").returncode == 0
    screen = terminal.wait_for(r"^ api#2 +running", "the stack's processes")
    for heading in ("db", "api (2/2 running)"):
        assert re.search(rf"^{re.escape(heading)}\s*$", screen, re.MULTILINE), screen
    assert re.search(r"^NAME +STATE +RDY +RST +EXIT +UP +PID +CPU +MEM +STATUS", screen, re.M)
    assert all(len(line) <= 80 for line in screen.splitlines())

    pid = status_of(config, "db")["db"]["pid"]
    assert terminal.wait_for(rf"^ db +running .* {pid} ")
    os.kill(pid, signal.SIGKILL)
    # Without colour an alarming state is in capitals.
    terminal.wait_for(r"^ db +BACKOFF +no +1 +SIGKILL", "db in backoff after the SIGKILL")
    terminal.wait_for(r"^ db +running +yes +1 +SIGKILL", "db running again")
    assert pid_on_screen(terminal, "db") == status_of(config, "db")["db"]["pid"] != pid


def test_restart_and_scale_by_key_and_the_log_pane_follows(
    ready_stack: ReadyStack, open_ui: OpenUI
):
    stack = ready_stack(SLEEPERS + TALKER)
    terminal = open_ui(stack.config)
    terminal.wait_for(r"^ talker +running", "the stack's processes")

    select(terminal, "api#1")
    old = status_of(stack.config, "api#1")["api#1"]["pid"]
    terminal.press("r")
    terminal.wait_for(r"restart api#1: done")
    new = wait_until(
        lambda: (pid := pid_on_screen(terminal, "api#1")) not in (None, old) and pid,
        "api#1's new pid on the screen",
    )
    assert new == status_of(stack.config, "api#1")["api#1"]["pid"]

    # Two keys at once: the second counts from the first's reply, not from the table.
    terminal.press("+", "+")
    terminal.wait_for(r"^ api#4 +running", "a fourth api worker")
    assert status_of(stack.config, "api")["api#4"]["state"] == "running"
    terminal.press("-", "-")
    wait_until(
        lambda: terminal.line_of(r"^ api#[34] ") is None, "api#3 and api#4 gone from the table"
    )
    assert {"api#3", "api#4"}.isdisjoint(status_of(stack.config))
    assert terminal.line_of(r"^api \(2/2 running\)")

    select(terminal, "talker")
    first = _last_talker_line(terminal.wait_for(r"talker-line-\d+", "the talker's log"))
    wait_until(
        lambda: _last_talker_line(terminal.screen()) > first,
        "a line the talker wrote after the pane opened",
    )


def _last_talker_line(screen: str) -> int:
    return max((int(n) for n in re.findall(r"talker-line-(\d+)", screen)), default=0)


def test_the_supervisor_stopping_ends_the_ui_with_status_3(
    ready_stack: ReadyStack, open_ui: OpenUI
):
    stack = ready_stack(SLEEPERS)
    terminal = open_ui(stack.config)
    terminal.wait_for(r"^ api#2 +running")
    assert cli(stack.config, "shutdown", "--timeout", "20").returncode == 0
    assert terminal.exit_status() == 3
    screen = terminal.screen()
    assert "supervisor: the supervisor stopped: the stack exited with status 0" in screen
    assert "Traceback" not in screen


@pytest.mark.parametrize(("keys", "status"), [(("q",), 0), (("C-c",), 130)])
def test_q_and_ctrl_c_restore_the_terminal(
    ready_stack: ReadyStack, open_ui: OpenUI, keys: tuple[str, ...], status: int
):
    stack = ready_stack(SLEEPERS)
    terminal = open_ui(stack.config)
    terminal.wait_for(r"^ api#2 +running")
    terminal.press(*keys)
    assert terminal.exit_status() == status
    screen = terminal.screen()
    # Back on the shell's own screen: the UI's lines are gone with its alternate screen.
    assert "NAME" not in screen and "Traceback" not in screen, screen
