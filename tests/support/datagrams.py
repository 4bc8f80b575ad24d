"""Datagram inboxes: what a service process (NOTIFY_SOCKET) or a test manager sends, received."""

from __future__ import annotations

import socket
import time
import uuid

from tests.support.waiting import TIMEOUT


class Inbox:
    """A datagram socket in the abstract namespace; `address` is its '@name' spelling."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"runtime-test/{uuid.uuid4().hex}"
        self.sock.bind("\0" + name)
        self.address = "@" + name
        self.seen: list[str] = []

    def expect(self, wanted: str, timeout: float = TIMEOUT) -> list[str]:
        """Receive until a message holding the line `wanted`; return the messages up to it."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {wanted!r} within {timeout}s; received: {self.seen}")
            self.sock.settimeout(remaining)
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            self.seen.append(message)
            if wanted in message.splitlines():
                return self.seen[start:]

    def pending(self) -> list[str]:
        """Every message already delivered; local datagrams arrive as `sendto` returns."""
        messages = []
        self.sock.setblocking(False)
        try:
            while True:
                messages.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            pass
        self.seen.extend(messages)
        return messages

    def close(self) -> None:
        self.sock.close()
