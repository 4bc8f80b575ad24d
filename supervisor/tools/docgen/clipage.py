"""docs/reference/cli.md: every command, its synopsis and its arguments, from the parser.

Each command is a `##` heading (`supervisor status`, `supervisor service list`), so its anchor
is `#supervisor-status`, `#supervisor-service-list`.
"""

from __future__ import annotations

from supervisor.tools.docgen.cliparser import Argument, Command, command_line
from supervisor.tools.docgen.markdown import code, page, plain, slug, table
from supervisor.tools.docgen.prose import sentence

PATH = "docs/reference/cli.md"


def render() -> str:
    top = command_line()
    commands = [command for command in top.walk() if command is not top]
    return page(
        "Command line reference",
        "Every `supervisor` command, with its synopsis and every argument, as the command's"
        " own parser declares them: `supervisor COMMAND --help` prints the same."
        " `python -m supervisor` is the same command. The exit statuses are listed in"
        " [Exit statuses](exit-statuses.md).",
        _section(top, ()),
        "## Commands",
        table(
            ("command", "what it does"),
            ((f"[{code(c.name)}](#{slug(c.name)})", _sentence(c.summary)) for c in commands),
        ),
        *(_section(command, _global_options(top)) for command in commands),
    )


def _global_options(top: Command) -> tuple[Argument, ...]:
    """The top-level options a command also takes after its name (`-c FILE`): documented
    once, at the top, and named in each command's section."""
    return tuple(
        argument
        for argument in top.arguments
        if not argument.positional and argument.names != ("-h", "--help")
    )


def _section(command: Command, global_options: tuple[Argument, ...]) -> str:
    parts = [
        f"## {command.name}",
        f"```text\n{command.synopsis}\n```",
        _sentence(command.description or command.summary),
    ]
    if command.subcommands and global_options:
        names = ", ".join(
            f"[{code(sub.words[-1])}](#{slug(sub.name)})" for sub in command.subcommands
        )
        parts.append(f"Subcommands: {names}.")
    shown = [
        a for a in command.arguments if a.names != ("-h", "--help") and a not in global_options
    ]
    if shown:
        with_defaults = any(argument.default is not None for argument in shown)
        headers = ("argument", "meaning", "default") if with_defaults else ("argument", "meaning")
        parts.append(
            table(
                headers,
                (
                    (code(argument.label), _meaning(argument), _default(argument))[: len(headers)]
                    for argument in shown
                ),
            )
        )
    also = [argument for argument in command.arguments if argument in global_options]
    if also:
        labels = ", ".join(code(argument.label) for argument in also)
        parts.append(f"Also takes {labels} (see [supervisor](#supervisor)).")
    if command.epilog:
        parts.append(_sentence(command.epilog))
    return "\n\n".join(part for part in parts if part)


def _meaning(argument: Argument) -> str:
    """The help as written (lower case, as `--help` shows it), then what the parser adds."""
    notes = [plain(" ".join(argument.help.split()))]
    listed = all(choice in argument.help for choice in argument.choices)
    if argument.choices and not argument.value.startswith("{") and not listed:
        notes.append("one of " + ", ".join(code(choice) for choice in argument.choices))
    if argument.required:
        notes.append("required")
    if argument.repeatable and "repeat" not in argument.help:
        notes.append("repeatable")
    return "; ".join(note for note in notes if note)


def _default(argument: Argument) -> str:
    return code(argument.default) if argument.default is not None else ""


def _sentence(text: str) -> str:
    return sentence(plain(text))
