"""The small parts of the child side on their own: manager loading and the notify client."""

from __future__ import annotations

import os

import pytest
from structlog.testing import capture_logs

from supervisor.managers.scheduler import SchedulerManager
from supervisor.runtime.loader import ManagerLoadError, import_manager_class
from supervisor.runtime.manager import Manager
from supervisor.runtime.sdnotify import Notifier
from tests.support.datagrams import Inbox
from tests.support.manualclock import ManualClock


def test_a_manager_class_is_imported_by_its_dotted_path():
    assert import_manager_class("supervisor.runtime.manager.Manager") is Manager


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("Manager", "manager class path 'Manager' is not of the form 'package.module.Class'"),
        (
            "supervisor.runtime.manager.Nope",
            "cannot import manager class 'supervisor.runtime.manager.Nope': "
            "module 'supervisor.runtime.manager' has no attribute 'Nope'",
        ),
        (
            "supervisor.runtime.manager.DEFAULT_AVAILABILITY_ZONE",
            "manager 'supervisor.runtime.manager.DEFAULT_AVAILABILITY_ZONE' is not a class "
            "(it is a str)",
        ),
    ],
)
def test_a_manager_that_cannot_be_loaded_is_described_in_one_line(path: str, message: str):
    with pytest.raises(ManagerLoadError) as raised:
        import_manager_class(path)
    assert str(raised.value) == message


def test_the_base_manager_is_cinder_shaped():
    manager = Manager("node1@lvm", "c1@lvm", "lvm", options={}, process_number=3)
    assert (manager.host, manager.cluster, manager.service_name) == ("node1@lvm", "c1@lvm", "lvm")
    assert manager.RPC_API_VERSION == "1.0"
    assert manager.availability_zone == "nova"
    assert manager.additional_endpoints == []
    assert manager.is_working() is True
    zoned = Manager("node1", options={"storage_availability_zone": "az2"})
    assert zoned.availability_zone == "az2"


def test_the_scheduler_keeps_the_last_capabilities_and_forgets_silent_backends(clock: ManualClock):
    scheduler = SchedulerManager("node1", options={"service_down_time": 60}, clock=clock)
    scheduler.update_service_capabilities("lvm-1", "node1@lvm-1", {"free_gb": 10})
    scheduler.update_service_capabilities("lvm-1", "node1@lvm-1", {"free_gb": 7})
    clock.time = 30
    scheduler.update_service_capabilities("lvm-2", "node1@lvm-2", {"free_gb": 5})
    assert scheduler.last_capabilities["node1@lvm-1"] == {"free_gb": 7, "service_name": "lvm-1"}
    clock.time = 61
    scheduler.run_periodic_tasks()
    assert list(scheduler.last_capabilities) == ["node1@lvm-2"]


def test_the_notifier_sends_one_datagram_per_call_to_an_abstract_socket(inbox: Inbox):
    notifier = Notifier(inbox.address)
    notifier.ready("Serving")
    notifier.stopping()
    assert inbox.pending() == ["READY=1\nSTATUS=Serving", "STOPPING=1\nSTATUS=Stopping"]
    notifier.close()


def test_the_notifier_takes_its_socket_out_of_the_environment(
    monkeypatch: pytest.MonkeyPatch, inbox: Inbox
):
    monkeypatch.setenv("NOTIFY_SOCKET", inbox.address)
    notifier = Notifier.from_environ()
    notifier.status("Initializing")
    assert inbox.pending() == ["STATUS=Initializing"]
    assert "NOTIFY_SOCKET" not in os.environ
    notifier.close()


def test_without_a_socket_or_with_a_gone_one_the_notifier_never_raises():
    Notifier(None).ready("Serving")
    gone = Inbox()
    address = gone.address
    gone.close()
    notifier = Notifier(address)
    with capture_logs() as logs:
        notifier.ready("Serving")
    assert [entry["event"] for entry in logs] == ["cannot notify the supervisor"]
    notifier.close()
