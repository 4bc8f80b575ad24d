"""man/supervisor.1: the manual page, in roff (man macros), from the same parser as cli.md.

Installed with the package as share/man/man1/supervisor.1 (pyproject.toml's data-files), so
`man supervisor` works after `pip install`.  No date in the header: the page must not change
unless the command line does.
"""

from __future__ import annotations

import re

from supervisor.tools.docgen.cliparser import Argument, Command, command_line
from supervisor.tools.docgen.exitcodes import exit_statuses
from supervisor.tools.docgen.prose import sentence

PATH = "man/supervisor.1"

_FILES = (
    (
        "services.toml",
        "The services file: the nearest one in the current directory or a parent, unless"
        " -c or $SUPERVISOR_CONFIG names another.",
    ),
    (
        "<state_dir>/",
        "The supervisor's state, .supervisor beside the services file by default: its lock,"
        " its control socket control.sock, its event log events.jsonl and the processes'"
        " logs under logs/.",
    ),
)


def render() -> str:
    top = command_line()
    lines = [
        '.TH SUPERVISOR 1 "" "cinder-stack-supervisor" "User Commands"',
        ".nh",  # no hyphenation: options and metavars are words to copy whole
        ".ad l",
        ".SH NAME",
        f"supervisor \\- {_text(_lower_first(top.description.rstrip('.')))}",
        ".SH SYNOPSIS",
        _usage(top.synopsis),
        ".PP",
        r"\fBsupervisor\fR \fICOMMAND\fR \-\-help",
        ".SH DESCRIPTION",
        _text(
            "supervisor runs the services a services.toml describes as one stack, restarts"
            " them by their policies, and operates the running stack through a control socket."
            " Every command takes -c FILE before or after its name."
        ),
        ".SH OPTIONS",
        *(line for argument in top.arguments for line in _argument(argument)),
        ".SH COMMANDS",
    ]
    for command in top.walk()[1:]:
        lines.extend(_command(command, top))
    lines.append(".SH EXIT STATUS")
    for value, meanings in _statuses().items():
        lines.extend([".TP", f".B {value}", _text("; ".join(meanings))])
    lines.append(".SH ENVIRONMENT")
    for name, meaning in _environment(top.epilog):
        lines.extend([".TP", f".B {name}", _text(meaning)])
    lines.append(".SH FILES")
    for name, meaning in _FILES:
        lines.extend([".TP", f".I {_text(name)}", _text(meaning)])
    lines.extend(
        [
            ".SH SEE ALSO",
            ".BR systemctl (1),",
            ".BR supervisord (1)",
            ".PP",
            _text(
                "The reference pages docs/reference/cli.md, services-toml.md, states.md and"
                " exit-statuses.md, generated from the same code."
            ),
        ]
    )
    return "\n".join(lines) + "\n"


def _usage(synopsis: str) -> str:
    """The usage line with the command's words bold: `supervisor status` stays together."""
    return r"\fB" + _escape(synopsis).replace(" [", r"\fR [", 1) + r"\fR"


def _command(command: Command, top: Command) -> list[str]:
    lines = [f'.SS "{_escape(command.name)}"', _usage(command.synopsis), ".PP"]
    lines.append(_text(sentence(command.description or command.summary)))
    for argument in command.arguments:
        if argument.names == ("-h", "--help") or argument in top.arguments:
            continue
        lines.extend(_argument(argument))
    return lines


def _argument(argument: Argument) -> list[str]:
    if argument.positional:
        label = rf"\fI{_escape(argument.value)}\fR"
    else:
        value = rf" \fI{_escape(argument.value)}\fR" if argument.value else ""
        label = ", ".join(rf"\fB{_escape(name)}\fR{value}" for name in argument.names)
    meaning = argument.help
    if argument.default is not None:
        meaning += f" (default: {argument.default})"
    return [".TP", label, _text(sentence(meaning))]


def _statuses() -> dict[int, list[str]]:
    meanings: dict[int, list[str]] = {}
    for status in exit_statuses():
        if status.group.startswith("the `supervisor` command line") or not status.group:
            meanings.setdefault(status.value, []).append(_plain(status.meaning))
    return meanings


def _environment(epilog: str) -> list[tuple[str, str]]:
    """The top-level epilog's `NAME: what it does.` sentences."""
    return [
        (match[1], match[2])
        for match in re.finditer(r"([A-Z][A-Z0-9_]+): (.+?\.)(?=\s+[A-Z_]+:|\s*$)", epilog)
    ]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _plain(text: str) -> str:
    """Markdown's backticks mean nothing in roff."""
    return " ".join(text.replace("`", "").split())


def _escape(text: str) -> str:
    """Text safe inside a roff line: backslashes escaped, hyphens as minus signs (so that
    options can be searched for and copied)."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def _text(text: str) -> str:
    """A paragraph's text on one line, never read as a request (a leading `.` or `'`)."""
    escaped = _escape(_plain(text))
    return "\\&" + escaped if escaped.startswith((".", "'")) else escaped
