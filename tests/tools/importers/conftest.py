"""Fixtures of the import tests: a fixture folder copied into the test's own, and stacks
started from an imported services.toml (each killed at teardown if the test left it running)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from supervisor.testing.harness import RunningStack
from tests.support.stackcli import cli
from tests.tools.importers.importing import FIXTURES

READY_TIMEOUT = "60"  # a deadline: a loaded machine only takes longer


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Callable[[str], Path]:
    """The folder tests/tools/importers/fixtures/NAME, copied: its programs write into it."""

    def copy(name: str) -> Path:
        return Path(shutil.copytree(FIXTURES / name, tmp_path / name))

    return copy


@pytest.fixture
def ready_import() -> Iterator[Callable[..., RunningStack]]:
    """Start `supervisor run` on an imported services.toml; return once every process is ready
    (a job once it has completed)."""
    started: list[RunningStack] = []

    def start(config: Path, environment: dict[str, str] | None = None) -> RunningStack:
        stack = RunningStack(config, config.parent / ".supervisor", environment=environment)
        started.append(stack)
        result = cli(config, "wait", "--ready", "--timeout", READY_TIMEOUT, timeout=90)
        assert result.returncode == 0, result.stderr + stack.console()
        return stack

    yield start
    for stack in started:
        stack.close()
