"""examples/multinode on four network namespaces: one supervisor per host, a host lost.

One deployment for the module (bring-up is most of its time): the controller (PostgreSQL,
RabbitMQ, the schema, cinder-api, cinder-scheduler), storage1 and storage2 (a backend each and
a share of the active/active cluster multinode@shared), backup1 (cinder-backup).  Losing
storage1 is every process in its namespace SIGKILLed, its supervisor first, as a power cut.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from supervisor.testing.multinode import (
    BACKUP1,
    CONTROLLER,
    HOSTS,
    STORAGE1,
    STORAGE2,
    Deployment,
    netns_hosts,
    unavailable,
    wait_until,
)
from tests.support.cinderstack import require_openstack

pytestmark = [pytest.mark.openstack, pytest.mark.multinode]

READY_TIMEOUT = 400
DATABASE = "postgresql+psycopg://postgres@10.77.0.1:5432/cinder"
SERVICE_DOWN_TIME = 10  # examples/multinode/cinder.conf


def _require_tools() -> None:
    reason = unavailable()
    if reason is not None:
        pytest.skip(f"cannot make network namespaces: {reason}")
    require_openstack()
    missing = None
    if shutil.which("pg_ctl", path=":".join(glob.glob("/usr/lib/postgresql/*/bin"))) is None:
        missing = "PostgreSQL is not installed: apt-get install postgresql"
    elif importlib.util.find_spec("psycopg2") is None:
        missing = "tooz's PostgreSQL driver needs psycopg2: pip install -e '.[openstack]'"
    if missing is None:
        return
    if os.environ.get("SUPERVISOR_REQUIRE_OPENSTACK"):
        pytest.fail(f"SUPERVISOR_REQUIRE_OPENSTACK is set but {missing}")
    pytest.skip(missing)


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    _require_tools()
    # Reachable by every user: as root, PostgreSQL runs as `postgres`.
    directory = Path(tempfile.mkdtemp(prefix="cinder-multinode-", dir="/tmp"))
    directory.chmod(0o755)
    netns_hosts("up")
    found = Deployment(directory)
    try:
        found.bring_up(READY_TIMEOUT)
        yield found
    finally:
        try:
            found.stop()
        finally:
            netns_hosts("down")
            shutil.rmtree(directory, ignore_errors=True)
    _assert_nothing_left(directory)


def _assert_nothing_left(directory: Path) -> None:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not [host for host in HOSTS if host in listed.split()], listed
    assert subprocess.run(["ip", "link", "show", "cssbr0"], capture_output=True).returncode != 0
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(directory).encode() in command:
                left.append((entry.name, command.replace(b"\0", b" ")))
    assert not left, left


def _backend_of(deployment: Deployment, volume_id: str) -> tuple[str, str | None]:
    """The volume's host and cluster, from Cinder's database (the API shows the cluster only
    at a later microversion)."""
    engine = sqlalchemy.create_engine(DATABASE)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sqlalchemy.text("SELECT host, cluster_name FROM volumes WHERE id = :id"),
                {"id": volume_id},
            ).one()
    finally:
        engine.dispose()
    # Both end in the pool, "#shared".
    return row.host, row.cluster_name and row.cluster_name.partition("#")[0]


def test_each_host_runs_its_part_and_one_view_shows_them_all(deployment: Deployment):
    hosts = {entry["host"]: entry for entry in deployment.all_hosts()}
    assert list(hosts) == list(HOSTS)
    assert all(entry["source"] == "socket" for entry in hosts.values()), hosts
    names = {host: [process["name"] for process in hosts[host]["processes"]] for host in hosts}
    assert names[STORAGE1] == ["cinder-volume@local-1", "cinder-volume@shared"]
    assert names[STORAGE2] == ["cinder-volume@local-2", "cinder-volume@shared"]
    assert names[BACKUP1] == ["cinder-backup"]
    assert "cinder-api" in names[CONTROLLER] and "postgresql" in names[CONTROLLER]
    for host in HOSTS:
        assert (deployment.state_dir(host) / "control.sock").exists()

    rows = wait_until(
        lambda: (found := deployment.rows()) and all(r["state"] == "up" for r in found) and found,
        60,
        "every row of Cinder's services table up",
    )
    registered = {(row["binary"], row["host"], row["cluster"]) for row in rows}
    assert registered == {
        ("cinder-scheduler", "controller", None),
        ("cinder-volume", "storage1@local-1", "multinode@local-1"),
        ("cinder-volume", "storage1@shared", "multinode@shared"),
        ("cinder-volume", "storage2@local-2", "multinode@local-2"),
        ("cinder-volume", "storage2@shared", "multinode@shared"),
        ("cinder-backup", "backup1", None),
    }


def test_losing_a_host(deployment: Deployment):
    deployment.api(
        "POST",
        "/types",
        {"volume_type": {"name": "shared", "extra_specs": {"volume_backend_name": "shared"}}},
    )
    before = deployment.create_volume("before-the-loss", "shared")
    assert deployment.settled(before, 120)["status"] == "available"
    host, cluster = _backend_of(deployment, before)
    assert cluster == "multinode@shared", (host, cluster)

    deployment.lose(STORAGE1)
    wait_until(
        lambda: deployment.rows_down(STORAGE1),
        SERVICE_DOWN_TIME + 60,
        "storage1's rows down in Cinder's services table",
    )
    assert deployment.rows_up({STORAGE2, BACKUP1, CONTROLLER})
    view = {entry["host"]: entry for entry in deployment.all_hosts()}
    assert view[STORAGE1]["source"] == "cinder-db"
    lost = view[STORAGE1]["processes"]
    assert {process["name"] for process in lost} == {
        "cinder-volume@local-1",
        "cinder-volume@shared",
    }
    assert all(p["state"] == "down" and p["source"] == "cinder-db" for p in lost), lost
    assert view[STORAGE2]["source"] == "socket"

    # New volumes go to what is left: storage2's backend, or the cluster it still serves.
    for number in range(3):
        created = deployment.create_volume(f"after-the-loss-{number}")
        assert deployment.settled(created, 120)["status"] == "available"
        host, cluster = _backend_of(deployment, created)
        assert host.startswith(f"{STORAGE2}@") or cluster == "multinode@shared", (host, cluster)

    # The cluster's volume from before the loss is still served, by storage2 alone.
    deployment.api("POST", f"/volumes/{before}/action", {"os-extend": {"new_size": 2}})
    extended = wait_until(
        lambda: (found := deployment.volume(before)) and found["size"] == 2 and found,
        120,
        "the clustered volume extended to 2 GiB",
    )
    assert deployment.settled(before, 120)["status"] == "available", extended
    deployment.api("DELETE", f"/volumes/{before}")
    wait_until(lambda: deployment.volume(before) is None, 120, "the clustered volume deleted")

    # Power back: the host's supervisor alone brings its rows up again.
    deployment.start(STORAGE1)
    deployment.wait_ready(STORAGE1, 300)
    wait_until(
        lambda: deployment.rows_up({STORAGE1}), 60, "storage1's rows up in Cinder's services table"
    )
    view = {entry["host"]: entry for entry in deployment.all_hosts()}
    assert all(entry["source"] == "socket" for entry in view.values()), view
