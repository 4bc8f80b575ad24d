"""The messages between the supervisor and a preload template: one JSON object per datagram
of a SOCK_SEQPACKET socket pair, with file descriptors alongside as SCM_RIGHTS.

Both sides use only `_socket`-level calls (sendmsg, recvmsg), so the template can speak it
after eventlet has patched the `socket` module, without ever creating a hub.

Supervisor → template:
  {"op": "fork", "id": N, "argv": [...], "env": {...}, "cwd": str|null, "title": str,
   "cgroup": bool}   with fds [stdin, stdout, stderr] (+ the unit's cgroup directory)
Template → supervisor:
  {"op": "ready", "modules": N, "seconds": S, "errors": {manager: text}}
  {"op": "broken", "error": text}                  the preload itself failed; it exits
  {"op": "forked", "id": N, "pid": P, "clone": "clone3-into-cgroup"|"clone3"|"clone",
   "error": text|null}                              error: its manager failed to import
  {"op": "stale", "id": N, "cause": text}          not forked: a module file changed
  {"op": "failed", "id": N, "error": text}         the fork itself failed
"""

from __future__ import annotations

import array
import json
import socket as _stdlib_socket
from typing import Any, Protocol

SOL_SOCKET = _stdlib_socket.SOL_SOCKET
SCM_RIGHTS = _stdlib_socket.SCM_RIGHTS
MAX_MESSAGE = 1 << 20  # an environment of any plausible size
MAX_FDS = 8
# The socket's file descriptor in the template, and the JSON of what it preloads.
SOCKET_FD_ENV = "SUPERVISOR_PRELOAD_FD"
CONFIG_ENV = "SUPERVISOR_PRELOAD"


class MessageSocket(Protocol):
    def sendmsg(self, buffers: Any, ancdata: Any = ..., /) -> int: ...

    def recvmsg(self, bufsize: int, ancbufsize: int = ..., /) -> Any: ...


def send(sock: MessageSocket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    ancillary = []
    if fds:
        ancillary = [(SOL_SOCKET, SCM_RIGHTS, array.array("i", fds).tobytes())]
    sock.sendmsg([json.dumps(message, separators=(",", ":")).encode()], ancillary)


def receive(sock: MessageSocket) -> tuple[dict[str, Any] | None, list[int]]:
    """The next message and the fds that came with it; (None, []) at end of file."""
    data, ancillary, _flags, _address = sock.recvmsg(
        MAX_MESSAGE, _stdlib_socket.CMSG_SPACE(MAX_FDS * 4)
    )
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == SOL_SOCKET and kind == SCM_RIGHTS:
            received = array.array("i")
            received.frombytes(payload[: len(payload) - len(payload) % received.itemsize])
            fds.extend(received)
    if not data:
        return None, fds
    return json.loads(data), fds
