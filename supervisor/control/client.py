"""The client end of the control socket: one connection, one request at a time, one reply each.

What the command line and the test harness use to talk to a running supervisor.  Connecting
tells apart a supervisor that is not running (`NotRunning`) from a socket that cannot be reached
(`Unreachable`); a connection that ends before its reply is whole is `LostSupervisor`.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supervisor.control.address import SOCKET_NAME, owner_alive, reachable

if TYPE_CHECKING:
    from supervisor.control.protocol import Message

# How often a patient client retries while the supervisor creates its socket.
_CONNECT_RETRY = 0.02
# How long a client waits for the socket of a supervisor whose lock file names a live process:
# a removed socket is put back within a second (see `statedir`).
SOCKET_COMEBACK = 3.0


class NotRunning(ConnectionError):
    """No supervisor is listening on the socket."""


class Unreachable(ConnectionError):
    """The socket is there but cannot be connected to (permissions, a stale file of another
    kind)."""


class LostSupervisor(ConnectionError):
    """The supervisor went away, or answered something that is not a reply, mid-request."""


class ControlClient:
    def __init__(
        self, state_dir: Path, timeout: float | None = None, *, patience: float = 0.0
    ) -> None:
        """Connect; with `patience`, keep trying that long for a supervisor still starting.
        A supervisor whose socket was removed is waited for as well, while it puts it back."""
        self.path = state_dir / SOCKET_NAME
        started = time.monotonic()
        while True:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.settimeout(timeout)
            try:
                with reachable(self.path) as name:
                    self._sock.connect(name)
                break
            except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as error:
                self._sock.close()
                waited = time.monotonic() - started
                if waited >= patience and not (waited < SOCKET_COMEBACK and owner_alive(state_dir)):
                    raise NotRunning(f"no supervisor is running for {state_dir}") from error
                time.sleep(_CONNECT_RETRY)
            except OSError as error:
                self._sock.close()
                if isinstance(error, TimeoutError):
                    raise
                raise Unreachable(f"cannot reach the supervisor at {self.path}: {error}") from None
            except BaseException:
                self._sock.close()
                raise
        self._lines = self._sock.makefile("rb")

    def request(self, command: str, **fields: Any) -> Message:
        """Send one request and return its reply, read to the end of its line.

        TimeoutError if the reply is late; LostSupervisor if the connection ends first."""
        try:
            self._sock.sendall(json.dumps({"command": command, **fields}).encode() + b"\n")
            line = self._lines.readline()
        except ConnectionError as error:
            broke = f"{type(error).__name__}: {error}"
            raise LostSupervisor(f"the connection broke: {broke}") from None
        if not line.endswith(b"\n"):
            raise LostSupervisor(
                "the supervisor closed the connection"
                + (f" after {len(line)} bytes of a reply" if line else "")
            )
        try:
            reply = json.loads(line)
        except ValueError:
            raise LostSupervisor("the reply is not JSON") from None
        if not isinstance(reply, dict):
            raise LostSupervisor("the reply is not a JSON object")
        return reply

    def next_line(self) -> bytes:
        """The next line after a reply (a `subscribe` stream's events); b"" once it ends."""
        try:
            return self._lines.readline()
        except ConnectionError:
            return b""

    def fileno(self) -> int:
        """The socket, to wait on beside something else (`attach` waits on its process too)."""
        return self._sock.fileno()

    def set_timeout(self, timeout: float | None) -> None:
        self._sock.settimeout(timeout)

    def close(self) -> None:
        self._lines.close()
        self._sock.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
