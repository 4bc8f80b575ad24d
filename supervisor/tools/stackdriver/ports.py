"""Before a copy of a stack starts beside the original: the ports the copy would take twice.

`chaos` and the pytest plugin run a copy of a services file with its own state directory, but
the copy's programs are the original's, with the same arguments: a service that listens on a
fixed port (`http.server 8776`) would find it taken by the original and die with "Address
already in use".  Ports are inside each program's arguments or its own configuration, so they
cannot be rewritten in general; instead the copy is refused, naming the service and the port,
when the original stack is running and one of its processes listens where the copy's identical
process would.  A process the copy runs differently (another command, environment or
directory, e.g. through the plugin's overrides) is not judged.
"""

from __future__ import annotations

from pathlib import Path

import psutil

from supervisor.config import ConfigError, ProcessPlan, load, state_dir_of
from supervisor.control.client import ControlClient


class PortsHeld(RuntimeError):
    """The original stack holds ports that the copy would bind again."""


def _runs_alike(original: ProcessPlan, copy: ProcessPlan) -> bool:
    mine, theirs = original.settings, copy.settings
    return (
        original.argv == copy.argv and mine.env == theirs.env and mine.directory == theirs.directory
    )


def _listening(pid: int) -> list[str]:
    """`host:port` of every socket the process, or any of its descendants, listens on."""
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.Error:
        return []
    found = []
    for process in family:
        try:
            # net_connections since psutil 6; the old name still works on 5.9.
            list_connections = getattr(process, "net_connections", None) or process.connections
            connections = list_connections(kind="inet")
        except psutil.Error:
            continue
        for connection in connections:
            # TCP listens; a bound UDP socket has no state and no peer.
            if connection.status == psutil.CONN_LISTEN or (
                connection.status == psutil.CONN_NONE and connection.laddr and not connection.raddr
            ):
                found.append(f"{connection.laddr.ip}:{connection.laddr.port}")
    return sorted(set(found))


def held_ports(source: Path, copy: Path) -> list[str]:
    """One line per process of the copy whose twin in the running original listens on a port.
    Empty when the original is not running or nothing would collide."""
    try:
        original = {process.name: process for process in load(source).processes}
        copies = {process.name: process for process in load(copy).processes}
        state_dir = state_dir_of(source)
    except ConfigError:
        return []  # the copy's own start reports what is wrong with the file
    try:
        with ControlClient(state_dir, timeout=5) as client:
            reply = client.request("status", names=[])
    except (OSError, TimeoutError):
        return []  # no original running here
    held = []
    for process in reply.get("processes", []):
        name, pid = process.get("name"), process.get("pid")
        if not pid or name not in copies or name not in original:
            continue
        if not _runs_alike(original[name], copies[name]):
            continue
        for address in _listening(pid):
            held.append(f"{name} (pid {pid}) listens on {address}")
    return held


def refuse_held_ports(source: Path, copy: Path) -> None:
    """Raise PortsHeld, with what to do about it, when the copy would collide."""
    held = held_ports(source, copy)
    if held:
        raise PortsHeld(
            f"a stack from {source} is running, and a copy would bind its ports again"
            " (Address already in use): "
            + "; ".join(held)
            + f". Stop it first (supervisor shutdown -c {source}),"
            " or run the copy's service with another port."
        )
