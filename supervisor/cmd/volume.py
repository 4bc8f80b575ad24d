"""cinder-volume: one process per backend; the backend is the manager's `service_name`."""

from supervisor.cmd.entry import Binary, Selector
from supervisor.cmd.entry import main as run_binary

VOLUME = Binary(
    description="Run the volume service of one backend.",
    manager_kwargs=lambda spec: {"service_name": spec.backend},
    selector=Selector(
        flag="--backend",
        attribute="backend",
        type=str,
        help="the backend to serve when the configuration has several",
    ),
)


def main() -> int:
    return run_binary(VOLUME)
