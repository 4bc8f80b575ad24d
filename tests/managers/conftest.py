"""Fixtures for the manager tests: service processes started as the supervisor starts them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.serviceprocesses import ServiceProcesses


@pytest.fixture
def services(tmp_path: Path) -> Iterator[ServiceProcesses]:
    """Start a service process and wait until it says READY=1; every one is killed at teardown."""
    processes = ServiceProcesses(tmp_path)
    yield processes
    processes.close()
