"""`supervisor ui`: watch and steer a running stack in the terminal.

Exit statuses (docs/guides/terminal-ui.md): 0 on `q`; 130 on Ctrl-C (as every command);
3 when the supervisor goes away (it shut down, or the connection broke), with one line on
stderr saying which; 129 when its terminal closes (SIGHUP: a closed window, `tmux
kill-pane`), silently; 2 without a terminal or without urwid (the `ui` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from supervisor.cli.remote import asks_the_supervisor
from supervisor.shared.exits import EXIT_USAGE
from supervisor.shared.logfiles import colour_wanted


def add_ui_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments of its own: the stack is the services file's (-c)."""


@asks_the_supervisor
def run_ui(args: argparse.Namespace, state_dir: Path) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("supervisor ui: needs a terminal (stdin and stdout)", file=sys.stderr)
        return EXIT_USAGE
    try:
        from supervisor.ui.screen import Screen
    except ImportError as error:
        print(
            f"supervisor ui: {error}; install the `ui` extra: pip install "
            "'cinder-stack-supervisor[ui]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    screen = Screen(state_dir, Path(args.config), colour=colour_wanted(sys.stdout.fileno()))
    screen.run()  # KeyboardInterrupt: `cli.main` says so and exits 130
    if screen.final_message:
        print(f"supervisor: {screen.final_message}", file=sys.stderr)
    return screen.exit_status
