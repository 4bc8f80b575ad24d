"""`status` shows a `[groups]` table: its strategy, its restarts against its intensity, and its
last restart as one action naming every member it restarted; a reload changes a group's
strategy for the next crash.  A real stack, real crashes."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from supervisor.policy.restart import ExitStatus
from supervisor.testing.harness import RunStack, WriteConfig
from supervisor.testing.realrun import crasher_command
from supervisor.tools.crashschedule import RunList
from tests.support.stackcli import cli


def test_status_shows_a_group_restart_as_one_action(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    crasher = crasher_command(RunList(((0.3, ExitStatus(code=1)),)), tmp_path / "api.runs")
    path = write_config(
        f"""
        [services.db]
        command = ["sleep", "1000"]
        start_seconds = 0.1
        [services.api]
        command = {json.dumps(crasher)}
        start_seconds = 0.1
        restart = {{ backoff = {{ initial = 0.1, jitter = 0.0 }} }}
        [groups.core]
        services = ["db", "api"]
        strategy = "one_for_all"
        intensity = 3
        period = 60
        """
    )
    stack = run_stack(path)
    cause = "one_for_all: api exited with status 1"
    stack.wait_event(event="strategy", action="restart", group="core", timeout=30)
    stack.wait_until(
        lambda: len(stack.select(event="state", unit="db", to="running")) == 2, 30, "db up again"
    )
    reply = json.loads(cli(path, "status", "--json").stdout)
    (group,) = reply["groups"]
    assert {k: group[k] for k in ("name", "strategy", "services", "intensity", "restarts")} == {
        "name": "core",
        "strategy": "one_for_all",
        "services": ["db", "api"],
        "intensity": 3,
        "restarts": 1,
    }
    assert group["ended"] is None
    assert (group["last"]["action"], group["last"]["members"], group["last"]["cause"]) == (
        "restart",
        ["api", "db"],
        cause,
    )
    text = cli(path, "status").stdout
    assert "group core: one_for_all of db, api; 1/3 restarts in 60s" in text, text
    assert f"  last restart: api, db ({cause})" in text, text
    (db_stop,) = stack.select(event="state", unit="db", to="stopping")
    assert db_stop["cause"] == cause


def test_a_reload_applies_a_changed_strategy_to_the_next_crash(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    crasher = crasher_command(RunList(((4.0, ExitStatus(code=1)),)), tmp_path / "api.runs")
    text = f"""
        [services.db]
        command = ["sleep", "1000"]
        start_seconds = 0
        [services.api]
        command = {json.dumps(crasher)}
        start_seconds = 0
        [groups.core]
        services = ["db", "api"]
        """
    path = write_config(text)
    stack = run_stack(path)
    stack.wait_event(event="state", unit="api", to="running", timeout=30)
    write_config(text + 'strategy = "one_for_all"\n')
    stack.signal(signal.SIGHUP)
    stack.wait_event(event="reload", action="applied", timeout=30)
    assert not stack.select(event="state", unit="api", to="backoff"), "crashed before the reload"
    restart = stack.wait_event(event="strategy", action="restart", timeout=30)
    assert (restart["strategy"], restart["members"]) == ("one_for_all", ["api", "db"])
