"""`tcp` and `http` probe runs: non-blocking sockets registered on the supervisor's loop.

Nothing here ever blocks the loop: the address is an IP literal (or localhost, which the
configuration allows instead of a name lookup), the connect is non-blocking and its outcome is
read when the socket turns writable, the request is one small send into an empty socket buffer,
and the answer is read as it comes.  A `tcp` run is healthy once a connection is accepted; an
`http` run once the status line of the answer says 2xx or 3xx (nothing past it is read).  The
runner's timeout aborts a run whose server never answers: the socket is closed, that is all.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from urllib.parse import urlsplit

from supervisor.daemon.loop import Loop
from supervisor.daemon.probes.runner import Done

MAX_STATUS_LINE = 8192  # an answer whose first line is longer is not HTTP


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    host = "127.0.0.1" if host == "localhost" else host
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return family, (host, port)


class TcpCheck:
    def __init__(self, loop: Loop, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._loop = loop
        self._family, self._address = _address(host.strip("[]"), int(port))
        self._socket: socket.socket | None = None
        self._done: Done | None = None

    def begin(self, done: Done) -> None:
        sock = socket.socket(self._family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        error = sock.connect_ex(self._address)
        if error not in (0, errno.EINPROGRESS):
            sock.close()
            done(_describe(error))
            return
        self._socket, self._done = sock, done
        self._loop.add_writer(sock.fileno(), self._on_connect)

    def abort(self) -> None:
        if self._socket is not None:
            fd = self._socket.fileno()
            self._loop.remove_writer(fd)
            self._loop.remove_reader(fd)
            self._socket.close()
            self._socket = None
            self._done = None

    def _on_connect(self) -> None:
        assert self._socket is not None
        self._loop.remove_writer(self._socket.fileno())
        error = self._socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            self._finish(_describe(error))
        else:
            self._connected(self._socket)

    def _connected(self, sock: socket.socket) -> None:
        self._finish(None)

    def _finish(self, why: str | None) -> None:
        done = self._done
        self.abort()
        assert done is not None
        done(why)


class HttpCheck(TcpCheck):
    def __init__(self, loop: Loop, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        super().__init__(loop, f"[{host}]:{parts.port or 80}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._request = (
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "User-Agent: supervisor-probe\r\nConnection: close\r\n\r\n"
        ).encode()
        self._answer = b""

    def _connected(self, sock: socket.socket) -> None:
        self._answer = b""
        try:
            sock.send(self._request)  # a fresh socket's buffer takes a few hundred bytes at once
        except OSError as error:
            self._finish(_describe(error.errno or 0))
            return
        self._loop.add_reader(sock.fileno(), self._on_readable)

    def _on_readable(self) -> None:
        assert self._socket is not None
        try:
            data = self._socket.recv(4096)
        except BlockingIOError:
            return
        except OSError as error:
            self._finish(_describe(error.errno or 0))
            return
        self._answer += data
        line, found, _ = self._answer.partition(b"\r\n")
        if not found and data and len(self._answer) <= MAX_STATUS_LINE:
            return  # the status line is still coming
        self._finish(_judge(line, closed=not data))


def _judge(status_line: bytes, *, closed: bool) -> str | None:
    if not status_line and closed:
        return "connection closed without an answer"
    words = status_line.split()
    if len(words) < 2 or not words[0].startswith(b"HTTP/") or not words[1].isdigit():
        return "not an HTTP answer"
    status = int(words[1])
    return None if 200 <= status < 400 else f"status {status}"


def _describe(error: int) -> str:
    with contextlib.suppress(ValueError):
        return os.strerror(error).lower()
    return f"error {error}"
