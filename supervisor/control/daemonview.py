"""What the control handlers need of the running supervisor, and nothing more.

The daemon implements `DaemonView` (the arbiter does; a test may put a fake in its place), and
the handlers see the stack only through it: they read units, ask for operations by process
name, and hear of changes as a `DaemonSubscriber`, so the control plane never imports the
daemon that owns the loop.  An operation the running stack cannot carry out raises `Refused`,
whose message is the error reply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from supervisor.config.diff import PlanDiff
from supervisor.policy.group import Member

if TYPE_CHECKING:
    from supervisor.control.connection import Connection


class Refused(Exception):
    """The request cannot be carried out; the message says why."""


class UnitView(Member, Protocol):
    """One process of the stack, read-only: what `status` shows and what a `wait` decides on
    (its name, service, state, cause and failure status as the group's judgement sees them)."""

    @property
    def ready(self) -> bool: ...

    @property
    def completed(self) -> bool:
        """Ended by itself in success (a one-shot job): as good as ready."""

    @property
    def pid(self) -> int | None: ...

    @property
    def retiring(self) -> bool:
        """Removed by a reload and stopping: it will not start again."""

    @property
    def held(self) -> bool:
        """Stopped, and kept stopped until an operator starts it (or `autostart = false`)."""

    def snapshot(self, now: float) -> dict[str, object]:
        """The process as `status --json` shows it."""


class DaemonSubscriber(Protocol):
    """Told of every settled change of the stack, on the supervisor's loop."""

    def units_changed(self) -> None: ...

    def group_ended(self, status: int) -> None:
        """The supervisor is about to exit with `status`; nothing changes after this."""


class DaemonView(Protocol):
    @property
    def units(self) -> Mapping[str, UnitView]:
        """Every process by name, in the plan's order."""

    @property
    def stopping(self) -> bool:
        """The group is stopping: nothing starts again."""

    @property
    def started_at(self) -> float: ...

    @property
    def containment(self) -> str:
        """How processes are kept together: "cgroup" or "process-group"."""

    @property
    def config_path(self) -> Path: ...

    def clock(self) -> float: ...

    def log_path(self, process: str) -> Path: ...

    def start_process(self, process: str, cause: str) -> None:
        """Start now, or once its dependencies are ready."""

    def stop_process(self, process: str, cause: str) -> None:
        """An operator's stop: the process stays stopped (and the group waits) until started."""

    def restart_process(self, process: str, cause: str) -> None: ...

    @property
    def templates(self) -> list[dict[str, object]]:
        """The preload templates: name, pid, state, modules, forks, replaced and why."""

    @property
    def groups(self) -> list[dict[str, object]]:
        """The `[groups]` tables: strategy, members, intensity, restarts, end, last action."""

    def refresh_templates(self, processes: Iterable[str], cause: str) -> list[str]:
        """Replace the preload templates these processes fork from; the names replaced."""

    def signal_process(self, process: str, signum: int, *, whole_group: bool) -> None:
        """Send `signum` to the process (or its whole process group), if it has one."""

    def inject_fault(self, process: str, kind: str, arguments: dict[str, int | float | str]) -> str:
        """Inject a checked fault; what was done.  Refused if the process cannot take it."""

    def reload(self) -> PlanDiff:
        """Apply the configuration file as it is now; ReloadRejected leaves everything as it was."""

    def scale(self, service: str, workers: int) -> dict[str, object]:
        """Run `workers` processes of the service (`service`, `workers`, `was`, `file`, `added`,
        `removed`); Refused for a service without numbered workers or a count out of range."""

    @property
    def scaled(self) -> Mapping[str, Mapping[str, int]]:
        """The services run with another count of workers than the file's: `workers`, `file`."""

    def attach_process(self, process: str, connection: Connection) -> None:
        """Stop the process for `supervisor attach`; its spec is the connection's reply once
        it is down.  Refused if it cannot be lent (a one-shot that is done, one attached)."""

    def attached_process(self, process: str, connection: Connection, pid: int) -> dict[str, object]:
        """The attach client runs the process as `pid`."""

    def detach_process(
        self, process: str, connection: Connection, exit_status: int | None
    ) -> dict[str, object]:
        """Take the attached process back: started again under its policy."""

    def attachment(self, process: str) -> dict[str, object] | None:
        """`status`'s `attached`: None, or the terminal's `pid` and whether it is `ready`."""

    def begin_stop(self, cause: str) -> None:
        """Stop the whole group, dependants first; the supervisor exits once it is down."""

    def subscribe(self, subscriber: DaemonSubscriber) -> None: ...
