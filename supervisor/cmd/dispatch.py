"""Which runtime serves a manager process, from its argv and the spec in its environment.

Shared by `python -m supervisor.cmd` (an exec'd process) and a preload template's fork, so a
forked process runs exactly what an exec'd one would.  Imports nothing beyond argument and
JSON parsing until it knows the runtime (an OpenStack child patches eventlet first).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from supervisor.shared.servicespec import OPENSTACK_RUNTIME, ServiceSpec


def run(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m supervisor.cmd", add_help=False)
    parser.add_argument("--binary", required=True, help="the service's binary name")
    known, rest = parser.parse_known_args(list(argv))
    spec = ServiceSpec.from_env()
    if spec is not None and spec.runtime == OPENSTACK_RUNTIME:
        from supervisor.runtime.openstack.child import main as serve_openstack

        return serve_openstack(spec, known.binary)

    from setproctitle import setproctitle

    from supervisor.cmd.entry import kind_of, main

    # Until the service knows its host, `ps` should at least show which binary this is.
    setproctitle(known.binary)
    return main(kind_of(known.binary), rest, binary=known.binary)
