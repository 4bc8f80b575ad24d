"""The first code an OpenStack child runs: eventlet's monkey patching, before anything else.

Cinder's binaries patch on their first line, because a lock or a thread created before the patch
stays a native one that green threads then deadlock on.  The supervisor's entry module imports
only argparse, json and dataclasses before calling `main`, and `main` patches through Cinder's own
`monkey_patch` (which honours OS_CINDER_DISABLE_EVENTLET_PATCHING) before it imports the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from supervisor.shared.servicespec import ServiceSpec


def main(spec: ServiceSpec, binary: str) -> int:
    from cinder import monkey_patch

    monkey_patch.patch()

    from supervisor.runtime.openstack.serve import serve

    return serve(spec, binary)
