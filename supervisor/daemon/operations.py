"""What the control handlers see of the supervisor (`control.daemonview.DaemonView`): the
operations an operator asks for by process name, carried out on the units and reported as
events.

A part of `arbiter.Supervisor`, kept apart because none of it decides anything about the group:
each operation finds its unit and hands it on (to the unit, the preload templates, the
attachments of `supervisor attach`, the fault injector).  It uses the supervisor's `plan`,
`units`, `events`, `_context`, `_attachments` and `_subscribers`, and its `start_unit` and
`_restart`.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from supervisor.control.daemonview import DaemonSubscriber, Refused
from supervisor.daemon import faultinjector as faults
from supervisor.daemon.output import LOGS_DIR
from supervisor.shared.logfiles import LOG_SUFFIX

if TYPE_CHECKING:
    from supervisor.config import Plan
    from supervisor.control.connection import Connection
    from supervisor.daemon.attach import Attachments
    from supervisor.daemon.host import EventSink
    from supervisor.daemon.preload.pool import Preloader
    from supervisor.daemon.unit import Unit, UnitContext


class Operations:
    plan: Plan
    units: dict[str, Unit]
    events: EventSink
    _context: UnitContext
    _attachments: Attachments | None
    _subscribers: list[DaemonSubscriber]

    def subscribe(self, subscriber: DaemonSubscriber) -> None:
        self._subscribers.append(subscriber)

    @property
    def config_path(self) -> Path:
        return self.plan.path

    def log_path(self, process: str) -> Path:
        return self.plan.state_dir / LOGS_DIR / f"{process}{LOG_SUFFIX}"

    def start_process(self, process: str, cause: str) -> None:
        self.start_unit(self.units[process], cause)

    def stop_process(self, process: str, cause: str) -> None:
        self.units[process].stop(cause, hold=True)

    def restart_process(self, process: str, cause: str) -> None:
        self._restart(self.units[process], cause)

    @property
    def _preloader(self) -> Preloader | None:
        """The host's preload templates; None on a host that never forks from one (the
        simulator's)."""
        return getattr(self._context.host, "preloader", None)

    @property
    def templates(self) -> list[dict[str, object]]:
        """The preload templates, as `status` shows them (none on a host without them)."""
        preloader = self._preloader
        return [] if preloader is None else preloader.describe()

    def refresh_templates(self, processes: Iterable[str], cause: str) -> list[str]:
        """Replace the preload templates the named processes fork from (`restart --fresh`),
        so that their next start runs the code as it is on disk; the templates replaced."""
        if (preloader := self._preloader) is None:
            return []
        return preloader.refresh(cause, [self.units[name].plan for name in processes])

    # `supervisor attach` (daemon/attach.py)

    def _lending(self) -> Attachments:
        if self._attachments is None:
            raise Refused("this supervisor lends no process to a terminal")
        return self._attachments

    def attach_process(self, process: str, connection: Connection) -> None:
        self._lending().attach(self.units[process], connection)

    def attached_process(self, process: str, connection: Connection, pid: int) -> dict[str, object]:
        return self._lending().attached(self.units[process], connection, pid)

    def detach_process(
        self, process: str, connection: Connection, exit_status: int | None
    ) -> dict[str, object]:
        return self._lending().detach(self.units[process], connection, exit_status)

    def attachment(self, process: str) -> dict[str, object] | None:
        return None if self._attachments is None else self._attachments.describe(process)

    def signal_process(self, process: str, signum: int, *, whole_group: bool) -> None:
        unit = self.units[process]
        pid = unit.pid
        if unit.send(signum, whole_group=whole_group):
            name = signal.Signals(signum).name
            self.events.emit(
                "signal",
                unit=process,
                signal=name,
                pid=pid,
                group=whole_group,
                cause="sent by operator",
            )

    def inject_fault(self, process: str, kind: str, arguments: dict[str, int | float | str]) -> str:
        unit = self.units[process]
        pid = unit.pid
        try:
            done = faults.inject(unit, kind, arguments)
        except faults.FaultRefused as error:
            raise Refused(f"{process}: {error}") from None
        # The arguments' keys are the few `protocol` allows, none of them an event's own field.
        self.events.emit("fault", unit=process, kind=kind, cause=done, pid=pid, **arguments)
        return done
