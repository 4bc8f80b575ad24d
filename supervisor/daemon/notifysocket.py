"""The parent's end of the sd_notify protocol: one datagram socket, senders known by pid.

Children find it through NOTIFY_SOCKET (an abstract-namespace name, so no path length limit
and nothing to clean up).  SO_PASSCRED makes the kernel attach the sender's pid to every
datagram, which is how a message is matched to its unit, as systemd does.
"""

from __future__ import annotations

import os
import re
import socket
import struct

_UCRED = struct.Struct("3i")  # pid, uid, gid
_VARIABLE = re.compile(r"[A-Z][A-Z0-9_]*")


class NotifyListener:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK)
        name = f"supervisor/{os.getpid()}/{os.urandom(6).hex()}"
        self.sock.bind("\0" + name)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.address = "@" + name  # the NOTIFY_SOCKET value

    def receive(self) -> list[tuple[int, dict[str, str]]]:
        """Every datagram waiting, as (sender pid, {KEY: value})."""
        messages = []
        while True:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(_UCRED.size))
            except BlockingIOError:
                return messages
            pid = next(
                (
                    _UCRED.unpack(payload[: _UCRED.size])[0]
                    for level, kind, payload in ancillary
                    if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS
                ),
                0,
            )
            # Only sd_notify's upper-case variables: a line such as `unit=x` or `event=x` would
            # otherwise become, or collide with, a field of the event that reports it.
            fields = {
                key: value
                for key, equals, value in (
                    line.partition("=") for line in data.decode(errors="replace").splitlines()
                )
                if equals and _VARIABLE.fullmatch(key)
            }
            messages.append((pid, fields))

    def close(self) -> None:
        self.sock.close()
