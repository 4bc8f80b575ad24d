"""Running another plan while the stack runs: a `reload` of the file, and a `scale` of one
service's workers, both through one `_apply` that starts what was added, stops what was
removed (the last first) and restarts what changed.

A part of `arbiter.Supervisor`, kept apart because it is one job with its own state: the counts
`scale` set (`_scaled`, kept across reloads while the file agrees) and the units removed but
still stopping (`_retiring`).  It uses the supervisor's `plan`, `units`, `events`, `_context`,
`_index`, `_load_plan` and `_preloader`, and its `start_unit`, `_restart` and `_on_change`.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from supervisor.config import ConfigError, Plan
from supervisor.config.diff import PlanDiff, ReloadRejected, diff
from supervisor.control.daemonview import Refused
from supervisor.daemon import scaling
from supervisor.daemon.scaling import Scaled, ScaleRefused
from supervisor.daemon.unit import Unit

if TYPE_CHECKING:
    from supervisor.daemon.host import EventSink
    from supervisor.daemon.unit import UnitContext
    from supervisor.daemon.unitindex import UnitIndex


class Replanning:
    plan: Plan
    units: dict[str, Unit]
    events: EventSink
    _context: UnitContext
    _index: UnitIndex
    _load_plan: Callable[..., Plan] | None
    _retiring: set[str]  # removed by a reload, still stopping
    _scaled: dict[str, Scaled]  # `supervisor scale`, while the file agrees

    def reload(self) -> PlanDiff:
        """Apply the difference between the running plan and the file as it is now.  A service
        `scale` changed keeps its count, unless the file's own `workers` for it changed."""
        try:
            loaded, dropped = self._load_keeping_scales()
        except ReloadRejected as error:
            self.events.emit("reload", action="rejected", error=str(error))
            raise
        for service in dropped:
            was = self._scaled.pop(service)
            self.events.emit(
                "scale",
                action="dropped",
                service=service,
                workers=was.workers,
                file=loaded.workers.get(service),
                cause=f"the file's workers changed from {was.file}: the file wins",
            )
        changes = diff(self.plan, loaded)
        if (preloader := self._preloader) is not None:
            preloader.prepare(loaded.processes)
            preloader.refresh("reload")  # a reload runs the code as it is on disk now
        self.events.emit("reload", action="applied", **changes.summary())
        self._apply(
            loaded, changes, added="added by reload", removed="removed from the configuration"
        )
        return changes

    def _apply(
        self, loaded: Plan, changes: PlanDiff, *, added: str, removed: str, reset: bool = True
    ) -> None:
        """Run `loaded` instead of the running plan, which differs from it by `changes`: added
        processes start (after their dependencies), removed ones stop, the last one first, and
        changed ones restart.  `reset`: the unchanged manager processes get SIGHUP (a reload's
        reset(); a scale leaves them alone).  `added` and `removed` are the causes."""
        self.plan = loaded
        kept = self.units
        self.units = {
            p.name: kept[p.name] if p.name in kept else Unit(p, self._context)
            for p in loaded.processes
        }
        # Removed by an earlier reload and back before its process was down: the same unit
        # takes the new plan and starts again once that process has ended.
        returning = self._retiring & self.units.keys()
        self._retiring = (self._retiring - returning) | set(changes.removed)
        for name in returning:
            kept[name].retiring = False
        for name in self._retiring:  # a retiring unit stays until it is down, reload or not
            self.units[name] = kept[name]
            kept[name].retiring = True
        self._index.units_replaced()
        for process in loaded.processes:
            unit = self.units[process.name]
            if process.name in returning:
                unit.replace_plan(process)
                unit.restart(added)
            elif process.name in changes.changed:
                unit.replace_plan(process)
                if not unit.is_final:
                    self._restart(unit, "configuration changed")
            elif reset and process.name in changes.unchanged and process.spec is not None:
                unit.send(signal.SIGHUP)  # the manager's reset(), as Cinder's mutate
        for name in reversed(changes.removed):  # NAME#3 before NAME#2; settled ones already left
            kept[name].stop(removed)
        for name in changes.added:
            unit = self.units[name]
            if name in returning:
                continue  # it starts again once its old run is down
            if unit.plan.settings.autostart:
                self.start_unit(unit, added)
            else:
                unit.disable()
        self._on_change(None)

    def scale(self, service: str, workers: int) -> dict[str, object]:
        """Run `workers` processes of the service from now on (`supervisor scale`), through the
        path a reload takes; what changed, as the reply says it."""
        try:
            was = scaling.current_workers(self.plan, service)
            scaling.check_count(workers)
            file = self.plan.workers[service]
            plan = self.plan
            if workers != was:
                loaded = self._load_for_reload({service: workers})
                plan = scaling.splice(self.plan, loaded, service, workers)
            changes = diff(self.plan, plan)
        except ScaleRefused as error:
            raise Refused(str(error)) from None
        except ReloadRejected as error:
            raise Refused(f"cannot scale {service}: the file does not load:\n{error}") from None
        if workers == file:
            self._scaled.pop(service, None)  # back to the file's count: nothing to keep
        else:
            self._scaled[service] = Scaled(workers, file)
        reply: dict[str, object] = {
            "service": service,
            "workers": workers,
            "was": was,
            "file": file,
            "added": list(changes.added),
            "removed": list(reversed(changes.removed)),  # in the order they are stopped
        }
        if workers == was:
            return reply
        self.events.emit("scale", action="applied", cause="scaled by operator", **reply)
        if (preloader := self._preloader) is not None:
            preloader.prepare(plan.processes)  # a new worker forks from its template too
        cause = f"{service} {was} -> {workers} workers"
        self._apply(
            plan,
            changes,
            added=f"added by scale ({cause})",
            removed=f"removed by scale ({cause})",
            reset=False,
        )
        return reply

    @property
    def scaled(self) -> dict[str, dict[str, int]]:
        """The services `scale` runs with another count than the file's: {"workers", "file"}."""
        return {s: {"workers": x.workers, "file": x.file} for s, x in self._scaled.items()}

    def _load_keeping_scales(self) -> tuple[Plan, list[str]]:
        """The file's plan with the scaled counts that still hold; the services whose scale
        the file's own edit of `workers` overrides (read again without theirs)."""
        loaded = self._load_for_reload(scaling.counts(self._scaled))
        dropped = scaling.overridden_by_file(self._scaled, loaded.workers)
        if dropped:
            kept = {s: x for s, x in self._scaled.items() if s not in dropped}
            loaded = self._load_for_reload(scaling.counts(kept))
        return loaded, dropped

    def _load_for_reload(self, workers: dict[str, int] | None = None) -> Plan:
        if self._load_plan is None:
            raise ReloadRejected("this supervisor was started without a file to reload")
        try:
            # Without counts, a loader that takes none (a test's) serves as well.
            loaded = self._load_plan(workers=workers) if workers else self._load_plan()
        except ConfigError as error:
            raise ReloadRejected(str(error)) from error
        if loaded.state_dir != self.plan.state_dir:
            raise ReloadRejected("state_dir cannot change while the supervisor runs")
        return loaded
