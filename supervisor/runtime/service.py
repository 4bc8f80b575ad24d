"""One service inside its own process: Cinder's `Service`, without a message bus or forking."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import structlog

from supervisor.db.services import ServiceFacts, ServiceKey
from supervisor.db.settings import (
    DEFAULT_REPORT_INTERVAL,
    Liveness,
    database_url,
    report_interval,
    utc_now,
)
from supervisor.runtime.heartbeat import SERVING, Heartbeat, register
from supervisor.runtime.loader import import_manager_class
from supervisor.runtime.sdnotify import Notifier
from supervisor.runtime.timer import FixedIntervalTimer
from supervisor.shared.topic import DEFAULT_PREFIX, resolve

DEFAULT_PERIODIC_INTERVAL = 60
DEFAULT_PERIODIC_FUZZY_DELAY = 60

log = structlog.get_logger()


class ManagerConstructionError(Exception):
    """The manager's constructor raised: Cinder skips such a backend and never retries it."""


class Service:
    """Owns a manager and runs it: start-up hooks, readiness, periodic tasks, reset and stop.

    Constructing it imports the manager class and builds the manager, so a configuration error
    surfaces before anything starts.  Starting it registers the process's row in the services
    table at `database_url`, which its heartbeats then keep fresh.
    """

    def __init__(
        self,
        host: str,
        binary: str,
        topic: str,
        manager: str,
        *,
        database_url: str,
        process: str | None = None,
        cluster: str | None = None,
        service_name: str | None = None,
        report_interval: float = DEFAULT_REPORT_INTERVAL,
        periodic_interval: float = DEFAULT_PERIODIC_INTERVAL,
        periodic_fuzzy_delay: float = DEFAULT_PERIODIC_FUZZY_DELAY,
        notifier: Notifier | None = None,
        **manager_kwargs: Any,
    ) -> None:
        self.host = host
        self.binary = binary
        self.topic = topic
        self.process = process or binary
        self.cluster = cluster
        self.report_interval = report_interval
        self.periodic_interval = periodic_interval
        self.periodic_fuzzy_delay = periodic_fuzzy_delay
        self.database_url = database_url
        manager_class = import_manager_class(manager)
        try:
            self.manager = manager_class(
                host=host, cluster=cluster, service_name=service_name, **manager_kwargs
            )
        except Exception as error:
            raise ManagerConstructionError(f"{manager}: {type(error).__name__}: {error}") from error
        self.availability_zone: str = self.manager.availability_zone
        self.service_id: int | None = None
        self._notifier = notifier or Notifier(None)
        self._timers: list[FixedIntervalTimer] = []
        self._heartbeat: Heartbeat | None = None

    @classmethod
    def create(
        cls,
        *,
        binary: str,
        host: str,
        state_dir: str | Path,
        process: str | None = None,
        options: Mapping[str, Any] | None = None,
        prefix: str = DEFAULT_PREFIX,
        topic: str | None = None,
        manager: str | None = None,
        cluster: str | None = None,
        service_name: str | None = None,
        notifier: Notifier | None = None,
        **manager_kwargs: Any,
    ) -> Service:
        """Resolve topic and manager by the topic convention, then build the service.

        Raises `topic.MissingManagerOption`, `loader.ManagerLoadError` or
        `settings.InvalidOption` for configuration errors, and `ManagerConstructionError` when
        the manager's constructor raises.
        """
        options = options or {}
        resolution = resolve(binary, options, prefix=prefix, topic=topic, manager=manager)
        liveness = Liveness.from_options(options)
        if liveness.warning:
            log.warning(liveness.warning)
        return cls(
            host,
            binary,
            resolution.topic,
            resolution.manager,
            database_url=database_url(options, state_dir),
            process=process,
            cluster=cluster,
            service_name=service_name,
            report_interval=report_interval(options),
            periodic_interval=options.get("periodic_interval", DEFAULT_PERIODIC_INTERVAL),
            periodic_fuzzy_delay=options.get("periodic_fuzzy_delay", DEFAULT_PERIODIC_FUZZY_DELAY),
            notifier=notifier,
            options=options,
            state_dir=state_dir,
            **manager_kwargs,
        )

    @property
    def model_disconnected(self) -> bool:
        """Cinder's flag: the last heartbeat could not reach the database."""
        return self._heartbeat is not None and not self._heartbeat.database_reachable

    def start(self) -> None:
        log.info("starting service", topic=self.topic, host=self.host, process=self.process)
        self._notifier.status("Initializing")
        key = ServiceKey(self.host, self.binary, self.process)
        facts = ServiceFacts(
            topic=self.topic,
            availability_zone=self.availability_zone,
            rpc_version=getattr(self.manager, "RPC_API_VERSION", None),
            cluster_name=self.cluster,
        )
        # Found by its key on every start, so a respawned process keeps its row and its id.
        registration = register(self.database_url, key, facts, utc_now())
        self.service_id = registration.service_id
        self.manager.init_host(
            added_to_cluster=registration.added_to_cluster, service_id=self.service_id
        )
        # Cinder starts its RPC servers at this point; this stack has no message bus, so the
        # manager goes straight on to the hook that runs once it is reachable.
        self.manager.init_host_with_rpc()
        self._notifier.ready(SERVING)
        log.info("service ready", topic=self.topic, host=self.host, service_id=self.service_id)
        if self.report_interval:
            self._heartbeat = Heartbeat(
                database_url=self.database_url,
                report_interval=self.report_interval,
                key=key,
                facts=facts,
                service_id=self.service_id,
                manager=self.manager,
                notifier=self._notifier,
            )
            # Its own thread: periodic tasks that block cannot hold the heartbeat back.
            self._start_timer(
                "report_state",
                self._heartbeat.report_state,
                self.report_interval,
                initial_delay=self.report_interval,
            )
        if self.periodic_interval:
            fuzzy = int(self.periodic_fuzzy_delay)
            self._start_timer(
                "periodic_tasks",
                self.periodic_tasks,
                self.periodic_interval,
                initial_delay=random.randint(0, fuzzy) if fuzzy else 0,
            )

    def periodic_tasks(self, raise_on_error: bool = False) -> None:
        self.manager.run_periodic_tasks(context=None, raise_on_error=raise_on_error)

    def reset(self) -> None:
        """SIGHUP: the manager drops its cached state; the process and its timers go on."""
        log.info("resetting service", topic=self.topic, host=self.host)
        self._notifier.reloading()
        try:
            self.manager.reset()
        finally:
            # Back to what the heartbeat last reported, which a reset does not change.
            self._notifier.ready(self._heartbeat.status if self._heartbeat else SERVING)

    def stop(self) -> None:
        """Stop the timers, letting a run in progress finish, then let the manager clean up."""
        log.info("stopping service", topic=self.topic, host=self.host)
        self._notifier.stopping()
        for timer in self._timers:
            timer.stop()
        for timer in self._timers:
            timer.wait()
        if self._heartbeat is not None:
            self._heartbeat.close()
        self.manager.cleanup_host()
        log.info("service stopped", topic=self.topic, host=self.host)

    def _start_timer(
        self, name: str, func: Callable[[], object], interval: float, *, initial_delay: float
    ) -> None:
        timer = FixedIntervalTimer(name, func, interval, initial_delay=initial_delay)
        timer.start()
        self._timers.append(timer)
