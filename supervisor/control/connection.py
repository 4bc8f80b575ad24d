"""One client of the control server: its requests in, its replies out, each whole.

Replies of any size arrive whole: each connection buffers what the socket cannot take yet and
sends the rest when it turns writable, and stops reading requests from a client that does not
read its replies.  A line longer than `MAX_REQUEST` is answered with an error and the
connection closed.  The verbs and the daemon hold connections to answer them later (a `wait`,
an `attach`); nothing here knows what a request means (`server.ControlServer.dispatch` does).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any, Protocol

MAX_REQUEST = 1 << 20
# Past this much unsent reply, a connection's further requests wait until its client reads.
MAX_UNSENT = 1 << 20
_RECV_BYTES = 65536

Callback = Callable[[], None]


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Reactor(Protocol):
    """The event loop as the control plane sees it: descriptors to watch, callbacks later."""

    def add_reader(self, fd: int, callback: Callback) -> None: ...

    def remove_reader(self, fd: int) -> None: ...

    def add_writer(self, fd: int, callback: Callback) -> None: ...

    def remove_writer(self, fd: int) -> None: ...

    def call_later(self, delay: float, callback: Callback) -> Cancellable: ...


class Server(Protocol):
    """What a connection asks of the server that accepted it."""

    @property
    def loop(self) -> Reactor: ...

    def dispatch(self, connection: Connection, line: bytes) -> None: ...

    def forget(self, connection: Connection) -> None: ...


class Connection:
    """One client of the server; `reply` may be called long after the request arrived."""

    def __init__(self, sock: socket.socket, server: Server) -> None:
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

    def reply(self, message: dict[str, Any]) -> None:
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

    def reply_and_close(self, message: dict[str, Any]) -> None:
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
