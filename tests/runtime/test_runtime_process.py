"""Service processes started for real: readiness, titles, signals and exit statuses."""

from __future__ import annotations

import signal
import socket
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from supervisor.shared.exits import EXIT_CONFIG
from supervisor.shared.servicespec import ServiceSpec
from tests.support.datagrams import Inbox
from tests.support.serviceprocesses import Child, Children, binary_argv, volume_spec

RECORDING = "fixtures_managers.recording.RecordingManager"
Spawn = Callable[..., Child]


@pytest.fixture
def spawn(children: Children) -> Spawn:
    def start(binary: str, spec: ServiceSpec | None, notify: Inbox | None = None) -> Child:
        return children.start(binary_argv(binary), spec=spec, notify=notify)

    return start


def recording_spec(tmp_path: Path, records: Inbox, **options: Any) -> ServiceSpec:
    spec = volume_spec(tmp_path / "state")
    return replace(
        spec,
        options={**spec.options, "volume_manager": RECORDING, "record_socket": records.address}
        | options,
    )


@pytest.mark.parametrize(
    ("binary", "spec_fields", "title"),
    [
        ("cinder-volume", {}, "cinder-volume node1@lvm-1"),
        (
            "cinder-scheduler",
            {
                "host": "node1",
                "backend": None,
                "options": {"scheduler_manager": "supervisor.managers.scheduler.SchedulerManager"},
            },
            "cinder-scheduler node1",
        ),
        (
            "cinder-backup",
            {
                "host": "node1",
                "backend": None,
                "process": "cinder-backup#2",
                "process_number": 2,
                "options": {"backup_manager": "supervisor.managers.backup.BackupManager"},
            },
            "cinder-backup#2 node1",
        ),
    ],
)
def test_each_binary_reports_ready_under_its_title_and_stops_cleanly(
    tmp_path: Path,
    spawn: Spawn,
    notify: Inbox,
    binary: str,
    spec_fields: dict[str, Any],
    title: str,
):
    spec = replace(volume_spec(tmp_path / "state"), binary=binary, service=binary, **spec_fields)
    child = spawn(binary, spec, notify)
    before_ready = notify.expect("READY=1")
    assert before_ready[0] == "STATUS=Initializing"
    assert "STATUS=Serving" in before_ready[-1].splitlines()
    assert child.title() == title
    child.send(signal.SIGTERM)
    assert "STOPPING=1" in notify.expect("STOPPING=1")[-1]
    assert child.wait() == 0
    assert "INFO service stopped" in child.stderr()


def test_volume_manager_creates_its_backend_directory(tmp_path: Path, spawn: Spawn, notify: Inbox):
    child = spawn("cinder-volume", volume_spec(tmp_path / "state"), notify)
    notify.expect("READY=1")
    assert (tmp_path / "state" / "volumes" / "lvm-1").is_dir()
    assert child.stop() == 0


def test_only_backup_worker_one_removes_incomplete_backups(
    tmp_path: Path, spawn: Spawn, notify: Inbox
):
    leftover = tmp_path / "state" / "backups" / "vol-1.partial"
    leftover.parent.mkdir(parents=True)
    leftover.touch()
    base = replace(
        volume_spec(tmp_path / "state"),
        binary="cinder-backup",
        service="cinder-backup",
        host="node1",
        backend=None,
        options={"backup_manager": "supervisor.managers.backup.BackupManager"},
    )
    second = spawn("cinder-backup", replace(base, process_number=2), notify)
    notify.expect("READY=1")
    assert leftover.exists()
    assert second.stop() == 0

    first = spawn("cinder-backup", replace(base, process_number=1), notify)
    notify.expect("READY=1")
    assert not leftover.exists()
    assert first.stop() == 0


def test_start_hooks_run_in_cinder_order_before_ready(
    tmp_path: Path, spawn: Spawn, notify: Inbox, records: Inbox
):
    child = spawn("cinder-volume", recording_spec(tmp_path, records), notify)
    notify.expect("READY=1")
    assert records.pending() == [
        "constructed host=node1@lvm-1 service_name=lvm-1",
        # The supervisor's socket is this process's alone, not its manager's subprocesses'.
        "init_host notify_socket=-",
        "init_host_with_rpc",
    ]
    assert child.stop() == 0
    assert records.pending() == ["cleanup_host"]


def test_sighup_resets_the_manager_and_the_process_serves_on(
    tmp_path: Path, spawn: Spawn, notify: Inbox, records: Inbox
):
    child = spawn("cinder-volume", recording_spec(tmp_path, records), notify)
    notify.expect("READY=1")
    records.pending()

    child.send(signal.SIGHUP)
    reload = notify.expect("READY=1")
    assert reload[0].splitlines()[0] == "RELOADING=1"
    assert records.pending() == ["reset"]
    assert child.process.poll() is None

    child.send(signal.SIGHUP)
    notify.expect("READY=1")
    assert records.pending() == ["reset"]
    assert child.stop() == 0


def test_sigint_stops_as_gracefully_as_sigterm(
    tmp_path: Path, spawn: Spawn, notify: Inbox, records: Inbox
):
    child = spawn("cinder-volume", recording_spec(tmp_path, records), notify)
    notify.expect("READY=1")
    child.send(signal.SIGINT)
    assert child.wait() == 0
    assert "cleanup_host" in records.pending()


def test_a_stop_requested_during_start_is_honoured_once_start_returns(
    tmp_path: Path, spawn: Spawn, notify: Inbox, records: Inbox
):
    gate = f"@runtime-test/{uuid.uuid4().hex}"
    child = spawn("cinder-volume", recording_spec(tmp_path, records, init_host_gate=gate), notify)
    records.expect("init_host waiting")
    child.send(signal.SIGTERM)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as opener:
        opener.sendto(b"go", "\0" + gate[1:])
    assert child.wait() == 0
    notify.expect("STOPPING=1")
    assert "READY=1" in [line for message in notify.seen for line in message.splitlines()]


def test_periodic_tasks_run_on_the_service_timer(
    tmp_path: Path, spawn: Spawn, notify: Inbox, records: Inbox
):
    spec = recording_spec(tmp_path, records, periodic_interval=0.05, periodic_fuzzy_delay=0)
    child = spawn("cinder-volume", spec, notify)
    for _ in range(3):
        records.expect("tick")
    assert child.stop() == 0


def test_runs_by_the_same_code_without_a_notify_socket(
    tmp_path: Path, spawn: Spawn, records: Inbox
):
    child = spawn("cinder-volume", recording_spec(tmp_path, records))
    records.expect("init_host_with_rpc")
    assert child.stop() == 0


def test_a_users_binary_without_console_script_runs_its_own_manager(
    tmp_path: Path, spawn: Spawn, notify: Inbox, records: Inbox
):
    spec = ServiceSpec(
        process="cinder-foo",
        service="cinder-foo",
        binary="cinder-foo",
        host="node1",
        options={
            "foo_manager": RECORDING,
            "record_socket": records.address,
            "periodic_interval": 0,
        },
        state_dir=str(tmp_path / "state"),
    )
    child = spawn("cinder-foo", spec, notify)
    notify.expect("READY=1")
    assert child.title() == "cinder-foo node1"
    assert records.pending()[0] == "constructed host=node1 service_name=None"
    assert child.stop() == 0


@pytest.mark.parametrize(
    ("binary", "options", "message"),
    [
        (
            "cinder-volume",
            {"volume_manager": "nope.mod.Manager"},
            "cinder-volume: cannot import manager class 'nope.mod.Manager': No module named 'nope'",
        ),
        (
            "cinder-volume",
            {"volume_manager": "fixtures_managers.recording.not_a_class"},
            "cinder-volume: manager 'fixtures_managers.recording.not_a_class' is not a class "
            "(it is a function)",
        ),
        (
            "cinder-volume",
            {"volume_manager": "fixtures_managers.broken.Manager"},
            "cinder-volume: cannot import manager class 'fixtures_managers.broken.Manager': "
            "RuntimeError: module-level bug",
        ),
        (
            "cinder-backup",
            {},
            "cinder-backup: option 'backup_manager' is not set "
            "(topic 'cinder-backup' needs it to find its manager class)",
        ),
    ],
)
def test_a_manager_that_cannot_be_found_exits_78_with_one_line(
    tmp_path: Path, spawn: Spawn, notify: Inbox, binary: str, options: dict[str, str], message: str
):
    spec = replace(volume_spec(tmp_path / "state"), binary=binary, service=binary, options=options)
    child = spawn(binary, spec, notify)
    assert child.wait() == EXIT_CONFIG
    assert child.stderr() == message + "\n"
    assert notify.pending() == []


def test_init_host_raising_exits_1_with_the_traceback(tmp_path: Path, spawn: Spawn, notify: Inbox):
    spec = volume_spec(
        tmp_path / "state",
        options={"volume_manager": "fixtures_managers.recording.FailingInitManager"},
    )
    child = spawn("cinder-volume", spec, notify)
    assert child.wait() == 1
    stderr = child.stderr()
    assert "ERROR Error starting service" in stderr
    assert "Traceback" in stderr and "RuntimeError: backend unreachable" in stderr
    assert "READY=1" not in "\n".join(notify.pending())


def test_a_manager_whose_constructor_raises_exits_78_and_is_never_retried(
    tmp_path: Path, spawn: Spawn, notify: Inbox
):
    spec = volume_spec(
        tmp_path / "state",
        options={"volume_manager": "fixtures_managers.recording.FailingConstructorManager"},
    )
    child = spawn("cinder-volume", spec, notify)
    assert child.wait() == EXIT_CONFIG
    assert "ERROR cannot build the manager; not retrying" in child.stderr()
    assert "ValueError: bad driver settings" in child.stderr()
    assert "READY=1" not in "\n".join(notify.pending())
