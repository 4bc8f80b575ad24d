"""The `supervisor` command line: run a stack, check a file, and operate a running stack.

Every command is declared in `cli.commands`; this module parses, dispatches, and turns what
ends any command early into an exit status.  An expected condition is one line on stderr and
an exit status, never a traceback: output cut short by a closed pipe (`check --json | head`)
exits 141 in silence, as a command killed by SIGPIPE would; Ctrl-C exits 130.

Under a shell's completion hook (`_ARGCOMPLETE` set) the command line is completed instead of
run: argcomplete is imported then and only then, so no command's import set carries it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from supervisor.cli.commands import BY_NAME, command_named_in, parser_for, unknown_command
from supervisor.shared.exits import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    if "_ARGCOMPLETE" in os.environ:
        from supervisor.cli.completion import complete

        return complete()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = parser_for(argv)
        chosen = command_named_in(argv)
        if chosen is not None and chosen not in BY_NAME:
            parser.error(unknown_command(chosen))
        args = parser.parse_args(argv)
        return BY_NAME[args.command].run(args)
    except KeyboardInterrupt:
        print("supervisor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (`| head`). Point stdout at /dev/null so that the
        # interpreter's final flush does not complain a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
