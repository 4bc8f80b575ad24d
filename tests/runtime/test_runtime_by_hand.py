"""A binary started by hand reads services.toml, as Cinder's binaries read cinder.conf."""

from __future__ import annotations

import signal
import textwrap
from pathlib import Path

import pytest

from tests.support.datagrams import Inbox
from tests.support.serviceprocesses import Children, binary_argv


def write_services(tmp_path: Path, records: Inbox, services: str) -> Path:
    path = tmp_path / "services.toml"
    options = f"""
        [supervisor]
        state_dir = "state"

        [options]
        host = "node1"
        periodic_interval = 0
        record_socket = "{records.address}"
        volume_manager = "fixtures_managers.recording.RecordingManager"
        backup_manager = "fixtures_managers.recording.RecordingManager"
    """
    path.write_text(textwrap.dedent(options) + textwrap.dedent(services))
    return path


TWO_BACKENDS = """
    [services.cinder-volume]
    backends = ["lvm-1", "lvm-2"]
"""


def test_the_backend_picked_runs_in_the_foreground(
    tmp_path: Path, children: Children, records: Inbox, notify: Inbox
):
    path = write_services(tmp_path, records, TWO_BACKENDS)
    argv = [*binary_argv("cinder-volume"), "--config-file", str(path), "--backend", "lvm-2"]
    child = children.start(argv, notify=notify)
    notify.expect("READY=1")
    assert child.title() == "cinder-volume node1@lvm-2"
    assert records.pending()[0] == "constructed host=node1@lvm-2 service_name=lvm-2"
    assert child.stop() == 0


def test_the_only_worker_runs_from_services_toml_in_the_working_directory(
    tmp_path: Path, children: Children, records: Inbox
):
    write_services(tmp_path, records, "[services.cinder-backup]\n")
    child = children.start(binary_argv("cinder-backup"), cwd=tmp_path)
    assert records.expect("init_host_with_rpc")[0] == "constructed host=node1 service_name=backup"
    assert child.stop() == 0


def test_several_backends_and_none_picked_are_handed_to_the_supervisor(
    tmp_path: Path, children: Children, records: Inbox
):
    path = write_services(tmp_path, records, TWO_BACKENDS)
    child = children.start([*binary_argv("cinder-volume"), "--config-file", str(path)])
    records.expect("init_host_with_rpc")
    records.expect("init_host_with_rpc")
    assert {message for message in records.seen if message.startswith("constructed")} == {
        "constructed host=node1@lvm-1 service_name=lvm-1",
        "constructed host=node1@lvm-2 service_name=lvm-2",
    }
    child.send(signal.SIGTERM)
    assert child.wait() == 0
    assert sorted(records.pending()) == ["cleanup_host", "cleanup_host"]


@pytest.mark.parametrize(
    ("services", "extra_args", "message"),
    [
        (TWO_BACKENDS, ["--backend", "lvm-9"], "no --backend lvm-9 in {path}; known: lvm-1, lvm-2"),
        (
            "[services.cinder-backup]\n",
            [],
            "{path} defines no manager service [services.cinder-volume]",
        ),
    ],
)
def test_a_process_that_is_not_in_the_file_is_a_usage_error(
    tmp_path: Path,
    children: Children,
    records: Inbox,
    services: str,
    extra_args: list[str],
    message: str,
):
    path = write_services(tmp_path, records, services)
    argv = [*binary_argv("cinder-volume"), "--config-file", str(path), *extra_args]
    child = children.start(argv)
    assert child.wait() == 2
    assert child.stderr() == f"cinder-volume: {message.format(path=path)}\n"


def test_an_invalid_file_prints_every_problem_and_exits_2(tmp_path: Path, children: Children):
    path = tmp_path / "services.toml"
    path.write_text('[services.cinder-volume]\nbackends = ["lvm-1"]\n')
    child = children.start([*binary_argv("cinder-volume"), "--config-file", str(path)])
    assert child.wait() == 2
    assert child.stderr().startswith(f"{path}:")
    assert "volume_manager" in child.stderr()
