"""systemd's unit-file syntax: quoted words, environment assignments, time spans, unit names,
and template units whose instance string (`%i`) stands for a backend or a worker's number.

Invariants: every value written goes through `exec_word` or `environment_word`, so a `%`, `$`,
quote, backslash or control character in a services file reaches the process unchanged once
systemd has unquoted it; `%i` appears only where `templated` put it, and only where expanding it
gives back, for every instance, exactly the value the supervisor would use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# What systemd's C-style unquoting turns back into these characters (systemd.syntax(7)).
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNIT_NAME_CHARS = re.compile(r"[^A-Za-z0-9:_.-]+")
# What Environment= takes for a name (a shell's); exec takes any name without '=' or NUL.
_ENVIRONMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Stands for the instance while a template is built: no value the OS passes can hold a NUL.
_INSTANCE = "\0"
INSTANCE_SPECIFIER = "%i"
# Process names, so backends and worker numbers, are made of these (config.limits.NAME): an
# occurrence of the instance next to one of them is part of a longer word, not the instance.
_NAME_CHAR = "A-Za-z0-9_.-"


def _escape(text: str, *, dollar: bool) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char == "%":
            out.append("%%")  # a specifier otherwise
        elif char == "$" and dollar:
            out.append("$$")  # ExecStart= expands $VAR and ${VAR}
        elif char == _INSTANCE:
            out.append(INSTANCE_SPECIFIER)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def exec_word(arg: str) -> str:
    """One argument of ExecStart=, double-quoted (a lone `;` would end the command)."""
    return "\\;" if arg == ";" else f'"{_escape(arg, dollar=True)}"'


def exec_line(argv: Sequence[str]) -> str:
    return " ".join(exec_word(arg) for arg in argv)


def environment_word(name: str, value: str) -> str:
    """One assignment of Environment=: no `$` expansion there, but specifiers and quoting."""
    return f'"{_escape(name, dollar=False)}={_escape(value, dollar=False)}"'


def is_environment_name(name: str) -> bool:
    return _ENVIRONMENT_NAME.fullmatch(name) is not None


def time_span(seconds: float) -> str:
    """A span systemd parses exactly: whole seconds, else milliseconds, else microseconds."""
    micro = round(seconds * 1_000_000)
    if micro % 1_000_000 == 0:
        return f"{micro // 1_000_000}s"
    if micro % 1_000 == 0:
        return f"{micro // 1_000}ms"
    return f"{micro}us"


def unit_name_part(text: str, fallback: str) -> str:
    """`text` usable in a unit name: runs of other characters become one `-`."""
    cleaned = _UNIT_NAME_CHARS.sub("-", text).strip("-.")
    return cleaned or fallback


def templated(values: Sequence[str], instances: Sequence[str]) -> str | None:
    """One value for a template unit from each instance's own value, the instance's occurrences
    (as whole words) marked for `%i`; None when no template gives back every value exactly (a
    `{port}` that differs per worker, say)."""
    first, instance = values[0], instances[0]
    if len(values) == 1:
        # Nothing to compare with: every whole-word occurrence is taken for the instance.
        return _word(instance).sub(_INSTANCE, first)
    template = _aligned(first, instance, values[1], instances[1])
    if template is None:
        return None
    every = zip(values, instances, strict=True)
    return template if all(expand_instance(template, i) == v for v, i in every) else None


def _word(instance: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![{_NAME_CHAR}]){re.escape(instance)}(?![{_NAME_CHAR}])")


def _aligned(a: str, a_instance: str, b: str, b_instance: str) -> str | None:
    """The template that reads as `a` with `a_instance` and as `b` with `b_instance`: a walk
    through both strings at once, where an occurrence of each instance at the same place may be
    taken as the instance (tried first) or as text, backtracking when the rest does not match.
    (Each state is visited once, so the walk is linear in practice.)"""
    starts_a = {m.start() for m in _word(a_instance).finditer(a)}
    starts_b = {m.start() for m in _word(b_instance).finditer(b)}
    parent: dict[tuple[int, int], tuple[tuple[int, int], str]] = {}
    stack = [(0, 0)]
    seen = {(0, 0)}
    while stack:
        ia, ib = state = stack.pop()
        if ia == len(a) and ib == len(b):
            pieces = []
            while state != (0, 0):
                state, piece = parent[state]
                pieces.append(piece)
            return "".join(reversed(pieces))
        steps = []
        if ia < len(a) and ib < len(b) and a[ia] == b[ib]:
            steps.append(((ia + 1, ib + 1), a[ia]))
        if ia in starts_a and ib in starts_b:
            steps.append(((ia + len(a_instance), ib + len(b_instance)), _INSTANCE))
        for following, piece in steps:  # the instance last, so it is tried first
            if following not in seen:
                seen.add(following)
                parent[following] = (state, piece)
                stack.append(following)
    return None


def expand_instance(text: str, instance: str) -> str:
    """A template's raw value for one instance (what `templated` marked, filled in)."""
    return text.replace(_INSTANCE, instance)


def plain_value(text: str) -> str:
    """A value systemd takes as written apart from specifiers (Description=, a path)."""
    return text.replace("%", "%%").replace(_INSTANCE, INSTANCE_SPECIFIER)
