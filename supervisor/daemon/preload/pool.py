"""Which template forks which process, and when a template is made or replaced.

Processes share a template when they would run the same interpreter with the same runtime,
`env` and directory: for Cinder under `[openstack]` that is every manager service, so Cinder is
imported once for the whole stack, and every process shares the template's pages.  A template
is started as soon as the plan is known (its imports overlap the broker's start-up and every
`depends_on` wait), replaced when a file it imported changed, when the file is reloaded, on
`restart --fresh`, and when it dies; a broken one (its imports failed) is tried again at the
next start of one of its processes, so the unit's restart policy paces the retries.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable

from supervisor.config.plan import ProcessPlan
from supervisor.config.services import ServiceSettings
from supervisor.daemon.cgroup import UnitCgroup
from supervisor.daemon.host import EventSink
from supervisor.daemon.loop import Loop
from supervisor.daemon.output import ChildPipes, OutputPump
from supervisor.daemon.preload.forked import ForkedChild
from supervisor.daemon.preload.template import Template, TemplateSpec
from supervisor.daemon.sentinel import Sentinel
from supervisor.daemon.spawn import stdin_fd
from supervisor.shared.servicespec import ENV_VAR as SPEC_ENV
from supervisor.shared.servicespec import STACK_RUNTIME

# What a run adds to the environment for itself alone: never part of a template's.
_PER_PROCESS = frozenset(
    {
        SPEC_ENV,
        "SUPERVISOR_PROCESS",
        "NOTIFY_SOCKET",
        "WATCHDOG_USEC",
        "SUPERVISOR_FAULT_SOCKET",
        "SUPERVISOR_START_FAULT",
    }
)

_Key = tuple[str, str, tuple[tuple[str, str], ...], str | None]


def preloads(argv: tuple[str, ...], settings: ServiceSettings) -> bool:
    """A manager process (the package's own entry module) of a service with preload on."""
    return settings.preload and argv[1:3] == ("-m", "supervisor.cmd")


class Preloader:
    def __init__(
        self,
        loop: Loop,
        output: OutputPump,
        sentinel: Sentinel,
        events: EventSink,
        base_env: dict[str, str],
    ) -> None:
        self._loop = loop
        self._output = output
        self._sentinel = sentinel
        self._events = events
        self._base_env = base_env  # the supervisor's environment with the host's own keys
        self._templates: dict[_Key, Template] = {}
        self._specs: dict[_Key, TemplateSpec] = {}
        self._binaries: dict[_Key, set[str]] = {}
        self._managers: dict[_Key, set[str]] = {}
        # Per template name: how often it was replaced, and why the last time.
        self._replacements: dict[str, tuple[int, str]] = {}

    def _key(self, python: str, runtime: str, settings: ServiceSettings) -> _Key:
        return (python, runtime, settings.env, settings.directory)

    def _plan_key(self, plan: ProcessPlan) -> _Key | None:
        """The template a planned process forks from; None if it is exec'd."""
        if plan.spec is None or not preloads(plan.argv, plan.settings):
            return None
        return self._key(plan.argv[0], plan.spec.runtime, plan.settings)

    def prepare(self, plans: Iterable[ProcessPlan]) -> None:
        """Learn every preloading process of the plan and start its template now."""
        for plan in plans:
            # A key means a spec; said again for the type checker.
            if (key := self._plan_key(plan)) is None or plan.spec is None:
                continue
            self._binaries.setdefault(key, set()).add(plan.spec.binary)
            if plan.resolution is not None:
                self._managers.setdefault(key, set()).add(plan.resolution.manager)
        for key in self._binaries:
            self._template(key, None)

    def _spec(self, key: _Key, env: dict[str, str] | None) -> TemplateSpec:
        python, runtime, settings_env, directory = key
        names = {spec.name for k, spec in self._specs.items() if k != key}
        base = f"preload:{runtime}"
        name = base
        number = 1
        while name in names:
            number += 1
            name = f"{base}-{number}"
        template_env = {**self._base_env, **dict(settings_env)}
        if env is not None:
            template_env.update({k: v for k, v in env.items() if k not in _PER_PROCESS})
        return TemplateSpec(
            name=self._specs[key].name if key in self._specs else name,
            runtime=runtime,
            python=python,
            env=tuple(sorted(template_env.items())),
            directory=directory,
            binaries=tuple(sorted(self._binaries.get(key, ()))),
            managers=tuple(sorted(self._managers.get(key, ()))),
        )

    def _template(self, key: _Key, env: dict[str, str] | None) -> Template:
        template = self._templates.get(key)
        if template is not None and template.state in ("starting", "ready"):
            return template
        spec = self._specs[key] = self._spec(key, env)
        template = self._templates[key] = Template(
            spec, self._loop, self._output, self._sentinel, self._events, self._replaced
        )
        return template

    def _count_replacement(self, name: str, cause: str) -> None:
        count, _ = self._replacements.get(name, (0, ""))
        self._replacements[name] = (count + 1, cause)

    def describe(self) -> list[dict[str, object]]:
        """Every template as `status` shows it, with how often and why it was replaced."""
        described = []
        for template in self._templates.values():
            count, cause = self._replacements.get(template.spec.name, (0, None))
            described.append({**template.describe(), "replaced": count, "replaced_because": cause})
        return described

    def _replaced(self, old: Template, cause: str) -> None:
        """`old` is going (stale, dead, or deaf): its successor starts now and takes its
        unanswered requests."""
        key = next((k for k, t in self._templates.items() if t is old), None)
        if key is None:
            return
        del self._templates[key]
        self._count_replacement(old.spec.name, cause)
        pending = old.take_pending()
        new = self._template(key, None)
        self._events.emit("preload", template=new.spec.name, action="replaced", cause=cause)
        for request in pending:
            message = {k: v for k, v in request.message.items() if k not in ("op", "id")}
            new.fork(request.child, message, request.fds)

    def start(
        self,
        argv: tuple[str, ...],
        env: dict[str, str],
        settings: ServiceSettings,
        title: str,
        pipes: ChildPipes,
        cgroup: UnitCgroup | None,
        on_exit: Callable[[], None],
        forget: Callable[[int], None],
    ) -> ForkedChild:
        raw = env.get(SPEC_ENV)
        spec = json.loads(raw) if raw else {}
        runtime = spec.get("runtime", STACK_RUNTIME)
        key = self._key(argv[0], runtime, settings)
        if spec.get("binary"):
            self._binaries.setdefault(key, set()).add(spec["binary"])
        template = self._template(key, env)
        child = ForkedChild(self._loop, cgroup, on_exit, self._sentinel.watch, forget)
        fds = [os.dup(stdin_fd()), os.dup(pipes.stdout), os.dup(pipes.stderr)]
        if cgroup is not None and (directory := cgroup.directory_fd()) is not None:
            fds.append(directory)
        message = {
            "argv": list(argv),
            "env": env,
            "cwd": settings.directory,
            "title": title,
            # Born in its cgroup (clone3), or moving itself there before any code runs.
            "cgroup": None if len(fds) == 3 else "write" if cgroup and cgroup.killed else "into",
        }
        template.fork(child, message, fds)
        return child

    def refresh(self, cause: str, plans: Iterable[ProcessPlan] | None = None) -> list[str]:
        """Replace every template (a reload), or those the given processes fork from
        (`restart --fresh`): the next forks run code as it is on disk now.  The names of the
        templates replaced."""
        keys = None if plans is None else {self._plan_key(plan) for plan in plans}
        replaced = []
        for key, template in list(self._templates.items()):
            if keys is not None and key not in keys:
                continue
            replaced.append(template.spec.name)
            self._count_replacement(template.spec.name, cause)
            self._events.emit("preload", template=template.spec.name, action="replace", cause=cause)
            template.stop()
            del self._templates[key]
            self._template(key, None)
        return replaced

    def close(self) -> None:
        for template in self._templates.values():
            template.close()
        self._templates.clear()


def title_of(env: dict[str, str], fallback: str) -> str:
    """`<binary> <host>`, as the service sets it once it runs."""
    raw = env.get(SPEC_ENV)
    if not raw:
        return fallback
    spec = json.loads(raw)
    return f"{spec.get('binary', fallback)} {spec.get('host', '')}".strip()
