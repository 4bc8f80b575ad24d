"""Engines for the services table: many processes writing one SQLite file must never fail.

SQLite is set up for that: WAL, so readers never block the writer; a busy timeout, so a writer
waits for the lock instead of failing; and every statement its own transaction, so the write
lock is held only while SQLite executes one statement, never while Python code runs.  That
matters when a hundred processes share two CPUs: a process preempted inside a transaction would
keep every other one waiting.  The table's operations are written to need no more (see
`services`).  Other databases lock rows, and run ordinary transactions.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from supervisor.db.schema import metadata, services


def open_engine(url: str, *, busy_timeout: float) -> Engine:
    """An engine whose writes wait at most about `busy_timeout` seconds for the database."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        _tune_sqlite(engine, busy_timeout)
        return engine
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args = {
            "connect_timeout": max(1, round(busy_timeout)),
            "options": f"-c lock_timeout={round(busy_timeout * 1000)}",
        }
    # A server that went away leaves dead connections in the pool; pre-ping replaces them, so
    # the first heartbeat after an outage succeeds.
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def sqlite_file_missing(url: str) -> bool:
    """True for an SQLite URL whose file does not exist (connecting would create it)."""
    path = _sqlite_file(make_url(url))
    return path is not None and not path.exists()


def ensure_schema(engine: Engine) -> None:
    """Create the table (and an SQLite file's directory) if missing; safe when many processes
    start at once."""
    path = _sqlite_file(engine.url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        metadata.create_all(engine)
    except DBAPIError:
        # Another process created it between the check and the CREATE (PostgreSQL; SQLite
        # runs both in one transaction holding the write lock).
        if not inspect(engine).has_table(services.name):
            raise


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _tune_sqlite(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {round(busy_timeout * 1000)}")
        # Losing the last heartbeats to a power cut is harmless; an fsync per heartbeat is not.
        cursor.execute("PRAGMA synchronous = NORMAL")
        _use_wal(cursor, busy_timeout)
        cursor.close()


def _use_wal(cursor: Any, busy_timeout: float) -> None:
    """Switch the file to WAL, once: it is a property of the file, and the switch needs an
    exclusive lock.  Processes that connect to a new file at once each read the mode (a shared
    lock) and then ask for the switch: SQLite fails all but one at once, its busy handler
    unable to break that deadlock, so a refused switch waits and looks again (another process
    has most likely made it) until the busy timeout is spent."""
    deadline = time.monotonic() + busy_timeout
    pause = 0.01
    while cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
