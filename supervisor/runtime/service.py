"""One service inside its own process: Cinder's `Service`, without a message bus or forking."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

import structlog

from supervisor.runtime.loader import import_manager_class
from supervisor.runtime.notify import Notifier
from supervisor.runtime.timer import FixedIntervalTimer
from supervisor.topic import DEFAULT_PREFIX, resolve

DEFAULT_PERIODIC_INTERVAL = 60
DEFAULT_PERIODIC_FUZZY_DELAY = 60

log = structlog.get_logger()


class Service:
    """Owns a manager and runs it: start-up hooks, readiness, periodic tasks, reset and stop.

    Constructing it imports the manager class and builds the manager, so a configuration error
    surfaces before anything starts.
    """

    def __init__(
        self,
        host: str,
        binary: str,
        topic: str,
        manager: str,
        *,
        cluster: str | None = None,
        service_name: str | None = None,
        periodic_interval: float = DEFAULT_PERIODIC_INTERVAL,
        periodic_fuzzy_delay: float = DEFAULT_PERIODIC_FUZZY_DELAY,
        notifier: Notifier | None = None,
        **manager_kwargs: Any,
    ) -> None:
        self.host = host
        self.binary = binary
        self.topic = topic
        self.cluster = cluster
        self.periodic_interval = periodic_interval
        self.periodic_fuzzy_delay = periodic_fuzzy_delay
        manager_class = import_manager_class(manager)
        self.manager = manager_class(
            host=host, cluster=cluster, service_name=service_name, **manager_kwargs
        )
        self.availability_zone: str = self.manager.availability_zone
        # Cinder's flag for a lost database connection; every (re)start begins connected.
        self.model_disconnected = False
        self._notifier = notifier or Notifier(None)
        self._timers: list[FixedIntervalTimer] = []

    @classmethod
    def create(
        cls,
        *,
        binary: str,
        host: str,
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

        Raises `topic.MissingManagerOption` or `loader.ManagerLoadError` for configuration
        errors; anything the manager's constructor raises passes through.
        """
        options = options or {}
        resolution = resolve(binary, options, prefix=prefix, topic=topic, manager=manager)
        return cls(
            host,
            binary,
            resolution.topic,
            resolution.manager,
            cluster=cluster,
            service_name=service_name,
            periodic_interval=options.get("periodic_interval", DEFAULT_PERIODIC_INTERVAL),
            periodic_fuzzy_delay=options.get("periodic_fuzzy_delay", DEFAULT_PERIODIC_FUZZY_DELAY),
            notifier=notifier,
            options=options,
            **manager_kwargs,
        )

    def start(self) -> None:
        log.info("starting service", topic=self.topic, host=self.host)
        self.model_disconnected = False
        self._notifier.status("Initializing")
        # Without a services table there is no row yet, so neither value is known.
        self.manager.init_host(added_to_cluster=None, service_id=None)
        # Cinder starts its RPC servers at this point; this stack has no message bus, so the
        # manager goes straight on to the hook that runs once it is reachable.
        self.manager.init_host_with_rpc()
        self._notifier.ready("Serving")
        log.info("service ready", topic=self.topic, host=self.host)
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
            self._notifier.ready("Serving")

    def stop(self) -> None:
        """Stop the timers, letting a run in progress finish, then let the manager clean up."""
        log.info("stopping service", topic=self.topic, host=self.host)
        self._notifier.stopping()
        for timer in self._timers:
            timer.stop()
        for timer in self._timers:
            timer.wait()
        self.manager.cleanup_host()
        log.info("service stopped", topic=self.topic, host=self.host)

    def _start_timer(
        self, name: str, func: Callable[[], object], interval: float, *, initial_delay: float
    ) -> None:
        timer = FixedIntervalTimer(name, func, interval, initial_delay=initial_delay)
        timer.start()
        self._timers.append(timer)
