"""report_state: a service process's heartbeat, on its own timer thread.

A manager stuck for a minute inside a periodic task runs on another thread, so it cannot hold
the heartbeat back.  Each beat first asks the manager whether it works: if not, the beat is
skipped (the row ages and the service shows down, as in Cinder) and no keep-alive goes to the
supervisor.  Otherwise the row's report_count and updated_at move on, and `WATCHDOG=1` tells the
supervisor the process is alive whatever the database's state.  Problems are logged when they
begin and when they end, never on every beat, and `STATUS=` follows them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from supervisor.db.services import (
    DEFAULT_BUSY_TIMEOUT,
    Registration,
    ServiceFacts,
    ServiceKey,
    ServicesTable,
)
from supervisor.db.settings import utc_now
from supervisor.runtime.sdnotify import Notifier

SERVING = "Serving"
NOT_WORKING = "Not working: the manager reports problems; no heartbeats, so it shows as down"
DATABASE_UNREACHABLE = (
    "Serving; heartbeats cannot be recorded: the services database is unreachable"
)

log = structlog.get_logger()


def register(
    database_url: str, key: ServiceKey, facts: ServiceFacts, now: datetime
) -> Registration:
    """Get or create the process's row before it reports ready; the service needs its id."""
    with ServicesTable(database_url, busy_timeout=DEFAULT_BUSY_TIMEOUT) as table:
        table.ensure_schema()
        return table.register(key, facts, now)


class Heartbeat:
    """One process's heartbeats; `report_state` is what its timer calls every interval."""

    def __init__(
        self,
        *,
        database_url: str,
        report_interval: float,
        key: ServiceKey,
        facts: ServiceFacts,
        service_id: int,
        manager: Any,
        notifier: Notifier,
        utcnow: Callable[[], datetime] = utc_now,
    ) -> None:
        # A write that waited longer than the interval would only delay the next beat.
        busy_timeout = min(DEFAULT_BUSY_TIMEOUT, report_interval / 2)
        self._table = ServicesTable(database_url, busy_timeout=busy_timeout)
        self._key = key
        self._facts = facts
        self.service_id = service_id
        self._manager = manager
        self._notifier = notifier
        self._utcnow = utcnow
        self._working = True
        self.database_reachable = True
        self.status = SERVING  # what READY=1 said; what STATUS= said last

    def report_state(self) -> None:
        if self._manager_is_working():
            self._record()
            self._notifier.keepalive()
        self._publish_status()

    def close(self) -> None:
        self._table.close()

    def _manager_is_working(self) -> bool:
        try:
            working = bool(self._manager.is_working())
        except Exception:
            log.exception("is_working() raised; counting the manager as not working")
            working = False
        if working != self._working:
            self._working = working
            if working:
                log.info("manager is working again; heartbeats resume", **self._describe())
            else:
                log.error(
                    "manager is reporting problems; not sending heartbeats, the service will "
                    "appear down",
                    **self._describe(),
                )
        return working

    def _record(self) -> None:
        try:
            service_id = self._table.heartbeat(
                self.service_id, self._key, self._facts, self._utcnow()
            )
        except SQLAlchemyError as error:
            if self.database_reachable:
                self.database_reachable = False
                log.error(
                    "cannot record heartbeats: services database unreachable",
                    error=_one_line(error),
                    **self._describe(),
                )
            return
        if not self.database_reachable:
            self.database_reachable = True
            log.info("services database reachable again; heartbeats recorded", **self._describe())
        if service_id != self.service_id:
            log.info(
                "service row was removed; recreated it",
                previous_id=self.service_id,
                **self._describe(service_id),
            )
            self.service_id = service_id

    def _publish_status(self) -> None:
        if not self._working:
            status = NOT_WORKING
        elif not self.database_reachable:
            status = DATABASE_UNREACHABLE
        else:
            status = SERVING
        if status != self.status:
            self.status = status
            self._notifier.status(status)

    def _describe(self, service_id: int | None = None) -> dict[str, Any]:
        return {
            "binary": self._key.binary,
            "host": self._key.host,
            "process": self._key.process,
            "service_id": service_id or self.service_id,
        }


def _one_line(error: SQLAlchemyError) -> str:
    # SQLAlchemy's message adds the SQL and a documentation link; the driver's says it all.
    cause = error.orig if isinstance(error, DBAPIError) else error
    return " ".join(f"{type(cause).__name__}: {cause}".split())
