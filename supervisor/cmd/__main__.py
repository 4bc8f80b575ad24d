"""`python -m supervisor.cmd --binary cinder-foo`: a manager service with no console script."""

import argparse

from setproctitle import setproctitle

from supervisor.cmd.entry import SINGLE_SERVICE, main

parser = argparse.ArgumentParser(prog="python -m supervisor.cmd", add_help=False)
parser.add_argument("--binary", required=True, help="the service's binary name, e.g. cinder-foo")
known, rest = parser.parse_known_args()
# Until the service knows its host, `ps` should at least show which binary this is.
setproctitle(known.binary)
raise SystemExit(main(SINGLE_SERVICE, rest, binary=known.binary))
