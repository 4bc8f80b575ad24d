"""Cinder's database on PostgreSQL: `db sync`, the services' rows, a volume create, and a
backup of a file-backend volume restored into a new one with the same checksum.

The server is the one scripts/ci-postgres starts (SUPERVISOR_TEST_POSTGRES_URL); Cinder gets a
database of its own on it, created for the test and dropped after it, so that the
services-table tests' `services` table (the same name as Cinder's) is never touched.  And
the example's throwaway server (examples/openstack/postgresql.toml) as a service of the stack.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
import tomlkit

from supervisor.testing.openstack import free_port
from tests.support.cinderstack import copy_example, drop_services, require_openstack, stop
from tests.support.databases import POSTGRES_URL_VARIABLE
from tests.support.volumeflow import backup_and_restore, file_backend

pytestmark = pytest.mark.openstack

READY_TIMEOUT = 600


@pytest.fixture
def cinder_database_url() -> Iterator[str]:
    """A fresh, empty database for Cinder on the tests' PostgreSQL server."""
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        if os.environ.get("SUPERVISOR_REQUIRE_OPENSTACK"):
            pytest.fail(f"SUPERVISOR_REQUIRE_OPENSTACK is set but {POSTGRES_URL_VARIABLE} is not")
        pytest.skip(f"no PostgreSQL: {POSTGRES_URL_VARIABLE} is not set (see scripts/ci-postgres)")
    name = f"cinder_{uuid.uuid4().hex[:12]}"
    server = sqlalchemy.engine.make_url(server_url)
    engine = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def test_db_sync_services_a_volume_and_a_backup_on_postgresql(
    tmp_path: Path, cinder_database_url: str
):
    require_openstack()
    cinder = copy_example(tmp_path / "stack")
    conf = cinder.directory / "cinder.conf"
    text = conf.read_text()
    sqlite = "connection = sqlite:///$state_path/cinder.sqlite?timeout=30"
    assert sqlite in text
    conf.write_text(text.replace(sqlite, f"connection = {cinder_database_url}"))

    stack = cinder.start()
    try:
        wait = ("wait", "--ready", "--timeout", str(READY_TIMEOUT))
        result = cinder.cli(*wait, timeout=READY_TIMEOUT + 30)
        assert result.returncode == 0, f"{result.stderr}\n{stack.events.timeline()}"
        assert cinder.status()["db-sync"]["last_exit"]["code"] == 0

        volume = cinder.api("POST", "/volumes", {"volume": {"size": 1, "name": "on-postgres"}})
        volume_id = volume["volume"]["id"]

        def settled() -> dict | None:
            found = cinder.api("GET", f"/volumes/{volume_id}")["volume"]
            return None if found["status"] == "creating" else found

        found = cinder.wait_until(settled, 120, "the volume to leave 'creating'")
        assert found["status"] == "available", found
        backup_id, restored_id = backup_and_restore(cinder, file_backend(cinder))

        # Cinder wrote them, and its services' rows, to PostgreSQL, and nothing to SQLite.
        engine = sqlalchemy.create_engine(cinder_database_url)
        try:
            with engine.connect() as connection:
                status = connection.execute(
                    sqlalchemy.text("SELECT status FROM volumes WHERE id = :id"), {"id": volume_id}
                ).scalar_one()
                backup = connection.execute(
                    sqlalchemy.text("SELECT status, restore_volume_id FROM backups WHERE id = :id"),
                    {"id": backup_id},
                ).one()
                binaries = set(
                    connection.execute(
                        sqlalchemy.text('SELECT DISTINCT "binary" FROM services')
                    ).scalars()
                )
        finally:
            engine.dispose()
        assert status == "available"
        assert tuple(backup) == ("available", restored_id)
        assert binaries == {"cinder-scheduler", "cinder-volume", "cinder-backup"}
        assert not (cinder.state_dir / "cinder" / "cinder.sqlite").exists()
    finally:
        stop(stack)


@pytest.fixture
def open_directory() -> Iterator[Path]:
    """A directory every user can reach: as root, the throwaway server runs as `postgres`,
    who could not enter pytest's own (mode 0700) temporary directory."""
    directory = Path(tempfile.mkdtemp(prefix="cinder-postgresql-", dir="/tmp"))
    directory.chmod(0o755)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_the_throwaway_postgresql_example_serves_cinder(open_directory: Path):
    require_openstack()
    if shutil.which("pg_ctl", path=":".join(glob.glob("/usr/lib/postgresql/*/bin"))) is None:
        if os.environ.get("SUPERVISOR_REQUIRE_OPENSTACK"):
            pytest.fail("SUPERVISOR_REQUIRE_OPENSTACK is set but PostgreSQL is not installed")
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql")
    cinder = copy_example(open_directory / "stack")
    drop_services(cinder, "cinder-backup", "cinder-api")
    port = str(free_port())
    fragment = (cinder.directory / "postgresql.toml").read_text().replace("5433", port)
    document = tomlkit.parse(cinder.config.read_text() + "\n" + fragment)
    for name in ("db-sync", "cinder-scheduler", "cinder-volume"):
        service = document["services"][name]  # type: ignore[index]
        service["depends_on"] = [*service.get("depends_on", []), "postgresql"]
    cinder.config.write_text(tomlkit.dumps(document))
    conf = cinder.directory / "cinder.conf"
    conf.write_text(
        conf.read_text().replace(
            "connection = sqlite:///$state_path/cinder.sqlite?timeout=30",
            f"connection = postgresql+psycopg://postgres@127.0.0.1:{port}/cinder",
        )
    )
    stack = cinder.start()
    try:
        wait = ("wait", "--ready", "--timeout", str(READY_TIMEOUT))
        result = cinder.cli(*wait, timeout=READY_TIMEOUT + 30)
        assert result.returncode == 0, f"{result.stderr}\n{stack.events.timeline()}"
        assert (cinder.state_dir / "postgresql" / "data" / "PG_VERSION").exists()
        rows = cinder.wait_until(
            lambda: (
                len(found := cinder.service_rows()) == 4
                and all(row["state"] == "up" for row in found)
                and found
            ),
            120,
            "the scheduler's and both backends' rows up, in the throwaway server",
        )
        assert {row["binary"] for row in rows} == {"cinder-scheduler", "cinder-volume"}
    finally:
        assert stop(stack) == 0
    assert not (cinder.state_dir / "postgresql" / "data" / "postmaster.pid").exists()
