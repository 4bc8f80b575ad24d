"""docs/reference/services-toml.md: every table and key of services.toml, from the loader's own
reads (`configkeys`) and the words of `config.keydocs`.

Each table is a `##` heading with its anchor (`#services-name-restart`) and each key a row
with its own (`#services-name-restart-policy`), so other pages can link to either.
"""

from __future__ import annotations

import json
from typing import Any

from supervisor.config.limits import NAME_RULE
from supervisor.config.readlog import KeyRead
from supervisor.tools.docgen.configkeys import Key, Section, reference
from supervisor.tools.docgen.markdown import anchor, code, page, slug, table

PATH = "docs/reference/services-toml.md"

_KINDS = {
    "table": "table",
    "string": "string",
    "name": "string, not empty",
    "boolean": "boolean",
    "number": "number",
    "seconds": "seconds",
    "integer": "integer",
    "choice": "string",
    "string_list": "array of strings",
    "exit_codes": "array of exit codes",
    "string_table": "table of strings",
    "environment": "table of strings",
    "command": "array of strings, or a string",
    "class_path": "string, a dotted class path",
}
_ROLE_WORDS = {"command": "a command", "manager": "a manager"}

_INTRO = (
    "Every table and key of `services.toml`. The types, defaults and ranges here are read from"
    " the loader itself, so they are what `supervisor check` enforces; every error names the"
    " file, the line, the key, the value given and what is allowed, and an unknown key gets"
    " the closest known one. `check`, `run` and `reload` read a file through the same"
    " validation: whatever `check` accepts, `run` can start and `reload` can apply."
)
_LIMITS = (
    f"A service name, a backend and so every process name: {NAME_RULE}. Every number is"
    " finite (TOML's `nan` and `inf` are refused) and within its range below; a duration is"
    " in seconds. Strings may use `${VARIABLE}` and `${VARIABLE:-default}` (`$$` for a `$`);"
    " `command`, `env` values and probe addresses also take the placeholders `{name}`,"
    " `{service}`, `{process_number}`, `{backend}` and `{port}`."
)


def render() -> str:
    sections = reference()
    return page(
        "services.toml reference",
        _INTRO,
        _LIMITS,
        *(_section(section) for section in sections),
    )


def _section(section: Section) -> str:
    roles = section.name == "services.NAME"
    headers = ["key", "type", "default", "meaning"]
    if roles:
        headers.insert(3, "applies to")
    rows = []
    for key in section.keys:
        row = [
            # A table's anchor is its section's heading.
            ("" if key.is_table else anchor(slug(key.name))) + code(key.leaf),
            _type(key),
            _default(key),
            _meaning(key),
        ]
        if roles:
            row.insert(3, _roles(key))
        rows.append(row)
    parts = [f"## {_title(section.name)} {{#{slug(section.name)}}}", section.doc.doc]
    if rows:
        parts.append(table(headers, rows))
    return "\n\n".join(parts)


def _title(name: str) -> str:
    if name.endswith(".PROBE"):
        base = name.removesuffix(".PROBE")
        return f"`[{base}.readiness]` and `[{base}.liveness]`"
    return f"`[{name}]`"


def _type(key: Key) -> str:
    if key.doc.kind is not None:
        kind = key.doc.kind
    else:
        kinds = dict.fromkeys(_KINDS[read.kind] for read in key.reads.values())
        kind = " or ".join(kinds)
    allowed = key.doc.allowed or _varying(key, _range)
    return f"{kind}: {allowed}" if allowed else kind


def _default(key: Key) -> str:
    if key.doc.default is not None:
        return key.doc.default
    if key.is_table:
        return ""
    return _varying(key, lambda read: _literal(read.default))


def _meaning(key: Key) -> str:
    if key.is_table:
        target = key.name.replace(".readiness", ".PROBE").replace(".liveness", ".PROBE")
        return f"{key.doc.doc} See [{_title(target)}](#{slug(target)})."
    if key.doc.read_by_managers:
        return f"{key.doc.doc} Read by the manager processes."
    return key.doc.doc


def _roles(key: Key) -> str:
    if set(key.roles) == set(_ROLE_WORDS):
        return "both"
    return ", ".join(key.roles)


def _varying(key: Key, show: Any) -> str:
    """What `show` says of the key's reads: once when every variant says the same, else per
    variant ("`false` for a command, `true` for a manager")."""
    shown = {variant: show(read) for variant, read in key.reads.items()}
    values = set(shown.values())
    if len(values) <= 1:
        return next(iter(values), "")
    return ", ".join(
        f"{text} for {_ROLE_WORDS.get(variant, variant)}" for variant, text in shown.items()
    )


def _range(read: KeyRead) -> str:
    if read.choices:
        return "one of " + ", ".join(code(json.dumps(choice)) for choice in read.choices)
    low, high = read.minimum, read.maximum
    each = "each " if read.kind == "exit_codes" else ""
    if low is not None and high is not None:
        return f"{each}{_number(low)} to {_number(high)}"
    if low is not None:
        return f"{each}at least {_number(low)}"
    if high is not None:
        return f"{each}at most {_number(high)}"
    return ""


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _literal(value: Any) -> str:
    """A default as TOML writes it."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return code("true" if value else "false")
    if isinstance(value, str):
        return code(json.dumps(value))
    if isinstance(value, list | tuple):
        return code("[" + ", ".join(str(item) for item in value) + "]")
    if isinstance(value, dict):
        return code("{}")
    return code(str(value))
