"""A bench for the unit's state machine: real `Unit` code, virtual processes, a virtual clock."""

from __future__ import annotations

from typing import Any

import pytest

from supervisor.config import ProcessPlan
from supervisor.config.services import ServiceSettings
from supervisor.daemon.unit import Unit, UnitContext
from supervisor.policy.restart import Backoff, RestartPolicy, StartLimit
from supervisor.tools.virtualhost import VirtualHost, VirtualLoop, VirtualProcess

# Round numbers: each delay is its centre, and a crash loop has room before the start limit.
STEADY_BACKOFF = Backoff(initial=1.0, max=8.0, factor=2.0, jitter=0.1, reset_after=10.0)
ROOMY_LIMIT = StartLimit(burst=5, interval=60.0)


def no_jitter(low: float, high: float) -> float:
    return 0.0


class UnitBench:
    """Units on a virtual loop and host; every event they emit, with the virtual time."""

    def __init__(self) -> None:
        self.loop = VirtualLoop()
        self.host = VirtualHost(self.loop, on_message=self._deliver)
        self.context = UnitContext(
            self.loop, self, self.host, "@bench-notify", no_jitter, self._changed
        )
        self.events: list[dict[str, Any]] = []
        self.units: dict[str, Unit] = {}
        self.changes: list[str] = []  # the units that told the supervisor they changed

    # -- the context's event sink and change callback -------------------------------------------

    def emit(self, event: str, **fields: Any) -> None:
        self.events.append({"event": event, "time": self.loop.now, **fields})

    def _changed(self, unit: Unit | None) -> None:
        if unit is not None:
            self.changes.append(unit.name)

    def _deliver(self, unit: str, fields: dict[str, str]) -> None:
        self.units[unit].on_notify(fields)

    # -- building and reading ----------------------------------------------------------------

    def unit(
        self,
        name: str = "svc",
        *,
        argv: tuple[str, ...] = ("svc",),
        policy: str = "on-failure",
        backoff: Backoff = STEADY_BACKOFF,
        start_limit: StartLimit = ROOMY_LIMIT,
        prevent_exit_codes: frozenset[int] = frozenset(),
        **settings: Any,
    ) -> Unit:
        settings.setdefault("start_seconds", 0.0)
        restart = RestartPolicy(
            policy=policy,
            backoff=backoff,
            start_limit=start_limit,
            prevent_exit_codes=prevent_exit_codes,
        )
        plan = ProcessPlan(
            name=name,
            service=name.split("#")[0],
            argv=argv,
            settings=ServiceSettings(restart=restart, **settings),
        )
        unit = self.units[name] = Unit(plan, self.context)
        return unit

    def process(self, name: str = "svc") -> VirtualProcess:
        return self.host.current(name)

    def runs(self, name: str = "svc") -> int:
        return len(self.host.runs.get(name, []))

    def states(self, name: str = "svc") -> list[tuple[str, str]]:
        return [
            (e["from"], e["to"]) for e in self.events if e["event"] == "state" and e["unit"] == name
        ]

    def last(self, event: str = "state", name: str = "svc") -> dict[str, Any]:
        return [e for e in self.events if e["event"] == event and e["unit"] == name][-1]

    def advance(self, seconds: float) -> None:
        self.loop.advance(seconds)

    def settle(self) -> None:
        """Serve what is due now (an exit the loop has not yet reported)."""
        self.loop.advance(0.0)


@pytest.fixture
def bench() -> UnitBench:
    return UnitBench()
