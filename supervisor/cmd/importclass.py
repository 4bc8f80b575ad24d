"""`python -m supervisor.cmd.importclass PATH --runtime stack|openstack`: import one manager
class as a service process would, and exit 0, or print why not on stderr and exit 1.

Used by `supervisor check --import`; nothing else of the service runs.
"""

import argparse
import sys

from supervisor.shared.exits import EXIT_FAILED
from supervisor.shared.servicespec import OPENSTACK_RUNTIME, STACK_RUNTIME

parser = argparse.ArgumentParser(prog="python -m supervisor.cmd.importclass")
parser.add_argument("manager", help="a dotted class path")
parser.add_argument("--runtime", choices=(STACK_RUNTIME, OPENSTACK_RUNTIME), default=STACK_RUNTIME)
args = parser.parse_args()
if args.runtime == OPENSTACK_RUNTIME:
    # What a Cinder binary has done before its manager's module is imported.
    from cinder import monkey_patch

    monkey_patch.patch()
    from cinder import objects

    objects.register_all()

from supervisor.runtime.loader import ManagerLoadError, import_manager_class  # noqa: E402

try:
    import_manager_class(args.manager)
except ManagerLoadError as error:
    print(error, file=sys.stderr)
    raise SystemExit(EXIT_FAILED) from None
