"""The repository's real-Cinder example, copied onto free loopback ports.

Used by the tests and `scripts/bench openstack`, which run the example beside a developer's own
copy of it (or beside each other): every fixed port in its services.toml and cinder.conf is
replaced by a free one.
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "openstack"
# The example's fixed ports: AMQP, Erlang distribution, epmd, the volume API.
PORTS = {"amqp": 5682, "dist": 25682, "epmd": 4382, "api": 8786}
CONFIG_FILES = ("services.toml", "cinder.conf")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def copy_example(destination: Path, source: Path = EXAMPLE) -> dict[str, int]:
    """Copy the example (without its state) to `destination`; return the ports it now uses."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".supervisor"))
    ports = {name: free_port() for name in PORTS}
    for name in CONFIG_FILES:
        path = destination / name
        text = path.read_text()
        for key, port in PORTS.items():
            text = re.sub(rf"\b{port}\b", str(ports[key]), text)
        path.write_text(text)
    return ports
