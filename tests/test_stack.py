"""The Cinder-like stack under the supervisor: managers found through the topic convention."""

from __future__ import annotations

import os
import signal

import psutil

from supervisor.testing.harness import RunStack, WriteConfig
from tests.support.configtext import OPTIONS as STACK_OPTIONS
from tests.support.datagrams import Inbox
from tests.support.serviceprocesses import FIXTURE_MANAGERS_PATH

OPTIONS = STACK_OPTIONS + "periodic_interval = 0\n"
# Lets a service import the test managers, as a user's own module on PYTHONPATH.
TEST_MANAGERS_ENV = f'env = {{ PYTHONPATH = "{FIXTURE_MANAGERS_PATH}" }}'


def test_one_process_per_backend_and_per_backup_worker(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        OPTIONS
        + """
        [services.cinder-scheduler]
        [services.cinder-volume]
        backends = ["lvm-1", "lvm-2"]
        [services.cinder-backup]
        workers = 2
        """
    )
    stack = run_stack(config)
    titles = {}
    for unit in ("cinder-scheduler", "cinder-volume@lvm-1", "cinder-volume@lvm-2"):
        titles[unit] = stack.wait_event(event="state", unit=unit, to="running")
    for unit in ("cinder-backup#1", "cinder-backup#2"):
        titles[unit] = stack.wait_event(event="state", unit=unit, to="running")
    assert {event["cause"] for event in titles.values()} == {"READY=1"}
    pids = {unit: event["pid"] for unit, event in titles.items()}
    assert len(set(pids.values())) == 5
    for pid in pids.values():
        assert os.getpgid(pid) == pid, "each service process leads its own process group"
    assert {
        unit: " ".join(psutil.Process(pid).cmdline()).strip() for unit, pid in pids.items()
    } == {
        "cinder-scheduler": "cinder-scheduler node1",
        "cinder-volume@lvm-1": "cinder-volume node1@lvm-1",
        "cinder-volume@lvm-2": "cinder-volume node1@lvm-2",
        "cinder-backup#1": "cinder-backup#1 node1",
        "cinder-backup#2": "cinder-backup#2 node1",
    }
    assert stack.stop() == 0


def test_an_unimportable_manager_is_fatal_without_a_single_retry(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        OPTIONS
        + """
        [services.cinder-volume]
        backends = ["lvm-1"]
        manager = "no.such.module.VolumeManager"
        restart = { policy = "always", backoff = { initial = 0.0 } }
        """
    )
    stack = run_stack(config)
    assert stack.wait_exit() == 78
    assert [e["to"] for e in stack.select(event="state", unit="cinder-volume@lvm-1")] == [
        "starting",
        "fatal",
    ]
    fatal = stack.wait_event(event="state", to="fatal")
    assert fatal["cause"] == "exit status 78: a restart cannot heal this"
    assert "cannot import manager class 'no.such.module.VolumeManager'" in stack.console()


def test_a_manager_whose_init_host_fails_is_restarted_by_its_policy(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        OPTIONS
        + f"""
        [services.cinder-volume]
        backends = ["lvm-1"]
        manager = "fixtures_managers.recording.FailingInitManager"
        {TEST_MANAGERS_ENV}
        restart = {{ backoff = {{ initial = 0.0 }}, start_limit = {{ burst = 2 }} }}
        """
    )
    stack = run_stack(config)
    assert stack.wait_exit() == 1
    states = [e["to"] for e in stack.select(event="state", unit="cinder-volume@lvm-1")]
    assert states == ["starting", "backoff"] * 2 + ["starting", "fatal"]


def test_sighup_reaches_every_manager_as_reset(
    write_config: WriteConfig, run_stack: RunStack, inbox: Inbox
):
    config = write_config(
        OPTIONS
        + f"""
        record_socket = "{inbox.address}"
        [services.cinder-scheduler]
        manager = "fixtures_managers.recording.RecordingManager"
        {TEST_MANAGERS_ENV}
        [services.plain]
        command = ["sleep", "1000"]
        start_seconds = 0
        """
    )
    stack = run_stack(config)
    running = stack.wait_event(event="state", unit="cinder-scheduler", to="running")
    stack.wait_event(event="state", unit="plain", to="running")
    stack.signal(signal.SIGHUP)
    inbox.expect("reset")
    assert stack.wait_event(event="signal", signal="SIGHUP")
    still = stack.select(event="state", unit="cinder-scheduler")
    assert still[-1]["to"] == "running" and still[-1]["pid"] == running["pid"]
    assert stack.stop() == 0


def test_a_backend_that_cannot_be_built_is_skipped_and_the_others_run(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        OPTIONS
        + f"""
        broken_backends = ["lvm-2"]
        [services.cinder-volume]
        backends = ["lvm-1", "lvm-2"]
        manager = "fixtures_managers.backends.PickyVolumeManager"
        {TEST_MANAGERS_ENV}
        """
    )
    stack = run_stack(config)
    stack.wait_event(event="state", unit="cinder-volume@lvm-1", to="running")
    fatal = stack.wait_event(event="state", unit="cinder-volume@lvm-2", to="fatal")
    assert fatal["cause"] == "exit status 78: a restart cannot heal this"
    assert len(stack.select(event="state", unit="cinder-volume@lvm-2", to="starting")) == 1
    assert not stack.select(event="service", action="failed")
    assert stack.stop() == 78


def test_when_no_backend_starts_the_service_fails_with_cinders_message(
    write_config: WriteConfig, run_stack: RunStack
):
    config = write_config(
        OPTIONS
        + f"""
        broken_backends = ["lvm-1", "lvm-2"]
        [services.cinder-volume]
        backends = ["lvm-1", "lvm-2"]
        manager = "fixtures_managers.backends.PickyVolumeManager"
        {TEST_MANAGERS_ENV}
        """
    )
    stack = run_stack(config)
    assert stack.wait_exit() == 78
    failed = stack.wait_event(event="service", action="failed", service="cinder-volume")
    assert failed["cause"] == "No volume service(s) started successfully, terminating."
