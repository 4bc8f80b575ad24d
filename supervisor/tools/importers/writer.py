"""A Translation → a commented services.toml, written with tomlkit.

Invariants: every note of the translation becomes a comment (the header's at the top, a
service's before the key it is about), so nothing the reader approximated is silent; a service
marked `disabled` is written whole but commented out; the output carries no date, so importing
the same input twice gives the same file.
"""

from __future__ import annotations

import textwrap
from typing import Any

import tomlkit
from tomlkit.items import Table

from supervisor.tools.importers.model import Service, Translation

_WIDTH = 98
_SUB_TABLES = ("restart", "readiness", "liveness")  # written as [services.NAME.<key>]


def render(translation: Translation) -> str:
    document = tomlkit.document()
    name, kind = translation.source.name, translation.format
    shown = name if name.lower() == kind.lower() else f"{name} ({kind})"
    header = f"Imported from {shown} by `supervisor import`."
    _comment(document, header)
    if translation.notes:
        document.add(tomlkit.comment(""))
        for note in translation.notes:
            _comment(document, note, bullet=True)
    document.add(tomlkit.nl())
    if translation.supervisor:
        main = tomlkit.table()
        for key, value in translation.supervisor.items():
            main.add(key, value)
        document.add("supervisor", main)
    services = tomlkit.table(is_super_table=True)
    for service in translation.services:
        if service.disabled is None:
            services.add(service.name, _table(service, ""))
    document.add("services", services)
    text = tomlkit.dumps(document)
    for service in translation.services:
        if service.disabled is not None:
            text += "\n" + _commented_out(service)
    return text


def _commented_out(service: Service) -> str:
    """The service's table as comments, under a line that says why it is not active."""
    alone = tomlkit.document()
    wrapper = tomlkit.table(is_super_table=True)
    wrapper.add(service.name, _table(service, ""))
    alone.add("services", wrapper)
    lines = [f"# {line}" for line in textwrap.wrap(str(service.disabled), _WIDTH - 2)]
    lines += [f"# {line}" if line else "#" for line in tomlkit.dumps(alone).strip().splitlines()]
    return "\n".join(lines) + "\n"


def _table(service: Service, prefix: str) -> Table:
    """The table of `service` (prefix "") or of one of its sub-tables ("restart.")."""
    table = tomlkit.table()
    values = service.values
    for part in filter(None, prefix.rstrip(".").split(".")):
        values = values[part]
    for note in service.notes.get(prefix.rstrip("."), []):
        _comment(table, note)
    # Plain keys first: a key after a [sub.table] header would belong to that table.
    ordered = sorted(values.items(), key=lambda item: not prefix and item[0] in _SUB_TABLES)
    for key, value in ordered:
        path = prefix + key
        if isinstance(value, dict) and not prefix and key in _SUB_TABLES:
            table.add(key, _table(service, path + "."))
            continue
        for note in service.notes.get(path, []):
            _comment(table, note)
        table.add(key, _value(value))
    return table


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        inline.update({key: _value(each) for key, each in value.items()})
        return inline
    return value


def _comment(container: Any, text: str, *, bullet: bool = False) -> None:
    first, rest = ("- ", "  ") if bullet else ("", "")
    lines = textwrap.wrap(text, _WIDTH - 2 - len(first), break_on_hyphens=False) or [""]
    for number, line in enumerate(lines):
        container.add(tomlkit.comment((first if number == 0 else rest) + line))
