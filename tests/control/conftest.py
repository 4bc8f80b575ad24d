"""Fixtures for the control tests: a control server served from the test's own process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.controlserver import Handle, Serve, Served


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Serve requests with this handler on a socket in tmp_path; every server stops at teardown."""
    started: list[Served] = []

    def start(handle: Handle) -> Served:
        served = Served(tmp_path, handle)
        started.append(served)
        return served

    yield start
    for served in started:
        served.close()
