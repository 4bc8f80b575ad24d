"""A manager that stops in the debugger while it starts, when it runs in a terminal: what a
user who put a `breakpoint()` in their manager sees through `supervisor attach`.  Under the
supervisor (stdin is /dev/null) it starts as any other."""

from __future__ import annotations

import sys

from supervisor.runtime import Manager


class DebuggedManager(Manager):
    def init_host(
        self, service_id: int | None = None, added_to_cluster: bool | None = None
    ) -> None:
        if sys.stdin.isatty():
            breakpoint()
            print("init_host goes on past the breakpoint", flush=True)
