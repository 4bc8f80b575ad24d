"""services.toml text the configuration tests share, and where an error about it must point."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervisor import config

OPTIONS = """
[options]
host = "node1"
scheduler_manager = "supervisor.managers.scheduler.SchedulerManager"
volume_manager = "supervisor.managers.volume.VolumeManager"
backup_manager = "supervisor.managers.backup.BackupManager"
"""


def at(path: Path, snippet: str) -> str:
    """`FILE:LINE` of the first line holding `snippet`: where an error about it must point."""
    lines = path.read_text().splitlines()
    return f"{path}:{next(n for n, line in enumerate(lines, 1) if snippet in line)}"


def errors_of(path: Path) -> list[str]:
    with pytest.raises(config.ConfigError) as raised:
        config.load(path)
    return str(raised.value).splitlines()
