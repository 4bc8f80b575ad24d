"""`workers = 2` → `1` on a running stack: the second worker goes, the first is left alone (same
process, same name, same log), for a manager service and a plain command alike."""

from __future__ import annotations

from supervisor.testing.harness import WriteConfig
from tests.support.configtext import OPTIONS
from tests.support.stackcli import ReadyStack, cli, status_of

STACK = (
    OPTIONS
    + """periodic_interval = 0

[services.cinder-backup]
workers = 2

[services.web]
command = ["sleep", "1000"]
start_seconds = 0
workers = 2
"""
)


def test_one_worker_fewer_removes_the_last_and_keeps_the_first_running(
    write_config: WriteConfig, ready_stack: ReadyStack
):
    stack = ready_stack(STACK)
    before = status_of(stack.config)
    assert list(before) == ["cinder-backup#1", "cinder-backup#2", "web#1", "web#2"]

    write_config(STACK.replace("workers = 2", "workers = 1"))
    result = cli(stack.config, "reload")
    assert result.returncode == 0, result.stderr
    assert "removed    cinder-backup#2, web#2" in result.stdout
    assert "unchanged  cinder-backup#1, web#1" in result.stdout
    stack.wait_event(event="state", unit="cinder-backup#2", to="exited")
    stack.wait_event(event="state", unit="web#2", to="exited")

    after = status_of(stack.config)
    assert list(after) == ["cinder-backup#1", "web#1"]
    for name in after:
        assert after[name]["pid"] == before[name]["pid"], f"{name} was restarted"
        assert after[name]["state"] == "running"
    logs = stack.config.parent / "state" / "logs"
    assert (logs / "cinder-backup#1.log").is_file()
    assert not (logs / "cinder-backup.log").exists()
    assert stack.stop() == 0
