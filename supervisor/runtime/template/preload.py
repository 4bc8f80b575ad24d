"""What a template imports before it forks: everything up to, never including, what must not
cross a fork.

Imported: the runtime's modules and each manager's class (for Cinder: eventlet's monkey
patching first, in Cinder's own order, then oslo.config's options, Cinder's objects
registered, its service, RPC and database modules, the binaries' own modules).  Never done
here: parsing the configuration, logging set-up, rpc.init (an oslo.messaging transport),
a database engine, privsep's daemon, a green thread or a hub, a native thread, an open file.
Each of those is made by the forked process itself, as an exec'd one would.
"""

from __future__ import annotations

import contextlib
import importlib
import traceback
from collections.abc import Iterable, Mapping
from typing import Any

from supervisor.shared.servicespec import OPENSTACK_RUNTIME
from supervisor.shared.topic import resolve, subtopic_of

# The modules every OpenStack child imports before its manager (runtime/openstack/serve.py).
_OPENSTACK_MODULES = (
    "cinder.common.config",
    "oslo_config.cfg",
    "oslo_log.log",
    "oslo_reports.guru_meditation_report",
    "oslo_reports.opts",
    "cinder.objects",
    "cinder.utils",
    "cinder.version",
    "cinder.rpc",
    "cinder.service",
    "cinder.db.api",
    "oslo_db.exception",
    "oslo_messaging",
    # The rabbit driver (kombu, amqp: 70 ms a process) that stevedore loads in rpc.init: its
    # module only, no transport.
    "oslo_messaging._drivers.impl_rabbit",
    "sqlalchemy.exc",
    "supervisor.runtime.openstack.serve",
)
_OPENSTACK_STORAGE = ("os_brick", "oslo_privsep.priv_context")
_STACK_MODULES = ("supervisor.cmd.entry", "supervisor.runtime.launch", "setproctitle")


def prepare(runtime: str, binaries: Iterable[str]) -> None:
    """The runtime's shared imports; raises whatever breaks them (the template is broken)."""
    if runtime != OPENSTACK_RUNTIME:
        for name in _STACK_MODULES:
            importlib.import_module(name)
        return
    from cinder import monkey_patch

    monkey_patch.patch()
    from cinder import i18n

    i18n.enable_lazy()  # before any of Cinder's messages is made, as serve._bootstrap does
    for name in _OPENSTACK_MODULES:
        importlib.import_module(name)
    from cinder import objects

    objects.register_all()
    subtopics = {subtopic_of(binary) for binary in binaries}
    if subtopics & {"volume", "backup"}:
        for name in _OPENSTACK_STORAGE:
            importlib.import_module(name)
    for subtopic in subtopics:
        with contextlib.suppress(ImportError):  # the binaries' own options, as serve does
            importlib.import_module(f"cinder.cmd.{subtopic}")


def manager_path(spec: Mapping[str, Any]) -> str | None:
    """The manager class a process of this spec (its JSON, as a dict) will import."""
    try:
        return resolve(
            spec["binary"],
            spec.get("options") or {},
            prefix=spec.get("prefix", "cinder-"),
            topic=spec.get("topic"),
            manager=spec.get("manager"),
        ).manager
    except Exception:
        return None  # the process itself will say why, as an exec'd one does


def import_manager(path: str) -> str | None:
    """Import the manager's module now; the traceback's last lines if it fails (the forked
    process then fails on the same import, with the message an exec'd one gives)."""
    module_name = path.rpartition(".")[0]
    try:
        importlib.import_module(module_name)
    except BaseException:
        return last_lines(traceback.format_exc())
    return None


def last_lines(text: str, count: int = 4) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:])[-600:]
