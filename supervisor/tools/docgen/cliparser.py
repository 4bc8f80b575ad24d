"""The `supervisor` command line as data, read from the parser `cli.main` itself parses with.

Only the argparse parser is read (its actions, groups and subparsers), never the command
table that builds it, so the reference follows however the commands come to be declared.
`cli.commands.parser_for` adds a command's arguments only when the command line names it;
each command's full parser is asked for by its name.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from supervisor.cli.commands import parser_for

# Actions that take no value: their default is not worth showing (`False` for a flag).
_NO_VALUE = (
    argparse._StoreTrueAction,
    argparse._StoreFalseAction,
    argparse._StoreConstAction,
    argparse.BooleanOptionalAction,
    argparse._AppendConstAction,
    argparse._CountAction,
    argparse._HelpAction,
    argparse._VersionAction,
)


@dataclass(frozen=True)
class Argument:
    names: tuple[str, ...]  # the option strings; () for a positional argument
    value: str  # what follows the option, or the positional's own form: "FILE", "[NAME ...]"
    help: str
    default: str | None  # the default worth showing, as the command line would write it
    choices: tuple[str, ...]
    required: bool
    repeatable: bool

    @property
    def positional(self) -> bool:
        return not self.names

    @property
    def label(self) -> str:
        """How the argument is written: `-c FILE, --config FILE`, or `NAME ...`."""
        if self.positional:
            return self.value
        return ", ".join(f"{name} {self.value}".strip() for name in self.names)


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # ("supervisor",), ("supervisor", "service", "list")
    synopsis: str  # the usage line, on one line
    summary: str  # one line: the help the parent lists it with
    description: str
    epilog: str
    arguments: tuple[Argument, ...]
    subcommands: tuple[Command, ...]

    @property
    def name(self) -> str:
        return " ".join(self.words)

    def walk(self) -> list[Command]:
        """This command and every subcommand, depth first, in the parser's order."""
        return [self, *(command for sub in self.subcommands for command in sub.walk())]


def command_line() -> Command:
    """The whole `supervisor` command line: the top-level parser, every command with all its
    arguments, and the subcommands of those that have some."""
    top = parser_for([])
    subparsers = _subparsers(top)
    full = {name: _subparsers(parser_for([name])).choices[name] for name in subparsers.choices}
    return _command(top, ("supervisor",), "", full)


def _command(
    parser: argparse.ArgumentParser,
    words: tuple[str, ...],
    summary: str,
    replacements: dict[str, argparse.ArgumentParser] | None = None,
) -> Command:
    arguments = tuple(
        _argument(action, parser.prog)
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and action.help != argparse.SUPPRESS
    )
    subcommands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                chosen = (replacements or {}).get(name, sub)
                subcommands.append(_command(chosen, (*words, name), helps.get(name, "")))
    description = parser.description or ""
    return Command(
        words=words,
        synopsis=_synopsis(parser),
        summary=summary or description,
        description=description,
        epilog=parser.epilog or "",
        arguments=arguments,
        subcommands=tuple(subcommands),
    )


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _synopsis(parser: argparse.ArgumentParser) -> str:
    """argparse's own usage line, at a width that never wraps it (the terminal's must not
    change the page)."""
    formatter = argparse.HelpFormatter(parser.prog, width=10_000)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, "")
    return " ".join(formatter.format_help().split())


def _argument(action: argparse.Action, prog: str) -> Argument:
    help_text = action.help or ""
    if "%" in help_text:  # argparse's own expansion: %(default)s, %(prog)s
        help_text = help_text % {**vars(action), "prog": prog}
    return Argument(
        names=tuple(action.option_strings),
        value=_value(action),
        help=help_text,
        default=_default(action, help_text),
        choices=tuple(str(choice) for choice in action.choices or ()),
        required=action.required and bool(action.option_strings),
        repeatable=isinstance(action, argparse._AppendAction),
    )


def _value(action: argparse.Action) -> str:
    if isinstance(action, _NO_VALUE):
        return ""
    if action.metavar is not None:
        metavar = action.metavar if isinstance(action.metavar, str) else " ".join(action.metavar)
    elif action.choices is not None:
        metavar = "{" + ",".join(str(choice) for choice in action.choices) + "}"
    else:
        metavar = action.dest if not action.option_strings else action.dest.upper()
    nargs = action.nargs
    if nargs == argparse.OPTIONAL:
        return f"[{metavar}]"
    if nargs == argparse.ZERO_OR_MORE:
        return f"[{metavar} ...]"
    if nargs == argparse.ONE_OR_MORE:
        return f"{metavar} [{metavar} ...]"
    if isinstance(nargs, int):
        return " ".join([metavar] * nargs)
    return metavar


def _default(action: argparse.Action, help_text: str) -> str | None:
    """The default as a user would type it, or None when there is nothing to show: a flag,
    no default, or a help text that says the default in its own words (a computed one, such
    as the services file found from the current directory)."""
    default = action.default
    if isinstance(action, _NO_VALUE) or default is None or default == argparse.SUPPRESS:
        return None
    if "default" in help_text or isinstance(default, list | tuple | dict):
        return None
    return str(default)
