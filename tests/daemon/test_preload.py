"""Preloading, through real processes: each manager process forked from a template that
imported its code once, and still the supervisor's own child in every way that counts."""

from __future__ import annotations

import json
import os
import signal
import textwrap
from pathlib import Path

import pytest

from supervisor.testing.harness import RunningStack, RunStack, WriteConfig
from tests.daemon.test_containment import assert_ends
from tests.support.descriptors import open_descriptors, shared_with
from tests.support.stackcli import ReadyStack, cli, status_of

STACK = """
[options]
host = "node1"
periodic_interval = 0
report_interval = 0.2
volume_manager = "supervisor.managers.volume.VolumeManager"

[services.cinder-volume]
backends = ["lvm-1", "lvm-2"]
preload = true
"""


def _stat(pid: int, field: int) -> int:
    text = Path(f"/proc/{pid}/stat").read_text()
    return int(text.rpartition(")")[2].split()[field - 3])


def _title(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").replace(b"\0", b" ").decode()


def _template_pid(stack: RunningStack) -> int:
    return stack.wait_event(event="preload", action="ready")["pid"]


def _forked(stack: RunningStack, pid: int) -> None:
    stack.wait_event(event="preload", action="forked", pid=pid)


def _running_again(stack: RunningStack, unit: str, old: int) -> int:
    """The pid of the run of `unit` that reached running after the one of pid `old`."""
    return stack.wait_until(
        lambda: next(
            (e["pid"] for e in stack.select(event="state", unit=unit, to="running")
             if e["pid"] != old),
            None,
        ),
        20,
        f"{unit} to run again",
    )  # fmt: skip


def _supervisor_pid(stack: RunningStack) -> int:
    return stack.wait_event(event="supervisor", action="start")["pid"]


def test_a_forked_backend_is_the_supervisors_child_and_heartbeats(ready_stack: ReadyStack):
    stack = ready_stack(STACK)
    supervisor = _supervisor_pid(stack)
    template = _template_pid(stack)
    for name, process in status_of(stack.config).items():
        pid = process["pid"]
        _forked(stack, pid)
        assert _stat(pid, 4) == supervisor  # its parent: the supervisor, not the template
        assert _stat(pid, 5) == pid  # the leader of its own process group
        backend = name.partition("@")[2]
        assert _title(pid) == f"cinder-volume node1@{backend}"
        assert Path(f"/proc/{pid}/cwd").resolve() == Path(f"/proc/{template}/cwd").resolve()
    assert _stat(template, 4) == supervisor

    def heartbeats() -> bool:
        rows = json.loads(cli(stack.config, "service", "list", "--json").stdout or "[]")
        counts = {row["host"]: row.get("report_count", 0) for row in rows}
        return len(counts) == 2 and all(count >= 2 for count in counts.values())

    stack.wait_until(heartbeats, 20, "both forked backends to heartbeat in the services table")
    assert stack.stop() == 0
    assert_ends(template)


def test_no_descriptor_of_the_template_is_open_in_a_fork(ready_stack: ReadyStack):
    stack = ready_stack(STACK)
    template = _template_pid(stack)
    for process in status_of(stack.config).values():
        pid = process["pid"]
        assert open_descriptors(pid)[0] == "/dev/null"
        # stdout and stderr are the process's own pipes to the pump, the rest its own.
        assert shared_with(pid, template) == {}
    assert stack.stop() == 0


def test_a_sigkilled_fork_is_forked_again_from_the_same_template(ready_stack: ReadyStack):
    stack = ready_stack(STACK)
    template = _template_pid(stack)
    first = status_of(stack.config, "cinder-volume@lvm-1")["cinder-volume@lvm-1"]["pid"]
    other = status_of(stack.config, "cinder-volume@lvm-2")["cinder-volume@lvm-2"]["pid"]
    os.kill(first, signal.SIGKILL)
    _forked(stack, _running_again(stack, "cinder-volume@lvm-1", first))
    assert [e["pid"] for e in stack.select(event="preload", action="start")] == [template]
    assert status_of(stack.config)["cinder-volume@lvm-2"]["pid"] == other  # untouched
    assert stack.stop() == 0


def test_a_killed_template_leaves_its_forks_serving_and_is_replaced(ready_stack: ReadyStack):
    stack = ready_stack(STACK)
    template = _template_pid(stack)
    before = {name: p["pid"] for name, p in status_of(stack.config).items()}
    os.kill(template, signal.SIGKILL)
    replaced = stack.wait_event(event="preload", action="replaced")
    assert "exited" in replaced["cause"]
    new = stack.wait_until(
        lambda: next((e["pid"] for e in stack.select(event="preload", action="ready")
                      if e["pid"] != template), None),
        20,
        "a new template to be ready",
    )  # fmt: skip
    assert {name: p["pid"] for name, p in status_of(stack.config).items()} == before
    assert all(p["state"] == "running" for p in status_of(stack.config).values())
    os.kill(before["cinder-volume@lvm-1"], signal.SIGKILL)
    again = _running_again(stack, "cinder-volume@lvm-1", before["cinder-volume@lvm-1"])
    _forked(stack, again)
    assert _stat(again, 4) == _supervisor_pid(stack)
    assert new != template
    assert stack.stop() == 0


MANAGER = """
from pathlib import Path

from supervisor.managers.volume import VolumeManager

VERSION = {version!r}


class Manager(VolumeManager):
    def init_host(self, *args, **kwargs):
        Path({record!r}).write_text(VERSION)
        return super().init_host(*args, **kwargs)
"""


def _own_manager_stack(write_config: WriteConfig, code: Path, extra: str = "") -> Path:
    return write_config(
        extra
        + f"""
        [options]
        host = "node1"
        periodic_interval = 0
        volume_manager = "edited.Manager"

        [services.cinder-volume]
        preload = true
        env = {{ PYTHONPATH = "{code}" }}
        """
    )


def test_an_edited_manager_module_is_run_by_the_next_restart(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    code = tmp_path / "code"
    code.mkdir()
    record = tmp_path / "version"
    module = code / "edited.py"
    module.write_text(MANAGER.format(version="one", record=str(record)))
    stack = run_stack(_own_manager_stack(write_config, code))
    stack.wait_event(event="state", unit="cinder-volume", to="running")
    assert record.read_text() == "one"
    module.write_text(MANAGER.format(version="two (edited)", record=str(record)))
    assert cli(stack.config, "restart", "cinder-volume").returncode == 0
    replaced = stack.wait_event(event="preload", action="replace")
    assert "edited.py changed on disk" in replaced["cause"]
    stack.wait_until(
        lambda: any("fresh template" in e["cause"]
                    for e in stack.select(event="state", unit="cinder-volume", to="starting")),
        20,
        "the restart's cause to say its template was replaced",
    )  # fmt: skip
    stack.wait_until(lambda: record.read_text() == "two (edited)", 20, "the edited code to run")
    # status says the template was replaced, and why.
    [template] = json.loads(cli(stack.config, "status", "--json").stdout)["templates"]
    assert template["replaced"] == 1
    assert "edited.py changed on disk" in template["replaced_because"]
    text = cli(stack.config, "status").stdout
    assert "template preload:stack: pid" in text and "replaced 1x, last: " in text, text
    assert stack.stop() == 0


READS_AT_IMPORT = """
from pathlib import Path

from supervisor.managers.volume import VolumeManager

VERSION = Path({data!r}).read_text()  # read once, when the template imports this module


class Manager(VolumeManager):
    def init_host(self, *args, **kwargs):
        Path({record!r}).write_text(VERSION)
        return super().init_host(*args, **kwargs)
"""


def test_restart_fresh_replaces_the_template_so_what_import_read_is_read_again(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    # A file read at import time is no module: only a fresh template reads it again.
    code = tmp_path / "code"
    code.mkdir()
    data, record = tmp_path / "data", tmp_path / "version"
    data.write_text("one")
    (code / "edited.py").write_text(READS_AT_IMPORT.format(data=str(data), record=str(record)))
    stack = run_stack(_own_manager_stack(write_config, code))
    first_template = _template_pid(stack)
    stack.wait_event(event="state", unit="cinder-volume", to="running")
    assert record.read_text() == "one"
    data.write_text("two")
    result = cli(stack.config, "restart", "--fresh", "cinder-volume")
    assert result.returncode == 0, result.stderr
    assert "templates replaced: preload:stack" in result.stdout
    replaced = stack.wait_event(event="preload", action="replace")
    assert replaced["cause"] == "restart --fresh"
    stack.wait_until(lambda: record.read_text() == "two", 20, "the data read by a fresh import")
    ready = stack.wait_until(
        lambda: list(stack.select(event="preload", action="ready"))[1:], 20, "a new template"
    )
    assert ready[0]["pid"] != first_template
    [template] = json.loads(cli(stack.config, "status", "--json").stdout)["templates"]
    assert (template["pid"], template["replaced_because"]) == (ready[0]["pid"], "restart --fresh")
    assert stack.stop() == 0


def test_an_import_error_in_the_template_is_the_services_error(
    write_config: WriteConfig, run_stack: RunStack, tmp_path: Path
):
    code = tmp_path / "code"
    code.mkdir()
    (code / "edited.py").write_text('raise RuntimeError("a bug at module level")\n')
    keep = '[services.keep]\ncommand = ["sleep", "1000"]\nstart_seconds = 0\n'
    stack = run_stack(_own_manager_stack(write_config, code, keep))
    error = stack.wait_event(event="preload", action="import-error")
    assert "RuntimeError: a bug at module level" in error["cause"]
    fatal = stack.wait_event(event="state", unit="cinder-volume", to="fatal")
    assert "a bug at module level" in fatal["cause"]
    assert "a bug at module level" in status_of(stack.config)["cinder-volume"]["cause"]
    stack.stop()


def test_preload_false_execs_as_before(ready_stack: ReadyStack):
    stack = ready_stack(STACK.replace("preload = true", "preload = false"))
    assert stack.select(event="preload") == []
    supervisor = _supervisor_pid(stack)
    for process in status_of(stack.config).values():
        assert _stat(process["pid"], 4) == supervisor
    assert stack.stop() == 0


@pytest.mark.parametrize("containment", ["cgroup", "process-group"])
def test_a_sigkilled_supervisor_leaves_no_template_and_no_fork(
    write_config: WriteConfig,
    run_stack: RunStack,
    containment: str,
    monkeypatch: pytest.MonkeyPatch,
):
    if containment == "process-group":
        monkeypatch.setenv("SUPERVISOR_CONTAINMENT", "process-group")
    stack = run_stack(write_config(textwrap.dedent(STACK)))
    assert cli(stack.config, "wait", "--ready", "--timeout", "20").returncode == 0
    template = _template_pid(stack)
    forks = [p["pid"] for p in status_of(stack.config).values()]
    stack.signal(signal.SIGKILL)
    stack.wait_exit()
    for pid in (template, *forks):
        assert_ends(pid)
