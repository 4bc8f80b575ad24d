"""The child's end of the sd_notify protocol: datagrams such as READY=1 to NOTIFY_SOCKET.

Without NOTIFY_SOCKET (a service started by hand) every call is a no-op, so the same code runs
under the supervisor, under systemd, or in a terminal.
"""

from __future__ import annotations

import os
import socket
import time

import structlog

ENV_VAR = "NOTIFY_SOCKET"

log = structlog.get_logger()


class Notifier:
    def __init__(self, address: str | None) -> None:
        # '@' names Linux's abstract socket namespace, spelled with a leading NUL byte.
        self._address = "\0" + address[1:] if address and address[0] == "@" else address
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) if address else None

    @classmethod
    def from_environ(cls) -> Notifier:
        # Taken out of the environment so that programs the manager runs do not report to the
        # supervisor as if they were this service.
        return cls(os.environ.pop(ENV_VAR, None))

    def send(self, *assignments: str, block: bool = True) -> None:
        """Send one datagram of `KEY=value` lines; failures are logged, never raised.

        A full queue at the supervisor's end (a few datagrams on Linux) makes a send wait until
        the supervisor reads; with `block=False` the datagram is dropped instead.
        """
        if self._socket is None:
            return
        flags = 0 if block else socket.MSG_DONTWAIT
        try:
            self._socket.sendto("\n".join(assignments).encode(), flags, self._address)
        except BlockingIOError:
            pass
        except OSError as error:
            log.warning("cannot notify the supervisor", error=str(error))

    def keepalive(self) -> None:
        """WATCHDOG=1, never waited for: a heartbeat thread blocked on a supervisor that is not
        reading would also hold up the service's stop, and the next keep-alive is due soon."""
        self.send("WATCHDOG=1", block=False)

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def reloading(self) -> None:
        monotonic_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.send("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec}", "STATUS=Reloading")

    def stopping(self) -> None:
        self.send("STOPPING=1", "STATUS=Stopping")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
