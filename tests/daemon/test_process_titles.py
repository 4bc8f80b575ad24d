"""Every manager process of a stack has a title of its own in `ps`: `<binary>[#N] <host>`."""

from __future__ import annotations

from pathlib import Path

from tests.support.configtext import OPTIONS
from tests.support.stackcli import ReadyStack, status_of

STACK = (
    OPTIONS
    + """periodic_interval = 0

[services.cinder-scheduler]
workers = 2

[services.cinder-volume]
backends = ["lvm-1", "lvm-2"]

[services.cinder-backup]
workers = 2
"""
)


def title_of(pid: int) -> str:
    """What `ps` shows: setproctitle rewrites the argv area that /proc/PID/cmdline reads."""
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode()


def test_every_process_of_the_stack_has_a_distinct_title(ready_stack: ReadyStack):
    stack = ready_stack(STACK)
    pids = {name: process["pid"] for name, process in status_of(stack.config).items()}
    titles = {name: title_of(pid) for name, pid in pids.items()}
    assert titles == {
        "cinder-scheduler#1": "cinder-scheduler#1 node1",
        "cinder-scheduler#2": "cinder-scheduler#2 node1",
        "cinder-volume@lvm-1": "cinder-volume node1@lvm-1",
        "cinder-volume@lvm-2": "cinder-volume node1@lvm-2",
        "cinder-backup#1": "cinder-backup#1 node1",
        "cinder-backup#2": "cinder-backup#2 node1",
    }
    assert len(set(titles.values())) == len(titles)
    assert stack.stop() == 0
