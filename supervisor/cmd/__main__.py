"""`python -m supervisor.cmd --binary NAME`: how the supervisor starts every manager process.

The supervisor always execs this module, never a script in `bin/` named like the binary: pip
lets whichever distribution was installed last own `bin/cinder-volume`, and Cinder's own script
would ignore the spawn-time spec.  An OpenStack child must monkey patch eventlet before anything
creates a lock, so the dispatch (`cmd.dispatch`, which a preload template's fork runs too)
imports nothing beyond argument and JSON parsing until it knows which runtime the process serves.
"""

import sys

from supervisor.cmd.dispatch import run

raise SystemExit(run(sys.argv[1:]))
