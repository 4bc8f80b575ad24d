"""A service with `user` runs as that user, its exec probes too, and still reaches NOTIFY_SOCKET;
its log stays the supervisor's."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stackcli import ReadyStack, status_of

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root can run a process as nobody")

NOBODY = pwd.getpwnam("nobody")
AS_NOBODY = f"test $(id -u) = {NOBODY.pw_uid} && test $HOME = {NOBODY.pw_dir}"

# The readiness probe passes only when it runs as nobody itself; `notified` is ready only once
# its READY=1, sent as nobody, reaches the supervisor's socket.
STACK = """
[services.plain]
command = ["sleep", "1000"]
user = "nobody"
env = {{ SHELL = "/bin/own-shell" }}
readiness = {{ exec = ["sh", "-c", "{as_nobody}"], period = 0.05 }}

[services.grouped]
command = ["sh", "-c", "echo written as nobody; exec sleep 1000"]
user = "nobody"
group = "root"
start_seconds = 0

[services.notified]
command = ["{python}", "-c", '''
import os, socket, time
address = os.environ["NOTIFY_SOCKET"].replace("@", "\\0", 1)
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", address)
time.sleep(1000)
''']
user = "nobody"
notify = true
"""


def python_for_nobody() -> str:
    """An interpreter nobody can execute (this venv's may live under root's private home)."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        try:
            ran = subprocess.run(
                [candidate, "-c", ""], user=NOBODY.pw_uid, group=NOBODY.pw_gid, timeout=30
            )
        except OSError:
            continue
        if ran.returncode == 0:
            return candidate
    pytest.skip("no python that nobody can execute")


def status_fields(pid: int) -> dict[str, list[int]]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines)
    return {key: [int(n) for n in fields[key].split()] for key in ("Uid", "Gid", "Groups")}


def environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in raw if entry)


def test_a_service_with_a_user_runs_as_that_user(ready_stack: ReadyStack):
    stack = ready_stack(STACK.format(as_nobody=AS_NOBODY, python=python_for_nobody()))
    processes = status_of(stack.config)
    assert all(process["state"] == "running" for process in processes.values()), processes

    plain = processes["plain"]["pid"]
    ids = status_fields(plain)
    assert ids["Uid"] == [NOBODY.pw_uid] * 4  # real, effective, saved, filesystem
    assert ids["Gid"] == [NOBODY.pw_gid] * 4
    assert set(ids["Groups"]) == set(os.getgrouplist("nobody", NOBODY.pw_gid))
    env = environment(plain)
    assert (env["HOME"], env["USER"], env["LOGNAME"]) == (NOBODY.pw_dir, "nobody", "nobody")
    assert env["SHELL"] == "/bin/own-shell"  # the service's own env wins

    grouped = status_fields(processes["grouped"]["pid"])
    assert (grouped["Uid"][0], grouped["Gid"][0]) == (NOBODY.pw_uid, 0)
    assert status_fields(processes["notified"]["pid"])["Uid"][0] == NOBODY.pw_uid

    log = stack.config.parent / "state" / "logs" / "grouped.log"
    stack.wait_until(
        lambda: log.is_file() and "written as nobody" in log.read_text(), 20, "grouped's line"
    )
    assert (log.stat().st_uid, log.parent.stat().st_uid) == (os.geteuid(), os.geteuid())
    assert stack.stop() == 0
