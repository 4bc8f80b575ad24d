"""cinder-scheduler: one scheduler service."""

from supervisor.cmd.entry import SINGLE_SERVICE
from supervisor.cmd.entry import main as run_binary


def main() -> int:
    return run_binary(SINGLE_SERVICE)
