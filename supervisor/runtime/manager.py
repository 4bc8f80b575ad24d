"""The base class every service's manager derives from: Cinder's `Manager`, without RPC."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from supervisor.runtime.clock import SYSTEM_CLOCK, Clock
from supervisor.runtime.periodic import PeriodicTasks

DEFAULT_AVAILABILITY_ZONE = "nova"


class Manager(PeriodicTasks):
    """Hooks the service calls, in order: `init_host`, `init_host_with_rpc`, the periodic tasks
    (methods marked with `periodic_task`), `reset` on SIGHUP, `cleanup_host` on stop.

    `options` are the stack's options (the `[options]` table); `state_dir` is where a service
    keeps files that outlive one process.
    """

    RPC_API_VERSION = "1.0"

    def __init__(
        self,
        host: str,
        cluster: str | None = None,
        service_name: str | None = None,
        *,
        options: Mapping[str, Any] | None = None,
        state_dir: str | Path = ".supervisor",
        clock: Clock = SYSTEM_CLOCK,
        **kwargs: Any,
    ) -> None:
        # `kwargs` holds what other binaries pass their managers (backup's `process_number`);
        # accepting and ignoring it, as Cinder does, lets any manager run under any binary.
        super().__init__(clock)
        self.clock = clock
        self.host = host
        self.cluster = cluster
        self.service_name = service_name
        self.options: Mapping[str, Any] = MappingProxyType(dict(options or {}))
        self.state_dir = Path(state_dir)
        self.availability_zone: str = self.options.get(
            "storage_availability_zone", DEFAULT_AVAILABILITY_ZONE
        )
        self.additional_endpoints: list[object] = []

    def init_host(
        self, service_id: int | None = None, added_to_cluster: bool | None = None
    ) -> None:
        """Prepare the host before the service is reachable (Cinder: before its RPC servers)."""

    def init_host_with_rpc(self) -> None:
        """Finish start-up once the service is reachable; READY=1 follows."""

    def is_working(self) -> bool:
        """False makes the service skip its heartbeats, so it shows as down."""
        return True

    def reset(self) -> None:
        """Drop cached state on SIGHUP while the process keeps running."""

    def cleanup_host(self) -> None:
        """Release what `init_host` took, after the periodic tasks have stopped."""
