"""The pytest plugin, installed with the package: a `stack` fixture for restart-policy tests.

    def test_volume_gives_up(stack):
        s = stack("services.toml", overrides={"cinder-volume.restart.start_limit": {"burst": 3}})
        s.wait_ready(timeout=10)
        ...

Each stack runs from a copy of the file with its state in the test's tmp_path. Teardown stops
every stack the test started and fails the test if any of their processes outlived it.  A copy
is refused when the original stack is running and holds a port the copy would bind again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from supervisor.tools.stackdriver.ports import PortsHeld, refuse_held_ports
from supervisor.tools.stackdriver.running import WaitTimeout
from supervisor.tools.stackdriver.stack import Stack, write_test_config


def _find(config: str | Path, request: pytest.FixtureRequest) -> Path:
    path = Path(config)
    if path.is_absolute():
        return path
    for base in (Path.cwd(), request.path.parent):
        if (base / path).is_file():
            return base / path
    raise FileNotFoundError(f"no services file {config} in {Path.cwd()} or {request.path.parent}")


@pytest.fixture
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Stack]]:
    started: list[Stack] = []

    def start(config: str | Path = "services.toml", overrides: Mapping[str, Any] = {}) -> Stack:
        number = len(started)
        state_dir = tmp_path / f"stack-{number}"
        source = _find(config, request)
        copy = write_test_config(source, tmp_path / f"services-{number}.toml", state_dir, overrides)
        try:
            refuse_held_ports(source, copy)
        except PortsHeld as error:
            pytest.fail(str(error), pytrace=False)
        started.append(Stack(copy, state_dir))
        return started[-1]

    yield start
    problems = []
    for each in started:
        try:
            each.stop()
        except WaitTimeout as error:
            problems.append(f"the stack did not stop: {error}")
        finally:
            each.close()
        for process in each.leftovers():
            problems.append(f"outlived its stack: {process.pid} {process.name()}")
            process.kill()
    if problems:
        pytest.fail("\n".join(problems))
