"""compose's `${VAR}` interpolation, written in services.toml's own.

compose reads `$VAR`, `${VAR}` (unset: empty, with a warning), `${VAR:-default}` and
`${VAR-default}`, `${VAR:?error}` and `${VAR?error}`, `${VAR:+alternative}`, and `$$`.
services.toml reads `${VAR}` (unset: an error) and `${VAR:-default}`, so: `$VAR` and `${VAR}`
become `${VAR:-}`; `${VAR-d}` becomes `${VAR:-d}` (an empty VAR gets the default too);
`${VAR?e}` becomes `${VAR}`; `${VAR:+a}` is expanded now, from the environment.  Literal text is
escaped, so a variable stays a variable only where compose would have read one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from supervisor.tools.importers.model import escape

_TOKEN = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
)


class VariableError(ValueError):
    """`${VAR:?message}` with VAR unset, or a `${` compose cannot read."""


def translate(text: str, environ: Mapping[str, str], used: set[str], *, braces: bool) -> str:
    """compose text → services.toml text; `used` collects what was approximated."""
    out: list[str] = []
    literal: list[str] = []
    position = 0
    for token in _TOKEN.finditer(text):
        literal.append(text[position : token.start()])
        position = token.end()
        if token.group() == "$$":
            literal.append("$")
            continue
        name = token["name"] or token["plain"]
        op, arg = token["op"], token["arg"] or ""
        if op in (":+", "+"):
            used.add("alternative")
            value = environ.get(name)
            literal.append(arg if (value if op == ":+" else value is not None) else "")
            continue
        out.append(escape("".join(literal), braces=braces))
        literal = []
        if op is None:
            used.add("unset empty")
            out.append(f"${{{name}:-}}")
        elif op in (":-", "-"):
            if op == "-":
                used.add("dash default")
            out.append(f"${{{name}:-{arg}}}")
        else:  # ":?" or "?": services.toml refuses an unset variable too
            out.append(f"${{{name}}}")
    literal.append(text[position:])
    out.append(escape("".join(literal), braces=braces))
    return "".join(out)


def expand(text: str, environ: Mapping[str, str]) -> str:
    """compose text expanded now (a number, a duration: services.toml has no variable there)."""

    def value(token: re.Match[str]) -> str:
        if token.group() == "$$":
            return "$"
        name = token["name"] or token["plain"]
        op, arg, found = token["op"], token["arg"] or "", environ.get(name)
        if op in (":?", "?") and (found is None or (op == ":?" and not found)):
            raise VariableError(f"variable {name} is not set: {arg or 'required'}")
        if op in (":-", "-") and (found is None or (op == ":-" and not found)):
            return arg
        if op in (":+", "+"):
            return arg if (found if op == ":+" else found is not None) else ""
        return found or ""

    return _TOKEN.sub(value, text)
