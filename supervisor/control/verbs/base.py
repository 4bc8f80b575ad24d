"""What a control verb is: one class that declares everything about one request.

A verb names itself, says in one line what it does, lists the fields it takes and the fields its
reply carries, turns the fields of a request into a typed request (checking each), and carries
the request out against the running stack.  From these declarations alone the protocol knows
which verbs exist and which fields each takes (`protocol.parse`), the handlers know whom to
dispatch to (`handlers.CommandHandler`), and the reference page is written (`reference`).

A verb sees the supervisor only through `Plane`: the daemon's view, name resolution, and the
clients still waiting for an answer.  It refuses what the running stack cannot do by raising
`Refused`; returning None means the answer comes later (a `wait`, a `shutdown`, an `attach`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from supervisor.control.fields import Field, Message

if TYPE_CHECKING:
    from supervisor.control.connection import Connection
    from supervisor.control.daemonview import DaemonView, UnitView
    from supervisor.control.stream import EventStream

# The fields most verbs share, declared once.
NAMES = Field(
    "names", "list of strings", "services (every process of each) or processes; none: every one"
)
OK = Field("ok", "boolean", "true; false with `error` (a message) when refused")


class Plane(Protocol):
    """What a verb may use of the control plane that received its request."""

    @property
    def daemon(self) -> DaemonView: ...

    @property
    def stream(self) -> EventStream | None:
        """The event stream `subscribe` joins clients to; None where events are not streamed."""

    @property
    def waiting_clients(self) -> int:
        """Clients whose `wait` or `shutdown` is not answered yet."""

    def resolve(
        self, names: tuple[str, ...] | list[str], everything: bool = False
    ) -> list[UnitView]:
        """A service name means all its processes, a process name that one; none: every one.
        Refused for a name that is neither."""

    def one_process(self, name: str, verb: str) -> UnitView:
        """The one process `name` means; Refused for a service of several."""

    def refuse_while_stopping(self) -> None: ...

    def wait_for(
        self, connection: Connection, condition: str, names: list[str], *, named: bool
    ) -> None:
        """Answer the connection once `condition` holds or cannot hold for these processes."""


class Verb:
    """One verb of the control protocol; subclasses declare the class attributes."""

    name: ClassVar[str]
    summary: ClassVar[str]  # one line, for the reference
    fields: ClassVar[tuple[Field, ...]] = ()
    replies: ClassVar[tuple[Field, ...]] = (OK,)
    # The fields without which the request means nothing, and the error that says so.
    required: ClassVar[tuple[str, ...]] = ()
    missing: ClassVar[str] = ""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(field.key for field in self.fields)

    def request(self, fields: Mapping[str, Any]) -> Any:
        """The typed request from the fields given, each checked (`BadRequest` if not)."""
        raise NotImplementedError

    def execute(self, plane: Plane, connection: Connection, request: Any) -> Message | None:
        """Carry the request out: its reply, or None when it is answered later."""
        raise NotImplementedError
