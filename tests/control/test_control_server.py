"""The control server and the loop in this process, with real sockets: replies far larger than
any socket buffer, handlers that raise, callbacks that raise."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from supervisor.control.client import ControlClient
from supervisor.control.protocol import Request, Status
from supervisor.daemon.loop import Loop
from tests.support.controlserver import Serve

BIG = 8 * 1024 * 1024  # far beyond the few hundred KB a UNIX socket buffers


def test_a_reply_larger_than_the_socket_buffer_arrives_whole(serve: Serve, tmp_path: Path):
    def big_status(connection: Any, request: Request) -> None:
        assert isinstance(request, Status)
        connection.reply({"ok": True, "padding": "x" * BIG, "names": list(request.names)})

    serve(big_status)
    with ControlClient(tmp_path, timeout=30) as client:
        for _ in range(2):  # the connection stays usable after a streamed reply
            reply = client.request("status", names=["a"])
            assert len(reply["padding"]) == BIG
            assert reply["names"] == ["a"]


def test_a_handler_that_raises_is_an_error_reply_and_an_error_event(serve: Serve, tmp_path: Path):
    calls = []

    def flaky(connection: Any, request: Request) -> None:
        calls.append(request)
        if len(calls) == 1:
            raise KeyError("a bug in a handler")
        connection.reply({"ok": True})

    served = serve(flaky)
    with ControlClient(tmp_path, timeout=30) as client:
        failed = client.request("status")
        assert failed["ok"] is False
        assert failed["error"].startswith("internal error: KeyError: 'a bug in a handler'")
        assert client.request("status") == {"ok": True}
    ((event, fields),) = served.reports
    assert (event, fields["where"]) == ("error", "control request status")
    assert "KeyError: 'a bug in a handler'" in fields["traceback"]
    assert "in flaky" in fields["traceback"]


def test_a_failing_callback_goes_to_on_error_and_the_loop_serves_on():
    loop = Loop()
    failures: list[Exception] = []
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("broken timer")

    loop.call_later(0, broken)
    loop.call_later(0, lambda: ran.append("after"))
    loop.run(until=lambda: bool(ran), on_error=lambda error, callback: failures.append(error))
    loop.close()
    assert [str(error) for error in failures] == ["broken timer"]
    assert ran == ["after"]


def test_an_error_handler_that_raises_ends_the_loop():
    loop = Loop()
    loop.call_later(0, lambda: 1 / 0)

    def give_up(error: Exception, callback: Callable[[], None]) -> None:
        raise RuntimeError("invariant broken") from error

    with pytest.raises(RuntimeError, match="invariant broken"):
        loop.run(until=lambda: False, on_error=give_up)
    loop.close()


def test_reading_and_writing_the_same_descriptor():
    loop = Loop()
    left, right = socket.socketpair()
    left.setblocking(False)
    seen: list[str] = []

    def writable() -> None:
        seen.append("writable")
        loop.remove_writer(left.fileno())
        right.send(b"ping")

    def readable() -> None:
        seen.append(left.recv(16).decode())
        loop.remove_reader(left.fileno())

    loop.add_reader(left.fileno(), readable)
    loop.add_writer(left.fileno(), writable)
    loop.run(until=lambda: len(seen) == 2)
    loop.close()
    left.close()
    right.close()
    assert seen == ["writable", "ping"]
