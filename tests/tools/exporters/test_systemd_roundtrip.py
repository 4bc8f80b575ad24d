"""An exported unit, run as systemd would run it: its ExecStart= with its Environment= (and
nothing of this test's environment but systemd's default PATH and NOTIFY_SOCKET), in its
WorkingDirectory=.  The manager process must resolve its manager class through the topic
convention from the spec the unit hands it, and report READY=1 over NOTIFY_SOCKET, as under
`supervisor run`.  (The suite cannot assume a systemd manager to run units in: the docs
(guides/moving-in-and-out.md) say what is verified, and how.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.daemon.sentinel import MARKER_VARIABLE
from supervisor.testing.harness import RunStack
from supervisor.tools.exporters.systemd import SYSTEMD_PATH
from tests.conftest import MARKER
from tests.support.datagrams import Inbox
from tests.support.serviceprocesses import FIXTURE_MANAGERS_PATH
from tests.support.waiting import TIMEOUT
from tests.tools.exporters.conftest import Export
from tests.tools.exporters.systemd_unitfile import read_unit


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test starts, each leading its group: every group SIGKILLed at the end."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_an_exported_manager_unit_resolves_its_manager_and_reports_ready(
    tmp_path: Path,
    export: Export,
    notify: Inbox,
    records: Inbox,
    started: list[subprocess.Popen[bytes]],
) -> None:
    path = tmp_path / "services.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [supervisor]
            state_dir = "state"

            [options]
            host = "node9"
            # Found only through the topic convention: cinder-volume -> volume_manager.
            volume_manager = "fixtures_managers.recording.RecordingManager"
            record_socket = "{records.address}"
            report_interval = 0
            periodic_interval = 0

            [services.cinder-volume]
            backends = ["lvm-1", "lvm-2"]
            env = {{ PYTHONPATH = "{FIXTURE_MANAGERS_PATH}" }}
            """
        )
    )
    out = tmp_path / "units"
    result = export(path, "systemd", out)
    assert result.returncode == 0, result.stderr
    unit = read_unit(out / "cinder-volume@.service")
    assert unit.value("Service", "Type") == "notify"

    # Started as systemd starts cinder-volume@lvm-2.service.
    environment = {
        "PATH": SYSTEMD_PATH,
        "NOTIFY_SOCKET": notify.address,
        MARKER: os.environ[MARKER],  # the suite's check that nothing outlives it
        **unit.environment("lvm-2"),
    }
    workdir = unit.working_directory("lvm-2")
    assert workdir == str(tmp_path)
    # No `supervisor run` has created the state directory: the process must do without it.
    assert not (tmp_path / "state").exists()
    process = subprocess.Popen(
        unit.exec_start("lvm-2"),
        env=environment,
        cwd=workdir,
        start_new_session=True,
        stderr=subprocess.PIPE,
    )
    started.append(process)

    records.expect("constructed host=node9@lvm-2 service_name=lvm-2")
    ready = notify.expect("READY=1")
    assert any("STATUS=" in message for message in ready)
    assert (tmp_path / "state" / "cinder.sqlite").is_file()

    # `systemctl reload`: ExecReload= with MAINPID, as systemd runs it; the manager's reset().
    reload = unit.command("ExecReload", "lvm-2", {"MAINPID": str(process.pid)})
    subprocess.run(reload, check=True, timeout=TIMEOUT)
    records.expect("reset")
    notify.expect("RELOADING=1")
    notify.expect("READY=1")

    # KillSignal=SIGTERM: a clean stop, which Restart=on-failure does not restart.
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, stderr.decode()


def test_a_unit_gives_a_process_what_supervisor_run_gives_it(
    tmp_path: Path, export: Export, run_stack: RunStack
) -> None:
    # Each worker writes its whole environment to <process>.json, under `supervisor run`.
    dump = (
        "import json, os; "
        "json.dump(dict(os.environ), open(os.environ['SUPERVISOR_PROCESS'] + '.json', 'w'))"
    )
    path = tmp_path / "services.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [supervisor]
            state_dir = "state"

            [services.dump]
            command = ["{sys.executable}", "-c", "{dump}"]
            workers = 2
            oneshot = true
            directory = "."
            env = {{ ODD = "100% \\"q\\" $HOME $$ \\\\ x", NUMBER = "{{process_number}}" }}
            """
        )
    )
    stack = run_stack(path)
    assert stack.wait_exit() == 0, stack.console()
    out = tmp_path / "units"
    result = export(path, "systemd", out)
    assert result.returncode == 0, result.stderr
    unit = read_unit(out / "dump@.service")

    for instance in ("1", "2"):
        supervised = json.loads((tmp_path / f"dump#{instance}.json").read_text())
        exported = unit.environment(instance)
        assert {name: supervised.get(name) for name in exported} == exported
        # Beyond the unit's variables, the supervisor added only what systemd adds itself
        # (NOTIFY_SOCKET) and its own bookkeeping; the rest is its inherited environment.
        added = {
            name
            for name, value in supervised.items()
            if name not in exported and os.environ.get(name) != value
        }
        assert added <= {"NOTIFY_SOCKET", MARKER_VARIABLE}, added
    assert exported["NUMBER"] == "2" and exported["ODD"] == '100% "q" $HOME $ \\ x'
