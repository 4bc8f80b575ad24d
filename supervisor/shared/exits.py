"""Every exit status the package gives, in one place: its command line's, the supervisor's
group's own, and a service process's.

Both sides of the process boundary read it (the supervisor judges a child by the child's
statuses), so it imports nothing.  Where a value has a meaning elsewhere, it keeps it: 2 is a
usage error as argparse's, 3 is "not running" as systemctl's, 124 is timeout(1)'s, 128 + N is
"killed by signal N" as a shell reports it, 70 and 78 are sysexits.h's.
docs/reference/exit-statuses.md and docs/guides/command-line.md say when each one is given.
"""

from __future__ import annotations

EXIT_OK = 0  # done: the command did what it was asked, the condition holds

# -- the `supervisor` command line -----------------------------------------------------------------
EXIT_FAILED = 1  # the request was refused or its condition can no longer hold
EXIT_ALREADY_RUNNING = 1  # `run`: another supervisor holds the state directory's lock
EXIT_CONFIG_INVALID = 2  # the services file is invalid (as a usage error is, for argparse)
EXIT_USAGE = 2  # a usage error: an unknown command, option or value; a name the file lacks
EXIT_NOT_RUNNING = 3  # no supervisor is running for the file (as systemctl)
EXIT_TIMEOUT = 124  # --timeout passed first (as timeout(1))
EXIT_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C, as a shell reports it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of stdout went away

# -- the supervisor's group ----------------------------------------------------------------------
EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE: the supervisor's own invariants broke

# -- a service process (the child) -----------------------------------------------------------------
EXIT_START_FAILED = 1  # its start failed; a restart may heal it
EXIT_UNHANDLED = 2  # an exception escaped the service loop
# No restart can heal it (its manager cannot be imported or built, an option is missing): the
# default `prevent_exit_codes` of a manager service.  EX_CONFIG.
EXIT_CONFIG = 78
