"""cinder-backup: one or more worker processes, numbered from 1."""

from supervisor.cmd.entry import Binary, Selector
from supervisor.cmd.entry import main as run_binary

BACKUP = Binary(
    description="Run one backup worker.",
    manager_kwargs=lambda spec: {
        "service_name": "backup",
        "process_number": spec.process_number,
    },
    selector=Selector(
        flag="--process-number",
        attribute="process_number",
        type=int,
        help="the worker to run when the configuration has several",
    ),
)


def main() -> int:
    return run_binary(BACKUP)
