"""`supervisor attach NAME`: one process lent to an operator's terminal, then taken back.

The supervisor stops the process as an operator's stop (it is then `stopped`, held, so nothing
restarts it and its dependants and siblings are left as they are) and, once it is down, answers
the client with the exact spec of a run: argv, environment (NOTIFY_SOCKET and every variable the
supervisor adds), directory, cgroup, identity.  The client runs it as its own child in the
terminal and says which pid it is (`attached`); its notify datagrams are heard as the unit's.
The unit is taken back, started again as the supervisor's own child under its policy, when the
client says the process ended (`detach`) or when the client's connection closes, whichever is
first; a process that outlives its client is killed first, and the start waits for it to be
gone, so two runs of one process never overlap.

Why no state of its own: from the state machine's side an attached process is exactly an
operator's stop (not its child, not to be restarted, kept down until someone acts), so the
unit is `stopped` and held, with the cause `attached to a terminal (pid N)`, and `status`
adds an `attached` field; every rule about held units (the group does not end, `wait --ready`
leaves it out) holds unchanged.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from supervisor.config.identity import switches
from supervisor.control.daemonview import Refused
from supervisor.daemon.loop import Loop
from supervisor.daemon.unit import Unit
from supervisor.policy.states import State

ATTACHED_CAUSE = "attached to a terminal"


class Client(Protocol):
    """The control connection an attach is held on (`control.server.Connection`)."""

    closed: bool
    on_close: list[Callable[[], None]]

    def reply(self, message: dict[str, Any]) -> None: ...


class Stack(Protocol):
    """What of the supervisor an attach needs."""

    units: dict[str, Unit]
    stopping: bool

    def start_unit(self, unit: Unit, cause: str) -> None: ...


@dataclass(eq=False)
class Attachment:
    unit: str
    client: Client
    pid: int | None = None  # the client's child, once it said so
    pidfd: int | None = None
    ready: bool = False  # READY=1 came from it
    spec_sent: bool = False


class Attachments:
    def __init__(
        self,
        stack: Stack,
        loop: Loop,
        emit: Callable[..., None],
        cgroup_of: Callable[[str], str | None] = lambda unit: None,
    ) -> None:
        self._stack = stack
        self._loop = loop
        self._emit = emit
        self._cgroup_of = cgroup_of  # the unit's cgroup directory, made ready for a process
        self._by_unit: dict[str, Attachment] = {}

    # -- the requests --------------------------------------------------------------------------

    def attach(self, unit: Unit, client: Client) -> None:
        """Stop the unit for the client; the spec is its reply once the unit is down."""
        self._refuse_unless_attachable(unit)
        attachment = Attachment(unit.name, client)
        self._by_unit[unit.name] = attachment
        client.on_close.append(lambda: self._client_gone(attachment))
        unit.stop(f"{ATTACHED_CAUSE} by operator", hold=True)
        self._send_spec_if_down(attachment)

    def attached(self, unit: Unit, client: Client, pid: int) -> dict[str, Any]:
        attachment = self._own(unit, client)
        if not attachment.spec_sent or attachment.pid is not None:
            raise Refused(f"{unit.name}: not waiting for a process from this client")
        try:
            attachment.pidfd = os.pidfd_open(pid)
        except OSError as error:
            raise Refused(f"pid {pid}: {error.strerror}") from None
        attachment.pid = pid
        unit.cause = f"{ATTACHED_CAUSE} (pid {pid})"
        self._emit("attach", action="start", unit=unit.name, pid=pid, cause=unit.cause)
        return {"ok": True, "process": unit.name, "pid": pid}

    def detach(self, unit: Unit, client: Client, exit_status: int | None) -> dict[str, Any]:
        """The client's process ended (or the client gives it up): start the unit again."""
        attachment = self._own(unit, client)
        how = "" if exit_status is None else f" (exit status {exit_status})"
        self._take_back(attachment, f"its run in the terminal ended{how}", exit_status)
        again = self._stack.units.get(unit.name)
        return {
            "ok": True,
            "process": unit.name,
            "state": None if again is None else str(again.state),
            "pid": None if again is None else again.pid,
        }

    def _refuse_unless_attachable(self, unit: Unit) -> None:
        if self._stack.stopping:
            raise Refused("the supervisor is shutting down")
        if unit.retiring:
            raise Refused(f"{unit.name}: removed from the configuration by a reload, stopping")
        if unit.name in self._by_unit:
            held = self._by_unit[unit.name]
            who = f" (pid {held.pid})" if held.pid is not None else ""
            raise Refused(f"{unit.name} is already {ATTACHED_CAUSE}{who}")
        if unit.completed:
            raise Refused(
                f"{unit.name} is a one-shot that has done its work ({unit.cause}): nothing runs"
                f" to attach to; `supervisor start {unit.name}` runs it again"
            )
        if unit.state in (State.EXITED, State.FATAL, State.BLOCKED):
            raise Refused(
                f"{unit.name} is {unit.state} ({unit.cause}) and its policy does not run it"
                f" again: start it first (`supervisor start {unit.name}`), or stop it to hold it"
            )
        if unit.state is State.STOPPING and not unit.held:
            raise Refused(f"{unit.name} is stopping ({unit.cause}): attach once it is down")

    def _own(self, unit: Unit, client: Client) -> Attachment:
        attachment = self._by_unit.get(unit.name)
        if attachment is None or attachment.client is not client:
            raise Refused(f"{unit.name} is not {ATTACHED_CAUSE} through this connection")
        return attachment

    # -- what the supervisor tells it ----------------------------------------------------------

    def units_changed(self) -> None:
        for attachment in list(self._by_unit.values()):
            if not attachment.spec_sent:
                self._send_spec_if_down(attachment)

    def group_ended(self, status: int) -> None:
        """The supervisor exits: what runs in a terminal is stopped, as every other process."""
        for attachment in list(self._by_unit.values()):
            unit = self._stack.units.get(attachment.unit)
            stop = signal.SIGTERM if unit is None else unit.plan.settings.stop_signal
            self._forget(attachment, stop)

    def on_notify(self, pid: int, fields: dict[str, str]) -> bool:
        """A datagram from an attached process: its unit's; whether it was one."""
        attachment = next((a for a in self._by_unit.values() if a.pid == pid), None)
        if attachment is None:
            return False
        unit = self._stack.units.get(attachment.unit)
        if unit is None:
            return True
        if fields.get("WATCHDOG") == "1" and len(fields) == 1:
            return True  # a keep-alive is not news
        self._emit("notify", unit=unit.name, pid=pid, **fields)
        if "STATUS" in fields:
            unit.status_text = fields["STATUS"]
        if fields.get("READY") == "1" and not attachment.ready:
            attachment.ready = True
            unit.cause = f"{ATTACHED_CAUSE} (pid {pid}), ready (READY=1)"
        return True

    def describe(self, unit: str) -> dict[str, Any] | None:
        """`status --json`'s `attached`: null, or the terminal's process and its readiness."""
        attachment = self._by_unit.get(unit)
        if attachment is None:
            return None
        return {"pid": attachment.pid, "ready": attachment.ready}

    def is_attached(self, unit: str) -> bool:
        return unit in self._by_unit

    # -- lending and taking back ---------------------------------------------------------------

    def _send_spec_if_down(self, attachment: Attachment) -> None:
        unit = self._stack.units.get(attachment.unit)
        if unit is None or attachment.client.closed:
            self._forget(attachment)
            return
        if unit.state is not State.STOPPED:
            return  # still stopping: asked again at the next change
        attachment.spec_sent = True
        # The stop's own cause ("stopped cleanly: ...") is in the event log; status says why
        # it stays down.
        unit.cause = f"{ATTACHED_CAUSE} (waiting for the client to start it)"
        attachment.client.reply({"ok": True, **self._spec(unit)})

    def _spec(self, unit: Unit) -> dict[str, Any]:
        settings = unit.plan.settings
        env = unit.run_environment()
        run_as = settings.run_as
        identity = None
        if run_as is not None:
            env = run_as.environment(env, frozenset(key for key, _ in settings.env))
            if switches(run_as):
                identity = {"uid": run_as.uid, "gid": run_as.gid, "groups": list(run_as.groups)}
        return {
            "process": unit.name,
            "argv": list(unit.plan.argv),
            "env": env,
            "directory": settings.directory,
            "cgroup": self._cgroup_of(unit.name),
            "identity": identity,
            "stop_signal": int(settings.stop_signal),
            "stop_timeout": settings.stop_timeout,
        }

    def _client_gone(self, attachment: Attachment) -> None:
        if self._by_unit.get(attachment.unit) is attachment:
            self._take_back(attachment, "the attach client went away", None)

    def _take_back(self, attachment: Attachment, why: str, exit_status: int | None) -> None:
        """Start the unit again once the terminal's process is gone (killed if it is not)."""
        pidfd = self._forget(attachment, signal.SIGKILL)
        self._emit(
            "attach",
            action="end",
            unit=attachment.unit,
            pid=attachment.pid,
            exit_status=exit_status,
            cause=why,
        )
        if pidfd is None or _ended(pidfd):
            if pidfd is not None:
                os.close(pidfd)
            self._start_again(attachment.unit, why)  # at once: `detach` replies with its pid
            return

        def gone() -> None:
            self._loop.remove_reader(pidfd)
            os.close(pidfd)
            self._start_again(attachment.unit, why)

        self._loop.add_reader(pidfd, gone)

    def _forget(self, attachment: Attachment, kill: int | None = None) -> int | None:
        """Drop the attachment; signal its process with `kill` if it still runs.  The pidfd,
        for the caller to wait on, or None (it was closed)."""
        if self._by_unit.get(attachment.unit) is attachment:
            del self._by_unit[attachment.unit]
        pidfd, attachment.pidfd = attachment.pidfd, None
        if pidfd is None:
            return None
        if kill is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(pidfd, kill)
        if kill == signal.SIGKILL:
            return pidfd
        os.close(pidfd)
        return None

    def _start_again(self, name: str, why: str) -> None:
        unit = self._stack.units.get(name)
        if unit is None or self._stack.stopping:
            return  # removed by a reload meanwhile, or the group is stopping
        cause = f"taken back from the terminal ({why})"
        if unit.state is State.STOPPING:
            unit.restart(cause)  # the client left before the stop was done: start after it
        elif unit.state is State.STOPPED:
            self._stack.start_unit(unit, cause)


def _ended(pidfd: int) -> bool:
    """Whether the process of the pidfd has ended (its pidfd is readable), without waiting."""
    return bool(select.select([pidfd], [], [], 0)[0])
