"""What the supervisor adds to a process's environment at spawn, from the plan alone.

One function, shared by the daemon (which adds its own bookkeeping on top: `NOTIFY_SOCKET`, the
fault socket, the sentinel, `WATCHDOG_USEC`, over its own `os.environ`) and by the exporters
(which hand the same variables to another process manager), so that a unit exported for systemd
or Kubernetes starts a process with exactly the inputs the supervisor would give it.
"""

from __future__ import annotations

from supervisor.config.plan import ProcessPlan
from supervisor.shared.servicespec import ENV_VAR as SERVICE_ENV_VAR

PROCESS_ENV = "SUPERVISOR_PROCESS"
STATE_DIR_ENV = "SUPERVISOR_STATE_DIR"


def spawn_environment(plan: ProcessPlan, state_dir: str) -> dict[str, str]:
    """The service's `env`, the process's name and state directory, and for a manager the
    spec it resolves its manager from; later keys win over a same-named `env` entry."""
    env = dict(plan.settings.env)
    env[PROCESS_ENV] = plan.name
    # Where a service may keep its own state, as systemd's STATE_DIRECTORY.
    env[STATE_DIR_ENV] = state_dir
    if plan.spec is not None:
        env[SERVICE_ENV_VAR] = plan.spec.to_env()
    return env
