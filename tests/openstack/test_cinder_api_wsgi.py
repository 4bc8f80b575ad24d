"""cinder-api under gunicorn, as the example runs it: answering, SIGKILLed and back.

Only the broker, the schema and the API are started: the API needs neither the scheduler nor
a backend to answer `GET /` and list volumes.
"""

from __future__ import annotations

import http.client
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.cinderstack import CinderStack, copy_example, drop_services, require_openstack
from tests.support.cinderstack import stop as stop_stack

pytestmark = pytest.mark.openstack

READY_TIMEOUT = 300
WORKERS = 2  # --workers in the example's command


@pytest.fixture
def api_stack(tmp_path: Path) -> Iterator[CinderStack]:
    require_openstack()
    cinder = copy_example(tmp_path / "stack")
    drop_services(cinder, "cinder-scheduler", "cinder-volume", "cinder-backup")
    stack = cinder.start()
    try:
        cinder.wait_until(
            lambda: cinder.status().get("cinder-api", {}).get("state") == "running",
            READY_TIMEOUT,
            "cinder-api running (its readiness probe passed)",
        )
        yield cinder
    finally:
        stop_stack(stack)


def answer(cinder: CinderStack, path: str) -> int | None:
    """The HTTP status of a GET, None while nothing accepts the connection."""
    connection = http.client.HTTPConnection("127.0.0.1", cinder.ports["api"], timeout=10)
    try:
        connection.request("GET", path, headers={"X-Auth-Token": "admin:admin"})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def workers_of(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children()


def test_cinder_api_under_gunicorn_answers_and_comes_back_after_sigkill(api_stack: CinderStack):
    cinder = api_stack
    before = cinder.status()["cinder-api"]
    # gunicorn titles its processes (setproctitle, a dependency of oslo.service, is installed).
    assert psutil.Process(before["pid"]).cmdline()[0].startswith("gunicorn: master")
    # gunicorn's master is the supervised process; its workers each load Cinder's app.
    workers = cinder.wait_until(
        lambda: len(found := workers_of(before["pid"])) == WORKERS and found,
        60,
        f"{WORKERS} gunicorn workers",
    )
    assert all(w.cmdline()[0].startswith("gunicorn: worker") for w in workers)
    assert answer(cinder, "/") == 300  # Cinder's versions document: "multiple choices"
    assert cinder.api("GET", "/volumes") == {"volumes": []}  # through a worker to the database

    os.kill(before["pid"], signal.SIGKILL)

    def back() -> dict | None:
        process = cinder.status()["cinder-api"]
        fresh = process["pid"] not in (None, before["pid"])
        return process if fresh and process["state"] == "running" else None

    after = cinder.wait_until(back, READY_TIMEOUT, "cinder-api running again under a new pid")
    assert after["restarts"] == before["restarts"] + 1
    assert after["last_exit"]["signal"] == "SIGKILL"
    assert after["cause"] == "readiness probe passed"
    # The killed master's workers went with it (its process group was killed), none orphaned.
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert answer(cinder, "/") == 300
    assert cinder.api("GET", "/volumes") == {"volumes": []}


def test_a_sigkilled_worker_is_replaced_by_gunicorn_not_the_supervisor(api_stack: CinderStack):
    cinder = api_stack
    before = cinder.status()["cinder-api"]
    workers = cinder.wait_until(
        lambda: len(found := workers_of(before["pid"])) == WORKERS and found,
        60,
        f"{WORKERS} gunicorn workers",
    )
    os.kill(workers[0].pid, signal.SIGKILL)
    cinder.wait_until(
        lambda: (
            {p.pid for p in workers_of(before["pid"])} - {w.pid for w in workers}
            and len(workers_of(before["pid"])) == WORKERS
        ),
        120,
        "gunicorn's master to fork a new worker",
    )
    cinder.wait_until(lambda: answer(cinder, "/") == 300, 60, "the API answering")
    after = cinder.status()["cinder-api"]
    assert (after["pid"], after["restarts"], after["state"]) == (
        before["pid"],
        before["restarts"],
        "running",
    )
