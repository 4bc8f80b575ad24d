"""`python -m supervisor.cmd --binary NAME`: how the supervisor starts every manager process.

The supervisor always execs this module, never a script in `bin/` named like the binary: pip
lets whichever distribution was installed last own `bin/cinder-volume`, and Cinder's own script
would ignore the spawn-time spec.  An OpenStack child must monkey patch eventlet before anything
creates a lock, so this dispatch imports nothing beyond argument and JSON parsing (setproctitle
would bring threading and logging in) until it knows which runtime the process serves.
"""

import argparse

from supervisor.shared.servicespec import OPENSTACK_RUNTIME, ServiceSpec

parser = argparse.ArgumentParser(prog="python -m supervisor.cmd", add_help=False)
parser.add_argument("--binary", required=True, help="the service's binary name, e.g. cinder-foo")
known, rest = parser.parse_known_args()
spec = ServiceSpec.from_env()
if spec is not None and spec.runtime == OPENSTACK_RUNTIME:
    from supervisor.runtime.openstack.child import main as serve_openstack

    raise SystemExit(serve_openstack(spec, known.binary))

from setproctitle import setproctitle  # noqa: E402

from supervisor.cmd.entry import kind_of, main  # noqa: E402

# Until the service knows its host, `ps` should at least show which binary this is.
setproctitle(known.binary)
raise SystemExit(main(kind_of(known.binary), rest, binary=known.binary))
