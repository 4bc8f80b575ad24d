"""The server end of the control socket: JSON lines over a UNIX stream socket in the state
directory (the client end is `client`).

One request per line, `{"command": "status", ...}`; each gets exactly one JSON line back,
`{"ok": true, ...}` or `{"ok": false, "error": "..."}`, possibly later (a `wait` is answered
when its condition is decided, so waiting is pushed by the supervisor, never polled).  The
socket is mode 0600 and every peer's uid is checked with SO_PEERCRED as well.

This is an edge, so nothing a client does can end the supervisor: every line is checked by
`protocol.parse` before a handler sees it; whatever a handler raises becomes an error reply and
an `error` event; a line longer than `MAX_REQUEST` is answered with an error and the connection
closed.  Replies of any size arrive whole: each connection buffers what the socket cannot take
yet and sends the rest when it turns writable, and stops reading requests from a client that
does not read its replies.  When the process runs out of file descriptors, accepting pauses for
a moment instead of failing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import struct
from collections.abc import Callable
from pathlib import Path

from supervisor.control.address import SOCKET_NAME, reachable
from supervisor.control.connection import MAX_REQUEST, Cancellable, Connection, Reactor
from supervisor.control.protocol import BadRequest, Request, parse
from supervisor.shared.errors import error_fields, error_text

__all__ = ["MAX_REQUEST", "Connection", "ControlServer"]

# How long accepting pauses when the process or the system is out of file descriptors.
ACCEPT_PAUSE = 0.2
_OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
# A peer that gave up between connect and accept.
_GONE_BEFORE_ACCEPT = {errno.ECONNABORTED, errno.EPROTO, errno.EPERM}
_UCRED = struct.Struct("3i")

Report = Callable[..., None]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class ControlServer:
    def __init__(
        self,
        state_dir: Path,
        handle: Callable[[Connection, Request], None],
        loop: Reactor,
        report: Report,
    ) -> None:
        self.path = state_dir / SOCKET_NAME
        self.loop = loop
        self._handle = handle
        self._report = report
        self._connections: set[Connection] = set()
        self._paused: Cancellable | None = None
        self._starved = False  # accepting failed for want of descriptors, not yet recovered
        self._listener = self._bind()

    def _bind(self) -> socket.socket:
        """Listen at the path; whatever was there is stale (the caller holds the state lock)."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        try:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            old_umask = os.umask(0o177)  # never exists with wider permissions, not even briefly
            try:
                with reachable(self.path) as name:
                    listener.bind(name)
            finally:
                os.umask(old_umask)
            listener.listen(64)
        except BaseException:
            listener.close()
            raise
        self._identity = _identity(self.path)
        self.loop.add_reader(listener.fileno(), self._accept)
        return listener

    def rebind_if_gone(self) -> bool:
        """Put the socket back if it was removed or replaced; say whether it had to be."""
        if _identity(self.path) == self._identity:
            return False
        old = self._listener
        self._listener = self._bind()
        self._stop_listening(old)
        return True

    def _stop_listening(self, listener: socket.socket) -> None:
        self.loop.remove_reader(listener.fileno())
        listener.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as error:
                if error.errno in _OUT_OF_DESCRIPTORS:
                    self._pause(error)
                    return
                if error.errno in _GONE_BEFORE_ACCEPT:
                    continue
                raise
            if self._starved:
                self._starved = False
                self._report("control", action="resumed", cause="accepting connections again")
            self._admit(sock)

    def _admit(self, sock: socket.socket) -> None:
        try:
            credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
            _, uid, _ = _UCRED.unpack(credentials)
            if uid not in (os.getuid(), 0):
                sock.close()
                return
            sock.setblocking(False)
        except OSError:
            sock.close()
            return
        connection = Connection(sock, self)
        self._connections.add(connection)
        self.loop.add_reader(connection.fd, connection.on_readable)

    def _pause(self, error: OSError) -> None:
        """Out of descriptors: stop accepting for a moment (connections wait in the backlog),
        then try again; said once per shortage, not once per retry."""
        self.loop.remove_reader(self._listener.fileno())
        self._paused = self.loop.call_later(ACCEPT_PAUSE, self._resume)
        if not self._starved:
            self._starved = True
            self._report(
                "control",
                action="paused",
                cause=f"cannot accept connections: {os.strerror(error.errno or 0)}; "
                f"retrying every {ACCEPT_PAUSE}s",
                connections=len(self._connections),
            )

    def _resume(self) -> None:
        self._paused = None
        self.loop.add_reader(self._listener.fileno(), self._accept)
        self._accept()

    def dispatch(self, connection: Connection, line: bytes) -> None:
        """Check the request, then carry it out; no exception leaves this method."""
        try:
            request = parse(line)
        except BadRequest as error:
            connection.reply({"ok": False, "error": f"bad request: {error}"})
            return
        try:
            self._handle(connection, request)
        except Exception as error:
            where = f"control request {type(request).__name__.lower()}"
            self._report("error", where=where, **error_fields(error))
            connection.reply(
                {
                    "ok": False,
                    "error": f"internal error: {error_text(error)} "
                    "(the supervisor goes on; the event log has the traceback)",
                }
            )

    def forget(self, connection: Connection) -> None:
        self._connections.discard(connection)
        self.loop.remove_reader(connection.fd)
        self.loop.remove_writer(connection.fd)
        connection.sock.close()

    def close(self) -> None:
        for connection in list(self._connections):
            connection.close()
        if self._paused is not None:
            self._paused.cancel()
        self._stop_listening(self._listener)
        if _identity(self.path) == self._identity:
            self.path.unlink(missing_ok=True)
