"""Per-process placeholders: each process of a service gets its own command, environment and
probes, so that two workers of `web` can listen, and be probed, on two ports.

In a service's `command`, `env` values, and the `exec`, `http` and `tcp` of its `readiness` and
`liveness` probes (and nowhere else):

    {name}            the process name: web, web#2, cinder-volume@lvm-1
    {service}         the service (the table's name)
    {process_number}  1..N: the worker's number, or the backend's place in `backends`
    {backend}         the backend (a service with backends only)
    {port}            the service's `port` + process_number - 1 (a service with `port` only)

`{{` and `}}` are literal braces.  Each template is judged once per service (an unknown
placeholder or an unset variable is one problem, not one per worker), then rendered for each
process; every value is known by then, so rendering cannot fail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar, Protocol, TypeVar

from supervisor.config.interpolate import (
    MASK,
    Shown,
    Template,
    TemplateError,
    Variables,
    parse,
    render,
    unset_message,
)
from supervisor.config.schema import TableReader
from supervisor.config.services import Probe, ServiceSettings, address_problem
from supervisor.shared.servicespec import ServiceSpec

MAX_PORT = 65_535
ALWAYS = ("name", "service", "process_number")


class Process(Protocol):
    """The part of a config.ProcessPlan read here: typed by its shape, so that this module and
    the loader that calls it do not import each other."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def name(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def argv(self) -> tuple[str, ...]: ...
    @property
    def spec(self) -> ServiceSpec | None: ...


P = TypeVar("P", bound=Process)


def expand(
    reader: TableReader,
    settings: ServiceSettings,
    processes: Sequence[P],
    variables: Variables,
) -> list[P]:
    """The service's processes with their own argv, environment and probe, each with the
    env files' variables in its environment (the service's `env` wins over them)."""
    port = reader.integer("port", None, 1, MAX_PORT)
    if port is not None and port + len(processes) - 1 > MAX_PORT:
        last = port + len(processes) - 1
        reader.problem(("port",), port, f"its last process would get port {last} > {MAX_PORT}")
    backends = bool(processes) and all(p.spec is not None and p.spec.backend for p in processes)
    known = (*ALWAYS, *(["backend"] if backends else []), *(["port"] if port is not None else []))

    def judged(key: tuple[str, ...], text: str) -> Template:
        return _judged(reader, key, text, variables, known)

    is_command = bool(processes) and processes[0].spec is None
    command = [judged(("command",), arg) for arg in processes[0].argv] if is_command else None
    env = {name: judged(("env", name), value) for name, value in settings.env}
    probes = {role: _probe_templates(judged, role, getattr(settings, role)) for role in PROBES}

    expanded = []
    for number, process in enumerate(processes, start=1):
        values = {"name": process.name, "service": process.service}
        values["process_number"] = str(number)
        if backends and process.spec is not None and process.spec.backend:
            values["backend"] = process.spec.backend
        if port is not None:
            values["port"] = str(port + number - 1)
        argv, shown_argv = _argv(reader, ("command",), command, variables, values)
        environment, shown_env = _environment(env, variables, values)
        own_probes = {
            role: _probe(reader, role, getattr(settings, role), templates, variables, values)
            for role, templates in probes.items()
        }
        own = replace(settings, env=tuple(environment.items()), **own_probes)
        shown = Shown(shown_argv or process.argv, tuple(shown_env.items()))
        expanded.append(
            replace(
                process,
                argv=argv or process.argv,
                settings=own,
                shown=None if shown == Shown(argv or process.argv, own.env) else shown,
            )
        )
    return expanded


PROBES = ("readiness", "liveness")
_PROBE_TEXTS = ("http", "tcp")  # the probe keys that are one string


def _probe_templates(
    judged: Callable[[tuple[str, ...], str], Template], role: str, probe: Probe | None
) -> dict[str, list[Template]]:
    """The templates of a probe's exec, http and tcp, judged once per service."""
    if probe is None:
        return {}
    templates = {"exec": [judged((role, "exec"), arg) for arg in probe.exec]}
    for key in _PROBE_TEXTS:
        if (text := getattr(probe, key)) is not None:
            templates[key] = [judged((role, key), text)]
    return templates


def _probe(
    reader: TableReader,
    role: str,
    probe: Probe | None,
    templates: dict[str, list[Template]],
    variables: Variables,
    values: Mapping[str, str],
) -> Probe | None:
    """One process's own probe: its exec, http and tcp with the process's placeholders."""
    if probe is None:
        return None
    argv, _ = _argv(reader, (role, "exec"), templates["exec"], variables, values)
    texts = {
        key: render(template[0], variables, values).value
        for key, template in templates.items()
        if key in _PROBE_TEXTS
    }
    for key, text in texts.items():
        # Judged once rendered; reported once per service, as every process's comes from
        # the same template.
        problem = address_problem(key, text)
        if problem is not None and values["process_number"] == "1":
            reader.problem((role, key), text, problem)
    return replace(probe, exec=argv, **texts)


def _judged(
    reader: TableReader,
    key: tuple[str, ...],
    text: str,
    variables: Variables,
    known: Sequence[str],
) -> Template:
    """The template of one string, each thing wrong with it reported at its key."""
    try:
        template = parse(text, placeholders=True)
    except TemplateError as error:
        reader.problem(key, text, str(error))
        return Template((text,))
    if unset := variables.unset(template):
        reader.problem(key, text, unset_message(unset))
    if unknown := [name for name in template.placeholders if name not in known]:
        reader.problem(key, text, _unknown_message(unknown[0], known))
    return template


def _unknown_message(name: str, known: Sequence[str]) -> str:
    listed = ", ".join(f"{{{each}}}" for each in known)
    why = {
        "backend": "; {backend} needs backends",
        "port": "; {port} needs the service's port = N",
    }.get(name, "")
    return f"unknown placeholder {{{name}}}: known here: {listed}{why}; {{{{ and }}}} are braces"


def _argv(
    reader: TableReader,
    key: tuple[str, ...],
    templates: list[Template] | None,
    variables: Variables,
    values: Mapping[str, str],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not templates:
        return (), ()
    rendered = [render(template, variables, values) for template in templates]
    # Reported once per service: every process's program comes from the same template.
    if not rendered[0].value and values["process_number"] == "1":
        reader.problem(key, None, "the program name is empty once interpolated")
    return tuple(r.value for r in rendered), tuple(r.shown for r in rendered)


def _environment(
    env: Mapping[str, Template], variables: Variables, values: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The env files' variables (each shown as ***), then the service's `env` over them."""
    environment = dict(variables.files)
    shown = {name: MASK if value else value for name, value in environment.items()}
    for name, template in env.items():
        rendered = render(template, variables, values)
        environment[name], shown[name] = rendered.value, rendered.shown
    return environment, shown
