"""Fixtures for the exporter tests: the real `supervisor export` command, and systemd's own
checker of unit files, `systemd-analyze verify`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.stackcli import cli
from tests.tools.exporters.systemd_unitfile import read_unit

Export = Callable[..., subprocess.CompletedProcess[str]]
Verify = Callable[[Path], None]

# Keys newer than the systemd that reads them: `systemd-analyze` 252 (Debian 12) warns and
# ignores them, which docs/guides/moving-in-and-out.md says of the backoff's growth.
_NEWER_KEYS = {"RestartSteps": 254, "RestartMaxDelaySec": 254}


@pytest.fixture
def export(tmp_path: Path) -> Export:
    """Run `supervisor export FORMAT -o DIR [ARGS...] -c CONFIG` for real."""

    def run(
        config: Path, fmt: str, directory: Path, *args: str
    ) -> subprocess.CompletedProcess[str]:
        return cli(config, "export", fmt, "-o", str(directory), *args)

    return run


@pytest.fixture
def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(
                "systemd-analyze is missing, though .ci/run installs it (Debian package 'systemd')"
            )
        pytest.skip("needs systemd-analyze: apt-get install systemd (.ci/run installs it in CI)")
    return found


@pytest.fixture
def verify(systemd_analyze: str) -> Verify:
    """`systemd-analyze verify` on every unit in a directory (each template through the
    instances the target wants): exit status 0 and no line about our files but the known
    newer keys.

    In a container there is no running systemd: `--man=no` skips looking for man pages the
    units do not name, `--generators=no` runs none of the host's generators, and
    SYSTEMD_UNIT_PATH (with a trailing ':' for the built-in path after it) makes the
    dependencies between our units resolvable."""
    version = _version(systemd_analyze)

    def check(directory: Path) -> None:
        units = _units_in(directory)
        result = subprocess.run(
            [systemd_analyze, "verify", "--man=no", "--generators=no", *map(str, units)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=directory,
            env={**os.environ, "SYSTEMD_UNIT_PATH": f"{directory}:", "SYSTEMD_PAGER": ""},
        )
        output = (result.stdout + result.stderr).splitlines()
        ours = [line for line in output if str(directory) in line or ".service" in line]
        unexpected = [line for line in ours if not _newer_key(line, version)]
        assert result.returncode == 0 and not unexpected, "\n".join(output)

    return check


def _version(analyze: str) -> int:
    first = subprocess.run([analyze, "--version"], capture_output=True, text=True, check=True)
    match = re.match(r"systemd (\d+)", first.stdout)
    assert match, first.stdout
    return int(match.group(1))


def _newer_key(line: str, version: int) -> bool:
    match = re.search(r"Unknown key '(\w+)' in section \[Service\], ignoring", line)
    return bool(match) and version < _NEWER_KEYS.get(match.group(1), 0)


def _units_in(directory: Path) -> list[Path]:
    """Every unit file, a template through each instance the target wants (a template alone
    is not loadable; an instance is, from the template beside it)."""
    units = [path for path in sorted(directory.iterdir()) if not path.name.endswith("@.service")]
    for target in directory.glob("*.target"):
        for wanted in read_unit(target).values("Unit", "Wants"):
            units += [directory / name for name in wanted.split() if "@" in name]
    return list(dict.fromkeys(units))
