"""What a `supervisor` command is, and the parts of the parser every command shares.

A command is declared once (`cli.commands`) as a `Command`: its name and help, whether it takes
-c/--config, and one `parts()` method that imports its module and names the function that adds
its arguments and the one that runs it.  That import happens only when the command is the one
given, so `supervisor run` and the client commands never load the tools (simulate, chaos,
report), the database (service) or psutil, and `supervisor --help` needs only the names and
the help texts.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, NoReturn

DEFAULT_CONFIG = "services.toml"
CONFIG_VARIABLE = "SUPERVISOR_CONFIG"  # the default of -c/--config when set
CONFIG_OPTIONS = ("-c", "--config")
CONFIG_HELP = (
    f"the services file (default: ${CONFIG_VARIABLE}, else the nearest {DEFAULT_CONFIG}"
    " in this directory or a parent)"
)


class ServicesFileNotFound(str):
    """The default of -c when no services file was found: the name messages would show, and
    the one line a command that needs the file prints instead of reading it (`Command.run`).
    A str, so that a command that does not need the file (`probe` with no NAME) never notices."""

    message: str

    def __new__(cls, message: str) -> ServicesFileNotFound:
        self = super().__new__(cls, DEFAULT_CONFIG)
        self.message = message
        return self


def default_config() -> str:
    """$SUPERVISOR_CONFIG, else the nearest services.toml in the current directory or one of
    its parents, as git finds .git: so every command works from anywhere under the project.
    The current directory's is named `services.toml`, as it always was; a parent's by its
    absolute path, so that every message names the file that was read."""
    if given := os.environ.get(CONFIG_VARIABLE):
        return given
    from pathlib import Path

    from supervisor.config.location import find_services_file

    try:
        here = Path.cwd()
    except OSError:  # the current directory was removed: reading the file says so
        return DEFAULT_CONFIG
    search = find_services_file(here)
    if search.found is None:
        return ServicesFileNotFound(search.not_found())
    return DEFAULT_CONFIG if search.found.parent == here else str(search.found)


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """-c/--config after the command.  Its default is left out of the namespace (SUPPRESS), so
    a -c given before the command, or the default the top-level parser sets, is kept unless
    this one is given: the later one wins, and neither clobbers the other."""
    parser.add_argument(
        *CONFIG_OPTIONS, default=argparse.SUPPRESS, metavar="FILE", help=CONFIG_HELP
    )


class CommandParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are JSON on stdout when the command line asks for
    JSON, as every other error of a `--json` command is (see `cli.errorjson`)."""

    def __init__(self, *args: Any, json_errors: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.json_errors = json_errors

    def error(self, message: str) -> NoReturn:
        if self.json_errors:
            from supervisor.cli.errorjson import error_object
            from supervisor.shared.exits import EXIT_USAGE

            print(json.dumps(error_object(f"{self.prog}: {message}", EXIT_USAGE), indent=2))
        super().error(message)  # usage and the message on stderr, exit 2


class Parts(NamedTuple):
    """Where a command's work is: the function that adds its arguments (None: it takes none
    but -c) and the one that runs it, `handler(args) -> exit status`.  A NamedTuple, not a
    dataclass: the dataclasses module (with the inspect module it imports) was a tenth of a
    client command's start-up."""

    handler: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


class Command:
    """One command; each subclass declares `name`, `help` and `parts`."""

    name: str
    help: str
    config_option = True  # -c/--config (`service` gives it to each of its actions)

    def parts(self) -> Parts:
        """Import the command's module; its handler and arguments."""
        raise NotImplementedError

    def needs_file(self, args: argparse.Namespace) -> bool:
        """Whether this command line reads the services file: when it does and none was
        found, the command says so in one line instead of starting."""
        return True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        if self.config_option:
            add_config_option(parser)
        arguments = self.parts().arguments
        if arguments is not None:
            arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        missing = getattr(args, "config", None)
        if isinstance(missing, ServicesFileNotFound) and self.needs_file(args):
            from supervisor.cli.errorjson import report_error
            from supervisor.shared.exits import EXIT_CONFIG_INVALID

            as_json = getattr(args, "json", False)
            return report_error(
                f"supervisor: {missing.message}", EXIT_CONFIG_INVALID, as_json=as_json
            )
        return self.parts().handler(args)


class PrintVersion(argparse.Action):
    """--version: the installed distribution's version, looked up only when asked for (the
    metadata machinery costs every other command's start-up otherwise)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version"
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("cinder-stack-supervisor")
        except PackageNotFoundError:  # a checkout that was never installed
            number = "unknown"
        print(f"supervisor {number}")  # on stdout, as argparse's own version action
        parser.exit()
