"""The pytest plugin, used from a test suite of its own (pytester), as a user would."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SERVICES = """
[services.steady]
command = ["sleep", "1000"]
start_seconds = 0

[services.crasher]
command = ["sleep", "1000"]
start_seconds = 0
restart = { backoff = { initial = 0.01, jitter = 0.0 } }
"""

GIVES_UP = """
def test_crasher_gives_up(stack):
    limit = {"crasher.restart.start_limit": {"burst": 3, "interval": 60}}
    s = stack("services.toml", overrides=limit)
    s.wait_ready(timeout=10)
    for _ in range(4):
        s.fault("crasher", "kill")
    s.wait_state("crasher", "fatal", timeout=10)
    assert s.events(unit="crasher", to="starting").count == 4
    assert s.state("steady") == "running"
"""

EXPLAINS = """
def test_waits_fail_with_the_timeline(stack):
    s = stack("services.toml")
    s.wait_ready(timeout=10)
    s.wait_state("steady", "fatal", timeout=0.5)
"""

LEAKS = """
from pathlib import Path

# The escapee leaves the process group and drops the supervisor's marker, then says it runs.
ESCAPE = "env -u SUPERVISOR_SENTINEL setsid sh -c 'echo $$ > {pidfile}; exec sleep 1000' &"


def test_a_leak_fails_the_test(stack):
    pidfile = Path.cwd() / "escapee.pid"
    s = stack("services.toml", overrides={"leaky": {
        "command": ["sh", "-c", ESCAPE.format(pidfile=pidfile) + " exec sleep 1000"],
        "start_seconds": 0,
    }})
    s.wait_ready(timeout=10)
    s.wait_event(event="state", unit="leaky", to="running")
    s.wait_until(pidfile.exists, 10, "the escapee")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", services=SERVICES)
    return pytester


def test_a_restart_policy_test_reads_like_the_question(suite: pytest.Pytester):
    suite.makepyfile(GIVES_UP)
    result = suite.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_a_missed_wait_shows_what_happened_instead(suite: pytest.Pytester):
    suite.makepyfile(EXPLAINS)
    result = suite.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*timed out after 0.5s waiting for steady to be fatal*"])
    result.stdout.fnmatch_lines(['*"unit": "steady", "from": "starting", "to": "running"*'])


def test_a_process_that_outlives_its_stack_fails_the_test(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    # A cgroup would hold the escapee: only under process groups is there a leak to catch.
    monkeypatch.setenv("SUPERVISOR_CONTAINMENT", "process-group")
    suite.makepyfile(LEAKS)
    result = suite.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*outlived its stack: * sleep*"])


README_EXAMPLE = """
def test_volume_gives_up(stack):
    s = stack("services.toml", overrides={
        "cinder-volume.restart.start_limit": {"burst": 3, "interval": 60},
        "web.command": ["sleep", "1000"],  # keep the example off a real port
        "web.readiness": {"exec": ["true"]},  # and its HTTP probe with it
    })
    s.wait_ready(timeout=30)
    for _ in range(4):
        s.fault("cinder-volume@lvm-1", "exit", code=1)
    s.wait_state("cinder-volume@lvm-1", "fatal", timeout=30)
    assert s.events(unit="cinder-volume@lvm-1", to="starting").count == 4
    assert s.state("cinder-scheduler") == "running"
"""


def test_the_readme_example_runs_on_the_repository_stack(pytester: pytest.Pytester):
    repository_stack = Path(__file__).parents[2] / "services.toml"
    pytester.makefile(".toml", services=repository_stack.read_text())
    pytester.makepyfile(README_EXAMPLE)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)
