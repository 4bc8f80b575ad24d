"""Reading and writing the services table: registration, heartbeats, and the operator's edits."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, inspect, select, update
from sqlalchemy.sql.elements import ColumnElement

from supervisor.db.engine import ensure_schema, open_engine, sqlite_file_missing
from supervisor.db.schema import SERVICE_OBJECT_VERSION, services

DEFAULT_BUSY_TIMEOUT = 5.0


@dataclass(frozen=True)
class ServiceKey:
    """What finds a process's row again on every start, so a respawn keeps its row id."""

    host: str
    binary: str
    process: str


@dataclass(frozen=True)
class ServiceFacts:
    """What a process states about itself when it registers."""

    topic: str
    availability_zone: str
    rpc_version: str | None
    cluster_name: str | None = None
    object_version: str = SERVICE_OBJECT_VERSION


@dataclass(frozen=True)
class Registration:
    service_id: int
    added_to_cluster: bool  # the row had no cluster and now has one (Cinder's init_host argument)


@dataclass(frozen=True)
class ServiceRow:
    id: int
    host: str
    binary: str
    process: str
    topic: str | None
    availability_zone: str | None
    report_count: int
    disabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime | None
    modified_at: datetime | None
    rpc_current_version: str | None
    object_current_version: str | None
    cluster_name: str | None


_ROW_COLUMNS = [services.c[field.name] for field in fields(ServiceRow)]


class ServicesTable:
    """The table behind one database URL.

    Every write is one statement that is right on its own, whatever ran between it and the
    statement before: on SQLite each commits by itself (see `engine`).
    """

    def __init__(self, url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.url = url
        self._engine = open_engine(url, busy_timeout=busy_timeout)

    def ensure_schema(self) -> None:
        ensure_schema(self._engine)

    def exists(self) -> bool:
        """Whether the table is there to read, checked without creating anything."""
        if sqlite_file_missing(self.url):
            return False
        return inspect(self._engine).has_table(services.name)

    def register(self, key: ServiceKey, facts: ServiceFacts, now: datetime) -> Registration:
        """Find the process's row by its key, or create it (report_count 0); stamp it now."""
        with self._engine.begin() as connection:
            return _get_or_create(connection, key, facts, now)

    def heartbeat(
        self, service_id: int, key: ServiceKey, facts: ServiceFacts, now: datetime
    ) -> int:
        """Count one heartbeat; return the row id, a new one if an operator removed the row."""
        with self._engine.begin() as connection:
            if _count_heartbeat(connection, service_id, key, facts, now):
                return service_id
            # Removed (`service remove`) while the process lives: a live service reappears.
            service_id = _get_or_create(connection, key, facts, now).service_id
            _count_heartbeat(connection, service_id, key, facts, now)
            return service_id

    def rows(self) -> list[ServiceRow]:
        query = select(*_ROW_COLUMNS).order_by(
            services.c.binary, services.c.host, services.c.process
        )
        with self._engine.begin() as connection:
            return [ServiceRow(**row._asdict()) for row in connection.execute(query)]

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
        """Disable or enable every matching row; return how many matched."""
        change = (
            update(services)
            .where(*_matching(binary, host, process))
            .values(
                disabled=disabled, disabled_reason=reason if disabled else None, modified_at=now
            )
        )
        with self._engine.begin() as connection:
            return connection.execute(change).rowcount

    def remove(self, binary: str, host: str, *, process: str | None = None) -> int:
        """Delete every matching row; return how many there were."""
        with self._engine.begin() as connection:
            return connection.execute(
                delete(services).where(*_matching(binary, host, process))
            ).rowcount

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> ServicesTable:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _get_or_create(
    connection: Connection, key: ServiceKey, facts: ServiceFacts, now: datetime
) -> Registration:
    found = connection.execute(
        select(services.c.id, services.c.cluster_name).where(
            *_matching(key.binary, key.host, key.process)
        )
    ).first()
    return _refresh(connection, found, facts, now) or _create(connection, key, facts, now)


def _refresh(
    connection: Connection, found: Row[Any] | None, facts: ServiceFacts, now: datetime
) -> Registration | None:
    """Restate the facts on the row found; None if there was none, or it was removed since."""
    if found is None:
        return None
    stated = _stated(facts, now)
    added_to_cluster = bool(facts.cluster_name) and not found.cluster_name
    if added_to_cluster:
        stated["cluster_name"] = facts.cluster_name
    refreshed = connection.execute(
        update(services).where(services.c.id == found.id).values(**stated)
    )
    return Registration(found.id, added_to_cluster) if refreshed.rowcount == 1 else None


def _create(
    connection: Connection, key: ServiceKey, facts: ServiceFacts, now: datetime
) -> Registration:
    created = connection.execute(
        insert(services).values(
            host=key.host,
            binary=key.binary,
            process=key.process,
            report_count=0,
            disabled=False,
            created_at=now,
            cluster_name=facts.cluster_name,
            **_stated(facts, now),
        )
    )
    return Registration(created.inserted_primary_key[0], bool(facts.cluster_name))


def _stated(facts: ServiceFacts, now: datetime) -> dict[str, Any]:
    """The columns every registration writes; a new row is already a heartbeat."""
    return {
        "topic": facts.topic,
        "availability_zone": facts.availability_zone,
        "rpc_current_version": facts.rpc_version,
        "object_current_version": facts.object_version,
        "updated_at": now,
    }


def _count_heartbeat(
    connection: Connection, service_id: int, key: ServiceKey, facts: ServiceFacts, now: datetime
) -> bool:
    counted = connection.execute(
        update(services)
        # The key as well as the id: a row recreated under the same id must still be ours.
        .where(services.c.id == service_id, *_matching(key.binary, key.host, key.process))
        .values(
            report_count=services.c.report_count + 1,
            updated_at=now,
            availability_zone=facts.availability_zone,
        )
    )
    return counted.rowcount == 1


def _matching(binary: str, host: str, process: str | None) -> list[ColumnElement[bool]]:
    conditions = [services.c.binary == binary, services.c.host == host]
    if process is not None:
        conditions.append(services.c.process == process)
    return conditions
