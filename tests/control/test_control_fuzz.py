"""Property: no request line, however malformed, harms a running supervisor.

Random JSON for every field of every command, and random bytes, each sent on its own
connection to a real supervisor.  Every reply must be one well-formed JSON line, no handler may
raise (no `error` event), and afterwards the supervisor still answers with its services
untouched.  Requests that are valid *and* act on the stack (a shutdown, `--all`, the stack's own
names) are left out: they would do what they say.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervisor.control.address import SOCKET_NAME
from supervisor.control.protocol import COMMANDS
from supervisor.shared.faults import KINDS
from tests.support.controlserver import read_to_end
from tests.support.stackcli import ReadyStack, cli, status_of

SERVICE = "fuzz-target"
STACK = f"""
[services.{SERVICE}]
command = ["sleep", "1000"]
start_seconds = 0
workers = 2
"""
EXAMPLES = 300

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
fault_arguments = st.dictionaries(
    st.sampled_from(["code", "count", "seconds", "signal", "event", "unit", "timestamp"])
    | st.text(max_size=8),
    json_values,
    max_size=3,
)
# Each known field: a plausible value or any JSON value at all.
fields = {
    "names": st.lists(st.text(max_size=12), max_size=3) | json_values,
    "all": st.booleans() | json_values,
    "condition": st.sampled_from(["ready", "stopped", "exit"]) | json_values,
    "name": st.text(max_size=12) | json_values,
    "kind": st.sampled_from(KINDS) | json_values,
    "arguments": fault_arguments | json_values,
}
requests = st.fixed_dictionaries(
    {"command": st.sampled_from(COMMANDS) | st.text(max_size=12) | json_values},
    optional={**fields, "extra": json_values},
)


def acts_on_the_stack(request: Any) -> bool:
    """Conservatively: could this request change the services if it were valid?"""
    if not isinstance(request, dict):
        return False
    command = request.get("command")
    if command == "shutdown":
        return True
    if command in ("start", "stop", "restart") and request.get("all"):
        return True
    return SERVICE in json.dumps(request)


def send(state_socket: str, payload: bytes) -> list[dict]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(state_socket)
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        answer = read_to_end(sock)
    assert not answer or answer.endswith(b"\n"), answer[-200:]
    replies = [json.loads(line) for line in answer.splitlines()]
    for reply in replies:
        assert isinstance(reply, dict) and isinstance(reply["ok"], bool), reply
        assert reply["ok"] or isinstance(reply["error"], str), reply
    return replies


def test_no_request_harms_the_supervisor(ready_stack: ReadyStack):
    stack = ready_stack(STACK)
    path = str(stack.config.parent / "state" / SOCKET_NAME)
    before = status_of(stack.config)
    fuzz = settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # nothing written into the working tree
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )

    @fuzz
    @given(request=requests | json_values)
    def json_requests(request: Any) -> None:
        if acts_on_the_stack(request):
            return
        text = json.dumps(request)  # NaN and Infinity too: Python's JSON reads them
        replies = send(path, text.encode() + b"\n")
        # A wait that holds is answered; one that does not yet ends with the connection.
        waits = isinstance(request, dict) and request.get("command") == "wait"
        assert len(replies) == 1 or (waits and not replies)

    @fuzz
    @given(payload=st.binary(max_size=300))
    def raw_bytes(payload: bytes) -> None:
        if SERVICE.encode() in payload or b"shutdown" in payload:
            return
        lines = [line for line in payload.split(b"\n") if line.strip()]
        assert len(send(path, payload + b"\n")) <= len(lines)

    json_requests()
    raw_bytes()

    assert stack.process.poll() is None
    after = status_of(stack.config)
    assert {n: (p["pid"], p["state"], p["restarts"]) for n, p in after.items()} == {
        n: (p["pid"], p["state"], p["restarts"]) for n, p in before.items()
    }
    assert not stack.select(event="error"), stack.select(event="error")
    assert not stack.select(event="group")
    assert cli(stack.config, "status").returncode == 0
