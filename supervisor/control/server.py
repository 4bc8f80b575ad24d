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
import json
import os
import socket
import struct
from collections.abc import Callable
from pathlib import Path

from supervisor.control.address import SOCKET_NAME, reachable
from supervisor.control.protocol import BadRequest, Message, Request, parse
from supervisor.daemon.failures import error_fields, error_text
from supervisor.daemon.loop import Loop, Timer

MAX_REQUEST = 1 << 20
# Past this much unsent reply, a connection's further requests wait until its client reads.
MAX_UNSENT = 1 << 20
_RECV_BYTES = 65536
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


class Connection:
    """One client of the server; `reply` may be called long after the request arrived."""

    def __init__(self, sock: socket.socket, server: ControlServer) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self._server = server
        self._inbox = bytearray()
        self._outbox = bytearray()
        self._reading = True
        self._closing = False  # close once the outbox is sent
        self.closed = False
        # Called once when the connection ends, however it ends (an `attach` is held on it).
        self.on_close: list[Callable[[], None]] = []

    def reply(self, message: Message) -> None:
        if self.closed or self._closing:
            return
        self._outbox += json.dumps(message).encode() + b"\n"
        self._flush()

    @property
    def unsent(self) -> int:
        """Bytes queued for this client that the socket has not taken yet."""
        return len(self._outbox)

    def send_line(self, line: bytes) -> None:
        """A line already encoded (one event streamed to many clients is encoded once)."""
        if self.closed or self._closing:
            return
        self._outbox += line
        self._flush()

    def reply_and_close(self, message: Message) -> None:
        self.reply(message)
        self._closing = True
        self._stop_reading()
        self._flush()

    def _flush(self) -> None:
        while self._outbox and not self.closed:
            try:
                sent = self.sock.send(self._outbox)
            except BlockingIOError:
                break
            except OSError:
                self.close()  # the peer is gone; nobody is left to answer
                return
            del self._outbox[:sent]
        if self.closed:
            return
        if self._outbox:
            self._server.loop.add_writer(self.fd, self._flush)
            if len(self._outbox) > MAX_UNSENT:
                self._stop_reading()
            return
        self._server.loop.remove_writer(self.fd)
        if self._closing:
            self.close()
        elif not self._reading:
            self._reading = True
            self._server.loop.add_reader(self.fd, self.on_readable)
            self._take_lines()  # requests that arrived while the client was not reading

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._server.loop.remove_reader(self.fd)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._server.forget(self)
            callbacks, self.on_close = self.on_close, []
            for callback in callbacks:
                callback()

    def on_readable(self) -> None:
        try:
            chunk = self.sock.recv(_RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            # The client is done sending; it may still be reading what it asked for.
            self._closing = True
            self._stop_reading()
            self._flush()
            if not self._outbox:
                self.close()
            return
        self._inbox += chunk
        self._take_lines()

    def _take_lines(self) -> None:
        while self._reading and not self.closed:
            end = self._inbox.find(b"\n")
            if end < 0:
                break
            line = bytes(self._inbox[:end])
            del self._inbox[: end + 1]
            if line.strip():
                self._server.dispatch(self, line)
        if len(self._inbox) > MAX_REQUEST and not self._closing:
            self._inbox.clear()
            self.reply_and_close(
                {"ok": False, "error": f"bad request: longer than {MAX_REQUEST} bytes"}
            )


class ControlServer:
    def __init__(
        self,
        state_dir: Path,
        handle: Callable[[Connection, Request], None],
        loop: Loop,
        report: Report,
    ) -> None:
        self.path = state_dir / SOCKET_NAME
        self.loop = loop
        self._handle = handle
        self._report = report
        self._connections: set[Connection] = set()
        self._paused: Timer | None = None
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
