"""What the supervisor keeps up to date as its units change, so that no change has to look at
every unit: with 1,000 processes, a scan per transition made a stop and a bring-up quadratic.

- the units waiting for their dependencies (only they can be released);
- whether a stop in progress must look again for whom to stop: only when a unit that depends
  on something is gone (what it depends on may now go), or a unit came up again or started
  waiting; with no `depends_on` in the file, a stop looks once;
- the units of each service, rebuilt when the set of units changes (a reload).
"""

from __future__ import annotations

from collections.abc import Mapping

from supervisor.daemon.unit import Unit
from supervisor.policy.states import State


class UnitIndex:
    def __init__(self) -> None:
        self.waiting: set[str] = set()
        self._stop_scan_due = False
        self._by_service: dict[str, list[Unit]] | None = None

    def units_replaced(self) -> None:
        """Units were added or removed: the services' lists are made again when next asked."""
        self._by_service = None

    def removed(self, name: str) -> None:
        self.waiting.discard(name)
        self.units_replaced()

    def stop_began(self) -> None:
        self._stop_scan_due = True

    def take_stop_scan(self) -> bool:
        """Whether a stop must look for whom to stop now; once per change that may tell."""
        due, self._stop_scan_due = self._stop_scan_due, False
        return due

    def note(self, units: Mapping[str, Unit], unit: Unit | None, *, stopping: bool) -> None:
        """A unit's transition, or (None) any change at all."""
        if unit is None:
            self.waiting = {u.name for u in units.values() if u.state is State.WAITING}
            self._stop_scan_due = True
            return
        if unit.state is State.WAITING:
            self.waiting.add(unit.name)
        else:
            self.waiting.discard(unit.name)
        if stopping and (
            # Gone: what its service depends on may be free to stop now.
            (unit.is_final and unit.plan.settings.depends_on)
            # Up again, or waiting: it has to be stopped too.
            or (not unit.is_final and unit.state is not State.STOPPING)
        ):
            self._stop_scan_due = True

    def service_units(self, units: Mapping[str, Unit], service: str) -> list[Unit]:
        if self._by_service is None:
            self._by_service = {}
            for unit in units.values():
                self._by_service.setdefault(unit.service, []).append(unit)
        return self._by_service.get(service, [])
