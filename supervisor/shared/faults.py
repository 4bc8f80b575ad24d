"""Fault injection's wire, known to both sides: where a process listens, what it can be asked.

The supervisor (`daemon/faultinjector.py`) sends; the service runtime (`runtime/faultlistener.py`)
listens on the socket and reads the start fault from its environment.
"""

from __future__ import annotations

FAULT_SOCKET_ENV = "SUPERVISOR_FAULT_SOCKET"
START_FAULT_ENV = "SUPERVISOR_START_FAULT"

SIGNAL_FAULTS = ("kill", "stop", "cont")
CHILD_FAULTS = ("exit", "raise", "hang-heartbeat", "not-working")
START_FAULTS = ("crash-on-start", "slow-start")
KINDS = SIGNAL_FAULTS + CHILD_FAULTS + START_FAULTS


def fault_socket_address(notify_address: str, process: str) -> str:
    """The abstract socket a manager process listens on for faults: unique per supervisor."""
    return f"{notify_address}/fault/{process}"
