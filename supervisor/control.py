"""The control socket: JSON lines over a UNIX stream socket in the state directory.

One request per line, `{"command": "status", ...}`; each gets exactly one JSON line back,
`{"ok": true, ...}` or `{"ok": false, "error": "..."}`, possibly later (a `wait` is answered
when its condition is decided, so waiting is pushed by the supervisor, never polled).  The
socket is mode 0600 and every peer's uid is checked with SO_PEERCRED as well.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SOCKET_NAME = "control.sock"
_UCRED = struct.Struct("3i")
_MAX_REQUEST = 1 << 20
# How often a patient client retries while the supervisor creates its socket.
_CONNECT_RETRY = 0.02
# sun_path holds 108 bytes; longer paths are reached through the directory's /proc fd link.
_SUN_PATH_MAX = 107

Message = dict[str, Any]


class NotRunning(ConnectionError):
    """No supervisor is listening on the socket."""


class AlreadyRunning(RuntimeError):
    """Another supervisor answers on this state directory's socket."""


def ensure_not_running(state_dir: Path) -> None:
    """Refuse to start a second supervisor on a state directory whose supervisor answers; a
    socket left by one that was killed does not count."""
    try:
        ControlClient(state_dir, timeout=1.0).close()
    except (NotRunning, OSError):
        return
    raise AlreadyRunning(f"a supervisor is already running for {state_dir}")


@contextlib.contextmanager
def _reachable(path: Path) -> Iterator[str]:
    """A name for `path` that fits in sun_path."""
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        yield str(path)
        return
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{directory}/{path.name}"
    finally:
        os.close(directory)


class Connection:
    """One client of the server; `reply` may be called long after the request arrived."""

    def __init__(self, sock: socket.socket, server: ControlServer) -> None:
        self.sock = sock
        self._server = server
        self._buffer = b""
        self.closed = False

    def reply(self, message: Message) -> None:
        if self.closed:
            return
        try:
            # Replies are small; a peer that does not read them is dropped, never waited for.
            self.sock.send(json.dumps(message).encode() + b"\n")
        except OSError:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._server.forget(self)

    def on_readable(self) -> None:
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk or len(self._buffer) > _MAX_REQUEST:
            self.close()
            return
        *lines, self._buffer = (self._buffer + chunk).split(b"\n")
        for line in lines:
            if line.strip():
                self._server.dispatch(self, line)


class ControlServer:
    def __init__(
        self,
        state_dir: Path,
        handle: Callable[[Connection, Message], None],
        add_reader: Callable[[int, Callable[[], None]], None],
        remove_reader: Callable[[int], None],
    ) -> None:
        self.path = state_dir / SOCKET_NAME
        self._handle = handle
        self._add_reader = add_reader
        self._remove_reader = remove_reader
        self._connections: set[Connection] = set()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a supervisor that was killed
        old_umask = os.umask(0o177)  # never exists with wider permissions, not even briefly
        try:
            with _reachable(self.path) as name:
                self._listener.bind(name)
        finally:
            os.umask(old_umask)
        self._listener.listen(64)
        add_reader(self._listener.fileno(), self._accept)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except BlockingIOError:
                return
            credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
            _, uid, _ = _UCRED.unpack(credentials)
            if uid not in (os.getuid(), 0):
                sock.close()
                continue
            sock.setblocking(False)
            connection = Connection(sock, self)
            self._connections.add(connection)
            self._add_reader(sock.fileno(), connection.on_readable)

    def dispatch(self, connection: Connection, line: bytes) -> None:
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("command"), str):
                raise ValueError("expected an object with a string 'command'")
        except ValueError as error:
            connection.reply({"ok": False, "error": f"bad request: {error}"})
            return
        self._handle(connection, request)

    def forget(self, connection: Connection) -> None:
        self._connections.discard(connection)
        self._remove_reader(connection.sock.fileno())
        connection.sock.close()

    def close(self) -> None:
        for connection in list(self._connections):
            connection.close()
        self._remove_reader(self._listener.fileno())
        self._listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class ControlClient:
    def __init__(
        self, state_dir: Path, timeout: float | None = None, *, patience: float = 0.0
    ) -> None:
        """Connect; with `patience`, keep trying that long for a supervisor still starting."""
        self.path = state_dir / SOCKET_NAME
        deadline = time.monotonic() + patience
        while True:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.settimeout(timeout)
            try:
                with _reachable(self.path) as name:
                    self._sock.connect(name)
                break
            except (FileNotFoundError, ConnectionRefusedError) as error:
                self._sock.close()
                if time.monotonic() >= deadline:
                    raise NotRunning(f"no supervisor is running for {state_dir}") from error
                time.sleep(_CONNECT_RETRY)
        self._lines = self._sock.makefile("rb")

    def request(self, command: str, **fields: Any) -> Message:
        """Send one request and return its reply; TimeoutError if the reply is late."""
        self._sock.sendall(json.dumps({"command": command, **fields}).encode() + b"\n")
        line = self._lines.readline()
        if not line:
            raise ConnectionError("the supervisor closed the connection")
        return json.loads(line)

    def set_timeout(self, timeout: float | None) -> None:
        self._sock.settimeout(timeout)

    def close(self) -> None:
        self._lines.close()
        self._sock.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
