"""The databases the services-table tests run against.

SQLite always; PostgreSQL when SUPERVISOR_TEST_POSTGRES_URL names a reachable server
(scripts/ci-postgres starts a throwaway one).  Each test gets the table afresh, so only one test
session at a time may use a given PostgreSQL database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from supervisor.db.schema import services

POSTGRES_URL_VARIABLE = "SUPERVISOR_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


def empty_database_url(backend: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database of this backend; skips the test if there is none."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'cinder.sqlite'}"
        return
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"no PostgreSQL: {POSTGRES_URL_VARIABLE} is not set (see scripts/ci-postgres)")
    engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        services.drop(engine, checkfirst=True)
    except sqlalchemy.exc.OperationalError as error:
        engine.dispose()
        pytest.skip(f"no PostgreSQL: {POSTGRES_URL_VARIABLE} is unreachable: {error.orig}")
    try:
        yield url
    finally:
        services.drop(engine, checkfirst=True)
        engine.dispose()


@contextlib.contextmanager
def writes_blocked(url: str) -> Iterator[None]:
    """Hold the lock every heartbeat needs, as a long transaction elsewhere would."""
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("LOCK TABLE services IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        engine.dispose()


def row_of(url: str, process: str) -> dict[str, object] | None:
    """The row of one process, read as any other program would."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                sqlalchemy.select(services).where(services.c.process == process)
            ).first()
    finally:
        engine.dispose()
    return None if found is None else dict(found._mapping)
