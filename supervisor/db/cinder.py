"""Cinder's own `services` table, read and edited as `cinder-manage service` does.

Under `[openstack]` the processes are real Cinder services: they register and beat in Cinder's
table (one row per host and binary, soft-deleted), not in this project's.  This reader gives
`supervisor service list|disable|enable|remove` the same rows, adding the process names the
supervisor runs for each row.  Cinder's database is only read and updated in place: no schema
is created and the file's journal mode is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url

from supervisor.db.engine import sqlite_file_missing
from supervisor.db.services import ServiceRow
from supervisor.db.settings import utc_now

# The columns of Cinder's table that the listing shows (cinder/db/sqlalchemy/models.py).
_metadata = MetaData()
cinder_services = Table(
    "services",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime),
    Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
    Column("deleted", Boolean),
    Column("host", String(255)),
    Column("binary", String(255)),
    Column("topic", String(255)),
    Column("report_count", Integer),
    Column("disabled", Boolean),
    Column("availability_zone", String(255)),
    Column("disabled_reason", String(255)),
    Column("modified_at", DateTime),
    Column("rpc_current_version", String(36)),
    Column("object_current_version", String(36)),
    Column("cluster_name", String(255)),
)

ProcessesOf = Callable[[str, str], list[str]]  # (binary, host) -> process names


class ProcessFilterUnsupported(ValueError):
    """Cinder keys its rows by host and binary: backup workers share one row."""


class CinderServicesTable:
    def __init__(self, url: str, processes_of: ProcessesOf, *, busy_timeout: float = 5.0) -> None:
        self.url = url
        self._processes_of = processes_of
        connect_args: dict[str, Any] = {}
        if make_url(url).get_backend_name() == "sqlite":
            connect_args = {"timeout": busy_timeout}
        self._engine = create_engine(url, connect_args=connect_args)

    def exists(self) -> bool:
        if sqlite_file_missing(self.url):
            return False
        return inspect(self._engine).has_table(cinder_services.name)

    def rows(self) -> list[ServiceRow]:
        table = cinder_services
        query = (
            select(table).where(table.c.deleted.is_not(True)).order_by(table.c.binary, table.c.host)
        )
        with self._engine.begin() as connection:
            return [self._row(row._asdict()) for row in connection.execute(query)]

    def set_disabled(
        self,
        binary: str,
        host: str,
        *,
        disabled: bool,
        reason: str | None,
        now: datetime,
        process: str | None = None,
    ) -> int:
        _refuse_process(process)
        change = (
            update(cinder_services)
            .where(*_matching(binary, host))
            .values(
                disabled=disabled,
                disabled_reason=reason if disabled else None,
                modified_at=now,
                updated_at=now,
            )
        )
        with self._engine.begin() as connection:
            return connection.execute(change).rowcount

    def remove(self, binary: str, host: str, *, process: str | None = None) -> int:
        """Soft-delete, as Cinder's `service remove` does; a live service recreates its row."""
        _refuse_process(process)
        now = utc_now()
        change = (
            update(cinder_services)
            .where(*_matching(binary, host))
            .values(deleted=True, deleted_at=now, updated_at=now)
        )
        with self._engine.begin() as connection:
            return connection.execute(change).rowcount

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> CinderServicesTable:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _row(self, row: dict[str, Any]) -> ServiceRow:
        processes = self._processes_of(row["binary"], row["host"])
        return ServiceRow(
            id=row["id"],
            host=row["host"],
            binary=row["binary"],
            process=" ".join(processes) or "-",
            topic=row["topic"],
            availability_zone=row["availability_zone"],
            report_count=row["report_count"] or 0,
            disabled=bool(row["disabled"]),
            disabled_reason=row["disabled_reason"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            modified_at=row["modified_at"],
            rpc_current_version=row["rpc_current_version"],
            object_current_version=row["object_current_version"],
            cluster_name=row["cluster_name"],
        )


def _matching(binary: str, host: str) -> list[Any]:
    table = cinder_services
    return [table.c.binary == binary, table.c.host == host, table.c.deleted.is_not(True)]


def _refuse_process(process: str | None) -> None:
    if process is not None:
        raise ProcessFilterUnsupported(
            "Cinder's services table has one row per host and binary; --process does not apply"
        )
